import Foundation
import Logging
import Scanner
import ServiceLifecycle
import Station
import StationMetrics
import StationModels
import Synchronization

/// The camera side of the daemon: capture (with its recovery), decode each frame as part of a
/// stream, de-duplicate, and hand each new code to the station. Capture and decoding block, so they
/// run on a thread of their own; a graceful shutdown lets the frame in hand (and its scan) finish.
package final class CameraPipeline: Service, CameraStatusProviding {
    let path: String
    let width: Int
    let height: Int
    let service: StationService
    let logger: Logger
    /// The device's system calls, when given (tests and benchmarks pass an in-memory device); else
    /// they come from the path (libv4l2, or a fake device playing images for `fake:` paths).
    let system: (any VideoDeviceSystem)?
    private let status: Mutex<CameraStatus>
    private let stopRequested = Atomic<Bool>(false)
    /// Frame arrival times in the last second, for the status's frames per second.
    private let frameTimes = Mutex<[Double]>([])

    package init(
        path: String, width: Int, height: Int, service: StationService, logger: Logger,
        system: (any VideoDeviceSystem)? = nil
    ) {
        self.system = system
        self.path = path
        self.width = width
        self.height = height
        self.service = service
        self.logger = logger
        status = Mutex(CameraStatus(state: .opening, device: path))
    }

    package func cameraStatus() -> CameraStatus {
        let now = MonotonicSeconds.now()
        let rate = frameTimes.withLock { times in Double(times.filter { now - $0 <= 1 }.count) }
        return status.withLock { status in
            var current = status
            current.framesPerSecond = current.state == .streaming ? rate : 0
            return current
        }
    }

    package func run() async throws {
        try await withGracefulShutdownHandler {
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    let thread = Thread {
                        do {
                            try self.capture()
                            continuation.resume()
                        } catch {
                            continuation.resume(throwing: error)
                        }
                    }
                    thread.name = "camera"
                    thread.start()
                }
            } onCancel: {
                self.stop()
            }
        } onGracefulShutdown: {
            self.stop()
        }
    }

    package func stop() { stopRequested.store(true, ordering: .relaxed) }

    private func capture() throws {
        let (system, player) = try self.system.map { ($0, nil) } ?? CameraSource.system(for: path)
        defer { player?.stop() }
        let camera = V4L2Camera(
            path: CameraSource.devicePath(path), options: .init(width: width, height: height), system: system)
        let supervisor = CaptureSupervisor(camera: camera)
        let openWarning = LastWarning()
        supervisor.onEvent = { [self, unowned supervisor] event in
            let state: CameraStatus.State
            var error: String?
            switch event {
            case .opened(let format):
                openWarning.reset()
                logger.info("camera opened", metadata: ["device": "\(self.path)", "format": "\(format)"])
                if format.width != width || format.height != height {
                    // The driver chose the size nearest to camera.size: say so, or 800x600 passes unnoticed.
                    logger.warning(
                        "the camera does not offer camera.size; it streams another size",
                        metadata: ["asked": "\(width)×\(height)", "streams": "\(format.width)×\(format.height)"])
                }
                state = .streaming
            case .openFailed(let code):
                // The first failure at once, then at most once a minute with how many since: a station set
                // up without its camera does not fill the journal.
                if openWarning.due(every: 60) {
                    logger.warning(
                        "camera cannot be opened; retrying, at most every \(Int(supervisor.maximumRetryInterval)) s",
                        metadata: [
                            "device": "\(self.path)", "code": "\(code)", "failures": "\(supervisor.openFailures)",
                        ])
                }
                state = .waitingForDevice
                error = code.rawValue
            case .stalled:
                logger.warning("camera stalled; reopening")
                state = .stalled
            case .unplugged:
                logger.warning("camera unplugged; waiting for it")
                state = .waitingForDevice
                error = CameraError.Code.unplugged.rawValue  // vhc doctor and the page say why it waits
            case .failed(let code):
                logger.error("camera failed", metadata: ["code": "\(code)"])
                state = .failed
                error = code.rawValue
            }
            self.status.withLock {
                $0.state = state
                // An unplugged camera stays `camera_unplugged` while its device is missing (the retries'
                // ENOENT), until it opens again or fails otherwise: that is what happened to it.
                let stillUnplugged =
                    $0.lastError == CameraError.Code.unplugged.rawValue && error == CameraError.Code.missing.rawValue
                if state == .streaming {
                    $0.lastError = nil
                } else if let error, !stillUnplugged {
                    $0.lastError = error
                }
            }
        }
        let decoder = FrameDecoder()
        var recent = RecentPayloads(window: 5)
        var reportedDrops = decoder.droppedPayloads
        var counted = V4L2Camera.Counters()  // the camera's counts already given to the metrics
        let clock = ContinuousClock()
        while !stopRequested.load(ordering: .relaxed) {
            let step = supervisor.step(timeoutMilliseconds: 200)
            // After every step: a broken frame returns none, and is counted all the same.
            counted = Self.countDrops(camera.counters, since: counted, into: service.metrics)
            switch step {
            case .frame(let frame):
                let arrived = MonotonicSeconds.now()
                frameTimes.withLock { times in
                    times.append(arrived)
                    times.removeAll { arrived - $0 > 1 }
                }
                let decodeStarted = clock.now
                let codes = decoder.decodeStreamFrame(frame)
                service.metrics.frameDecoded(in: decodeStarted.duration(to: clock.now))
                for code in codes where recent.isNew(code.text, at: arrived) {
                    submit(code)
                }
                // The status's lock is taken only when a count moved, not on every frame.
                let dropped = decoder.droppedPayloads
                if dropped != reportedDrops {
                    reportedDrops = dropped
                    status.withLock {
                        $0.ignoredReads = .init(
                            empty: dropped[.empty] ?? 0, notPrintableASCII: dropped[.notPrintableASCII] ?? 0)
                    }
                }
            case .idle:
                continue
            case .waitingForDevice:
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        camera.close()
    }

    /// The frames the camera skipped (a newer one was ready) or found broken since `counted`, added to the
    /// metrics. The camera's counts run for its whole life, across reopenings.
    package static func countDrops(
        _ now: V4L2Camera.Counters, since counted: V4L2Camera.Counters, into metrics: StationMetrics
    ) -> V4L2Camera.Counters {
        metrics.framesDropped(now.skipped - counted.skipped, reason: "skipped")
        metrics.framesDropped(now.broken - counted.broken, reason: "broken")
        return now
    }

    private func submit(_ code: DecodedCode) {
        do {
            let outcome = try service.submit(Array(code.text.utf8), source: "camera")
            status.withLock {
                $0.lastRead = .init(at: service.clock(), code: outcome.code, holder: outcome.maskedHolder)
            }
            // Never the token: the code, the masked holder and the pass that read it.
            logger.info(
                "scan",
                metadata: [
                    "code": "\(outcome.code)", "holder": "\(outcome.maskedHolder ?? "-")", "pass": "\(code.pass)",
                ])
        } catch {
            service.policy.database.storage.record(error, at: service.clock())
            logger.error("the station could not record a scan", metadata: ["error": "\(error)"])
        }
    }
}
