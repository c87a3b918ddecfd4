import Foundation
import Imaging
import Logging
import QRRendering
import Scanner
import ServiceLifecycle
import Station
import StationMetrics
import StationModels
import StationRuntime
import StationTestSupport
import TestSupport
import Testing

@Suite("The daemon's camera pipeline, in-process on a fake V4L2 device")
struct CameraPipelineTests {
    let folder = try! TemporaryFolder(prefix: "vhc-runtime")
    let authority = TestAuthority()

    func setUp() throws -> (StationService, FakeV4L2Device, CameraPipeline) {
        let policy = try authority.station(in: folder)
        let service = StationService(policy: policy, clock: { TestAuthority.now })
        let device = FakeCameraPlayer.standardDevice(path: "/dev/video-fake")
        let pipeline = CameraPipeline(
            path: "/dev/video-fake", width: 640, height: 480, service: service,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), system: device)
        return (service, device, pipeline)
    }

    @Test("no camera: one warning naming the device, not one a retry; the status says it waits for the device")
    func missingCameraIsLoggedOnce() async throws {
        let policy = try authority.station(in: folder)
        let service = StationService(policy: policy, clock: { TestAuthority.now })
        let device = FakeCameraPlayer.standardDevice(path: "/dev/video-fake")
        device.unplug()
        let lines = CapturedLog()
        let pipeline = CameraPipeline(
            path: "/dev/video-fake", width: 640, height: 480, service: service,
            logger: Logger(label: "test", factory: { _ in lines }), system: device)
        let running = Task { try await pipeline.run() }
        func warnings() -> [String] { lines.messages.filter { $0.contains("camera cannot be opened") } }
        // The first warning (a loaded machine may take seconds to start the camera's thread), then two more
        // seconds of retries: at a fixed half second, four more warnings; now none (the next is a minute away).
        let deadline = ContinuousClock.now + .seconds(30)
        while warnings().isEmpty, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        try await Task.sleep(for: .seconds(2))
        pipeline.stop()
        try await running.value
        let warnings = warnings()
        #expect(warnings.count == 1, "\(lines.messages)")
        #expect(warnings.first?.contains("/dev/video-fake") == true, "\(warnings)")
        #expect(pipeline.cameraStatus().state == .waitingForDevice)
    }

    @Test("a camera.size the camera does not offer is said in the log, with the size it streams")
    func sizeNotOffered() async throws {
        let policy = try authority.station(in: folder)
        let service = StationService(policy: policy, clock: { TestAuthority.now })
        let lines = CapturedLog()
        let pipeline = CameraPipeline(
            path: "/dev/video-fake", width: 800, height: 600, service: service,
            logger: Logger(label: "test", factory: { _ in lines }), system: FakeCameraPlayer.standardDevice(path: "/dev/video-fake"))
        let running = Task { try await pipeline.run() }
        try await until(seconds: 30) { pipeline.cameraStatus().state == .streaming }
        pipeline.stop()
        try await running.value
        let warning = lines.messages.first { $0.contains("does not offer camera.size") }
        #expect(warning?.contains("800×600") == true && warning?.contains("streams") == true, "\(lines.messages)")
    }

    @Test("frames the camera skipped or found broken are counted once each, however often the counts are read")
    func droppedFramesCounted() {
        let exposition = PrometheusExposition(version: "1", commit: "unknown")
        var camera = V4L2Camera.Counters()
        camera.delivered = 10
        camera.skipped = 3
        var counted = CameraPipeline.countDrops(camera, since: V4L2Camera.Counters(), into: exposition.metrics)
        counted = CameraPipeline.countDrops(camera, since: counted, into: exposition.metrics)  // nothing new
        camera.skipped = 5  // later, across a reopening: the camera's counts run on
        camera.broken = 1
        _ = CameraPipeline.countDrops(camera, since: counted, into: exposition.metrics)
        let text = exposition.registry.emitToString()
        #expect(text.contains(#"vhc_camera_frames_dropped_total{reason="skipped"} 5"#), "\(text)")
        #expect(text.contains(#"vhc_camera_frames_dropped_total{reason="broken"} 1"#))
    }

    /// The token as a phone would show it, in a 640×480 camera frame.
    func frame(_ token: [UInt8]) throws -> GrayImage {
        let code = try QRCode.alphanumeric(String(decoding: token, as: UTF8.self)).image(pixelsPerModule: 4)
        var canvas = GrayImage(width: 640, height: 480, filledWith: 200)
        for y in 0..<code.height { for x in 0..<code.width { canvas[100 + x, 60 + y] = code[x, y] } }
        return canvas
    }

    @Test("fake camera frames → session opened → events received, with the camera's status")
    func endToEnd() async throws {
        let (service, device, pipeline) = try setUp()
        let events = service.events.subscribe()
        let running = Task { try await pipeline.run() }
        let image = try frame(try authority.token())
        let feeder = Task {
            while !Task.isCancelled {
                _ = device.deliver(image)
                try await Task.sleep(for: .milliseconds(33))
            }
        }
        var received: [StationEvent] = []
        for await event in events {
            received.append(event)
            if event.type == .scanAccepted { break }
        }
        feeder.cancel()
        #expect(received.map(\.type) == [.sessionOpened, .scanAccepted])
        #expect(received.last?.source == "camera" && received.last?.holder == "A12****789 王**")
        let sessions = try service.sessions.list()
        #expect(sessions.count == 1 && sessions.first?.source == "camera")
        let status = pipeline.cameraStatus()
        #expect(status.state == .streaming && status.lastRead?.code == .valid)
        pipeline.stop()
        try await running.value
    }

    @Test("fake:DIR follows its directory: a card renamed in is seen, then the next card that replaces it")
    func sceneDirectory() async throws {
        let policy = try authority.station(in: folder)
        let service = StationService(policy: policy, clock: { TestAuthority.now })
        let scene = folder.path("scene")
        try FileManager.default.createDirectory(atPath: scene, withIntermediateDirectories: true)
        // No phone in view at first: a plain frame.
        try GrayImage(width: 640, height: 480, filledWith: 200).writePNG(to: scene + "/frame.png")
        let pipeline = CameraPipeline(
            path: "fake:" + scene, width: 640, height: 480, service: service,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let events = service.events.subscribe()
        let running = Task { try await pipeline.run() }
        var holders: [String] = []
        for (id, name) in [("A123456789", "王小明"), ("B220000000", "林美玲")] {
            // Written aside, then renamed over the scene: the camera never sees half a picture.
            try frame(try authority.token(holderID: id, name: name)).writePNG(to: folder.path("card.png"))
            #expect(rename(folder.path("card.png"), scene + "/frame.png") == 0)
            for await event in events where event.type == .scanAccepted {
                holders.append(event.holder ?? "")
                break
            }
        }
        #expect(holders == ["A12****789 王**", "B22****000 林**"])
        pipeline.stop()
        try await running.value
    }

    @Test("a code whose payload is not text is ignored and counted by its reason in the camera's status")
    func ignoredReads() async throws {
        let (service, device, pipeline) = try setUp()
        let running = Task { try await pipeline.run() }
        let code = try QRCode.bytes([0x00, 0xFF, 0x80, 0x41, 0x42]).image(pixelsPerModule: 6)
        var image = GrayImage(width: 640, height: 480, filledWith: 200)
        for y in 0..<code.height { for x in 0..<code.width { image[100 + x, 60 + y] = code[x, y] } }
        for _ in 0..<300 where pipeline.cameraStatus().ignoredReads.notPrintableASCII == 0 {
            _ = device.deliver(image)
            try await Task.sleep(for: .milliseconds(33))
        }
        #expect(pipeline.cameraStatus().ignoredReads.notPrintableASCII > 0)
        #expect(pipeline.cameraStatus().ignoredReads.empty == 0)
        #expect(try service.sessions.list().isEmpty && pipeline.cameraStatus().lastRead == nil)
        pipeline.stop()
        try await running.value
    }

    @Test("a graceful shutdown while frames arrive loses nothing: each consumed token has its session")
    func gracefulShutdown() async throws {
        let (service, device, pipeline) = try setUp()
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: pipeline)],
                logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })))
        let running = Task { try await group.run() }
        let images = try (0..<4).map { try frame(try authority.token(holderID: taiwanID("A1000000\($0)"))) }
        // The camera opens on the pipeline's thread: frames before that would go nowhere.
        while pipeline.cameraStatus().state != .streaming { try await Task.sleep(for: .milliseconds(5)) }
        for image in images {
            while !device.deliver(image) { try await Task.sleep(for: .milliseconds(2)) }
            try await Task.sleep(for: .milliseconds(20))
        }
        await group.triggerGracefulShutdown()
        try await running.value
        // Whatever was scanned before the stop is whole: replay record, session and audit entries together.
        let consumed = try SQLiteConsumedTokenStore(database: service.policy.database).count()
        #expect(consumed >= 1)  // the frames delivered well before the stop were scanned
        #expect(consumed == (try service.sessions.list().count))
        #expect(try service.audit.verify().isIntact)
    }
}

/// A log handler that keeps each message with its metadata, for tests of what is logged.
final class CapturedLog: LogHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    var messages: [String] { lock.withLock { lines } }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let line = "\(event.message) \(event.metadata ?? [:])"
        lock.withLock { lines.append(line) }
    }
}
