import Scanner
import Synchronization

/// When a repeated warning was last logged, for one at most every so often (the camera's and the
/// scanners' open failures).
final class LastWarning: Sendable {
    private let at = Mutex<Double?>(nil)

    /// True (and now remembered) when no warning was logged in the last `seconds`.
    func due(every seconds: Double) -> Bool {
        let now = MonotonicSeconds.now()
        return at.withLock { at in
            guard at.map({ now - $0 >= seconds }) ?? true else { return false }
            at = now
            return true
        }
    }

    /// The trouble is over: the next one is told at once.
    func reset() { at.withLock { $0 = nil } }
}
