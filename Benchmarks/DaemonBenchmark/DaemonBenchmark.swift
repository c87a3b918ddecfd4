import AsyncHTTPClient
import Crypto
import Foundation
import Imaging
import Logging
import NIOCore
import NIOFoundationCompat
import QRRendering
import Scanner
import Station
import StationModels
import StationRuntime
import TestSupport
import VirtualCard

/// Issue 4's daemon benchmarks, in one run (Benchmarks/daemon.sh):
/// - `POST /v1/scans` verdict latency over the real daemon's Unix socket, open-loop at 50 requests/s
///   (target p99 ≤ 10 ms), and the highest sustained rate with 8 clients;
/// - frame-to-event latency: a frame handed to the (fake) camera until its `scan.accepted` event
///   (target median ≤ 40 ms at 640×480), with the camera pipeline in-process;
/// - the daemon's resident memory, idle and streaming a fake camera (target ≤ 40 MiB).
/// Each latency is printed beside its baseline measured in the same run: the same work done directly
/// in-process (decode + verify + record for a frame, verify + record for a submitted token), so the
/// ratio is the cost of the daemon's plumbing on this machine at this moment.
@main
enum DaemonBenchmark {
    static func main() async throws {
        let arguments = CommandLine.arguments
        guard let daemonIndex = arguments.firstIndex(of: "--daemon") else {
            FileHandle.standardError.write(
                Data("usage: DaemonBenchmark --daemon PATH-TO-vhc-stationd [--requests N]\n".utf8))
            exit(2)
        }
        let daemonPath = arguments[daemonIndex + 1]
        let requests = arguments.firstIndex(of: "--requests").flatMap { Int(arguments[$0 + 1]) } ?? 500
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vhc-daemon-bench-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let authority = try Authority(folder: folder)
        let hisSamples = arguments.firstIndex(of: "--his-samples").flatMap { Int(arguments[$0 + 1]) } ?? 300
        if arguments.contains("--his-only") {
            try await hisBesideScanRoute(daemonPath: daemonPath, authority: authority, folder: folder, samples: hisSamples)
            return
        }

        say("## Frame to event (in-process camera pipeline, fake V4L2 device, 640×480)")
        let (frameLatencies, frameWork) = try await frameToEvent(authority: authority, folder: folder, samples: 40)
        report("frame → scan.accepted event", frameLatencies, baseline: "decode + verify + record", frameWork)

        say("\n## POST /v1/scans over the Unix socket (the release daemon)")
        let daemon = try Daemon(path: daemonPath, authority: authority, folder: folder, name: "api", camera: nil)
        defer { daemon.stop() }
        try await Task.sleep(for: .seconds(2))
        let idle = daemon.memory()  // started, lists installed, nothing asked yet
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let tokens = try (0..<(requests + 4000)).map { _ in try authority.token() }
        var next = tokens.makeIterator()
        // Warm up the connection pool and the daemon.
        for _ in 0..<20 { _ = try await submit(next.next()!, to: daemon.socket, client: client) }
        let openLoop = try await submitOpenLoop(
            (0..<requests).map { _ in next.next()! }, rate: 50, socket: daemon.socket, client: client)
        let direct = try inProcessSubmit(authority: authority, folder: folder, count: 300)
        report("verdict at 50 requests/s", openLoop, baseline: "the same verification in-process", direct)
        let (rate, saturated) = try await submitClosedLoop(
            tokens: Array(tokens.suffix(3900)), clients: 8, seconds: 4, socket: daemon.socket, client: client)
        say(
            String(
                format: "highest sustained rate, 8 clients: %.0f requests/s (p99 %.1f ms)", rate,
                percentile(saturated, 99)))
        let saturatedCount = saturated.count

        say("\n## Memory of vhc-stationd (RSS, its anonymous and file-backed parts, PSS)")
        let frames = folder + "/frames"
        try FileManager.default.createDirectory(atPath: frames, withIntermediateDirectories: true)
        try authority.frame(try authority.token()).writePNG(to: frames + "/phone.png")
        let streaming = try Daemon(
            path: daemonPath, authority: authority, folder: folder, name: "camera", camera: "fake:" + frames)
        defer { streaming.stop() }
        try await Task.sleep(for: .seconds(5))
        let status = try await get("/v1/status", socket: streaming.socket, client: client)
        let fps = ((status["camera"] as? [String: Any])?["framesPerSecond"] as? Double) ?? 0
        say("idle (started, API only): \(idle)")
        say("after \(requests + 20 + saturatedCount) API requests: \(daemon.memory())")
        say(String(format: "streaming a 640×480 camera at %.0f frames/s: ", fps) + streaming.memory())
        say("target: at most 40 MiB")
        try await client.shutdown()

        try await hisBesideScanRoute(daemonPath: daemonPath, authority: authority, folder: folder, samples: hisSamples)
    }

