import Imaging

/// Keeps a camera delivering frames without a restart of the station:
/// - `EAGAIN` and `EIO` from a dequeue are transient: count them and carry on;
/// - no frame for `stallTimeout` seconds: close and reopen the device;
/// - `ENODEV` (unplugged), or a device that cannot be opened: close and retry opening after
///   `retryInterval` seconds, twice as long after each failure in a row up to `maximumRetryInterval` (a
///   station set up without its camera tries a few times a minute, not twice a second for ever), and from
///   the start again once it opens.
/// Time comes from `now` (monotonic seconds), so tests can drive it. One thread calls `step`.
package final class CaptureSupervisor {
    package enum Event: Hashable, Sendable {
        case opened(CaptureFormat)
        case openFailed(CameraError.Code)
        case stalled
        case unplugged
        case failed(CameraError.Code)
    }

    package enum Step: Sendable {
        case frame(GrayImage)
        case idle
        /// The device is closed; `step` will try to open it again after the retry interval.
        case waitingForDevice
    }

    package let camera: V4L2Camera
    package let stallTimeout: Double
    package let retryInterval: Double
    package let maximumRetryInterval: Double
    let now: @Sendable () -> Double
    /// Opens that failed in a row since the camera last opened.
    package private(set) var openFailures = 0
    private var lastFrameAt: Double = 0
    private var nextOpenAttempt: Double = 0
    package private(set) var events: [Event] = []
    /// Called for every event as it happens (status lines, logs).
    package var onEvent: ((Event) -> Void)?

    package init(
        camera: V4L2Camera, stallTimeout: Double = 2, retryInterval: Double = 0.5, maximumRetryInterval: Double = 5,
        now: @escaping @Sendable () -> Double = MonotonicSeconds.now
    ) {
        self.camera = camera
        self.stallTimeout = stallTimeout
        self.retryInterval = retryInterval
        self.maximumRetryInterval = maximumRetryInterval
        self.now = now
    }

    /// One round: open if needed (and due), else wait up to `timeoutMilliseconds` for a frame.
    package func step(timeoutMilliseconds: Int32 = 100) -> Step {
        let time = now()
        if !camera.isOpen {
            guard time >= nextOpenAttempt else { return .waitingForDevice }
            do {
                try camera.open()
                lastFrameAt = time
                openFailures = 0
                record(.opened(camera.format!))
            } catch {
                openFailures += 1
                nextOpenAttempt =
                    time
                    + RetryBackoff.delay(afterFailures: openFailures, initial: retryInterval, maximum: maximumRetryInterval)
                record(.openFailed(error.code))
                return .waitingForDevice
            }
        }
        do {
            if let frame = try camera.nextFrame(timeoutMilliseconds: timeoutMilliseconds) {
                lastFrameAt = now()
                return .frame(frame)
            }
            if now() - lastFrameAt > stallTimeout {
                record(.stalled)
                camera.close()  // reopened on the next step
            }
            return .idle
        } catch {
            camera.close()
            nextOpenAttempt = now() + retryInterval
            record(error.code == .unplugged ? .unplugged : .failed(error.code))
            return .waitingForDevice
        }
    }

    private func record(_ event: Event) {
        events.append(event)
        if events.count > 1000 { events.removeFirst(events.count - 1000) }
        onEvent?(event)
    }
}

/// Monotonic seconds since an arbitrary fixed origin, for timers that must not jump with the wall clock.
package enum MonotonicSeconds {
    static let origin = ContinuousClock.now

    @Sendable package static func now() -> Double {
        let (seconds, attoseconds) = (ContinuousClock.now - origin).components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