    // MARK: - Frame to event

    static func frameToEvent(authority: Authority, folder: String, samples: Int) async throws -> ([Double], [Double]) {
        let service = try authority.service(database: folder + "/frames.sqlite")
        let device = FakeCameraPlayer.standardDevice(path: "/dev/video-fake")
        let pipeline = CameraPipeline(
            path: "/dev/video-fake", width: 640, height: 480, service: service,
            logger: Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() }), system: device)
        let running = Task { try await pipeline.run() }
        defer { pipeline.stop() }
        var events = service.events.subscribe().makeAsyncIterator()
        var latencies: [Double] = []
        let clock = ContinuousClock()
        // Measure only once the camera streams (it opens on the pipeline's thread).
        while pipeline.cameraStatus().state != .streaming { try await Task.sleep(for: .milliseconds(10)) }
        for _ in 0..<(samples + 3) {
            let frame = try authority.frame(try authority.token())
            while !device.deliver(frame) { try await Task.sleep(for: .milliseconds(1)) }  // all buffers busy
            let start = clock.now  // the frame is in the driver's buffer, as after a camera's exposure
            while let event = await events.next(), event.type != .scanAccepted {}
            latencies.append(milliseconds(start.duration(to: clock.now)))
            try await Task.sleep(for: .milliseconds(60))
        }
        latencies.removeFirst(3)  // the camera's first frames (opening, negotiation)
        // Baseline: the same work without the camera and the event bus.
        let direct = try authority.service(database: folder + "/frames-direct.sqlite")
        let decoder = FrameDecoder()
        var work: [Double] = []
        for _ in 0..<samples {
            let frame = try authority.frame(try authority.token())
            let start = clock.now
            for code in decoder.decodeStreamFrame(frame) {
                _ = try direct.submit(Array(code.text.utf8), source: "camera")
            }
            work.append(milliseconds(start.duration(to: clock.now)))
        }
        pipeline.stop()
        try await running.value
        return (latencies, work)
    }

    // MARK: - API

    static func submit(_ token: String, to socket: String, client: HTTPClient) async throws -> Double {
        var request = HTTPClientRequest(
            url: "http+unix://\(socket.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)/v1/scans")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: #"{"token":"\#(token)","source":"bench"}"#))
        let clock = ContinuousClock(), start = clock.now
        let response = try await client.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok, String(buffer: body).contains(#""accepted":true"#) else {
            throw BenchmarkError("unexpected answer \(response.status): \(String(buffer: body))")
        }
        return milliseconds(start.duration(to: clock.now))
    }

    static func get(_ path: String, socket: String, client: HTTPClient) async throws -> [String: Any] {
        let request = HTTPClientRequest(
            url: "http+unix://\(socket.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)\(path)")
        let response = try await client.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return (try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]) ?? [:]
    }

    /// Requests sent on a fixed schedule (not waiting for answers), as a busy front desk and HIS would.
    static func submitOpenLoop(
        _ tokens: [String], rate: Double, socket: String, client: HTTPClient
    ) async throws -> [Double] {
        let clock = ContinuousClock(), start = clock.now
        return try await withThrowingTaskGroup(of: Double.self) { group in
            for (index, token) in tokens.enumerated() {
                try await clock.sleep(until: start.advanced(by: .seconds(Double(index) / rate)))
                group.addTask { try await submit(token, to: socket, client: client) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }

    static func submitClosedLoop(
        tokens: [String], clients: Int, seconds: Double, socket: String, client: HTTPClient
    ) async throws -> (Double, [Double]) {
        let clock = ContinuousClock(), start = clock.now, end = start.advanced(by: .seconds(seconds))
        let shares = (0..<clients).map { index in stride(from: index, to: tokens.count, by: clients).map { tokens[$0] }
        }
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for share in shares {
                group.addTask {
                    var mine: [Double] = []
                    for token in share where clock.now < end {
                        mine.append(try await submit(token, to: socket, client: client))
                    }
                    return mine
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        return (Double(latencies.count) / milliseconds(start.duration(to: clock.now)) * 1000, latencies)
    }

    static func inProcessSubmit(authority: Authority, folder: String, count: Int) throws -> [Double] {
        let service = try authority.service(database: folder + "/direct.sqlite")
        let clock = ContinuousClock()
        return try (0..<count).map { _ in
            let token = Array(try authority.token().utf8)
            let start = clock.now
            _ = try service.submit(token, source: "bench")
            return milliseconds(start.duration(to: clock.now))
        }
    }

    // MARK: - Report

    static func report(_ what: String, _ values: [Double], baseline: String, _ base: [Double]) {
        let median = percentile(values, 50), p99 = percentile(values, 99)
        let baseMedian = percentile(base, 50)
        say(
            String(
                format: "%@: median %.1f ms, p99 %.1f ms, max %.1f ms (%d samples)", what, median, p99,
                values.max() ?? 0, values.count))
        say(
            String(
                format: "baseline, %@: median %.1f ms; ratio of medians %.2f", baseline, baseMedian,
                median / max(baseMedian, 0.001)))
    }

    static func percentile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int((p / 100 * Double(sorted.count - 1)).rounded()))]
    }

    static func milliseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}

/// One line on standard output, unbuffered, so a pipe sees each result as it comes.
func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

struct BenchmarkError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Keys, a trust list on disk, and fresh tokens issued now (the daemon uses the real clock).
struct Authority {
    let root = P256.Signing.PrivateKey()
    let tokenKey = P256.Signing.PrivateKey()
    let rootPath: String
    let trustListPath: String

    init(folder: String) throws {
        rootPath = folder + "/root.pub"
        trustListPath = folder + "/trust-list.cose"
        try root.publicKey.pemRepresentation.write(toFile: rootPath, atomically: false, encoding: .utf8)
        let now = Int64(Date().timeIntervalSince1970)
        let list = try TrustList.build(
            issuer: "BENCH", sequence: 1, issuedAt: now - 60, expiresAt: now + 86_400,
            keys: [
                .init(publicKey: tokenKey.publicKey, usage: .tokenSigning, notBefore: now - 60, notAfter: now + 86_400)
            ],
            root: root)
        try Data(list).write(to: URL(fileURLWithPath: trustListPath))
    }

    func token() throws -> String {
        let now = Int64(Date().timeIntervalSince1970)
        let claims = TokenClaims(
            issuer: "BENCH", issuedAt: now, expiresAt: now + 300, tokenID: TokenIssuer.newTokenID(),
            holder: .init(
                id: "A123456789", name: "王小明", birthDate: CalendarDate(year: 1980, month: 5, day: 17)!, photo: .verified
            ))
        return try TokenIssuer(signingKey: tokenKey, issuer: "BENCH").issue(claims)
    }

    /// A token's QR code at 4 camera pixels per module in a 640×480 frame.
    func frame(_ token: String) throws -> GrayImage {
        let code = try QRCode.alphanumeric(token).image(pixelsPerModule: 4)
        var canvas = GrayImage(width: 640, height: 480, filledWith: 190)
        for y in 0..<code.height { for x in 0..<code.width { canvas[120 + x, 70 + y] = code[x, y] } }
        return canvas
    }

    func service(database: String) throws -> StationService {
        let policy = StationPolicy(
            database: try StationDatabase(path: database), root: root.publicKey,
            settings: .init(institution: "0123456789"))
        let list = try [UInt8](Data(contentsOf: URL(fileURLWithPath: trustListPath)))
        try policy.trust.install(.trust, cose: list, root: root.publicKey, now: Int64(Date().timeIntervalSince1970))
        return StationService(policy: policy, clock: { Int64(Date().timeIntervalSince1970) })
    }
}

/// A vhc-stationd process on its own socket and database.
final class Daemon {
    let process = Process()
    let socket: String

    init(
        path: String, authority: Authority, folder: String, name: String, camera: String?, options: [String] = []
    ) throws {
        socket = folder + "/\(name).sock"
        process.executableURL = URL(fileURLWithPath: path)
        var arguments = [
            "--no-config", "--institution", "0123456789", "--root", authority.rootPath, "--trust-list",
            authority.trustListPath, "--database", folder + "/\(name).sqlite", "--socket", socket,
        ]
        if let camera { arguments += ["--camera", camera] }
        process.arguments = arguments + options
        // The environment the systemd unit gives it (systemd/vhc-stationd.service).
        process.environment = ProcessInfo.processInfo.environment.merging(["MALLOC_ARENA_MAX": "2"]) { $1 }
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: socket) { Thread.sleep(forTimeInterval: 0.05) }
        Thread.sleep(forTimeInterval: 0.2)
    }

    /// VmRSS from /proc, in MiB.
    func residentMiB() -> Double { Loopback.residentMiB(of: process.processIdentifier) }

    /// RSS with its anonymous and file-backed parts, and PSS.
    func memory() -> String { Loopback.memoryReport(of: process.processIdentifier) }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}
