import Foundation

/// A condition a test waited for that did not come.
package struct TimedOut: Error, CustomStringConvertible {
    package let seconds: Double
    package var description: String { "timed out after \(seconds) s waiting for a condition" }
}

/// Polls `condition` every millisecond until it holds, and throws `TimedOut` after `seconds` of waiting.
/// Only the time this loop got to run counts: in the full suite, tests that work synchronously hold the
/// few cooperative threads, and the task that would make the condition true (a camera's thread started
/// from a task, say) may be queued behind them as long as this loop is. A gap between two polls longer
/// than `starvation` counts as that much, so the wait is at least `seconds`, and more when starved.
package func until(
    seconds: Double = 120, starvation: Duration = .milliseconds(50), _ condition: @Sendable () -> Bool
) async throws {
    let clock = ContinuousClock()
    var waited = Duration.zero, last = clock.now
    while !condition() {
        let now = clock.now
        waited += min(now - last, starvation)
        last = now
        guard waited < .seconds(seconds) else { throw TimedOut(seconds: seconds) }
        try await Task.sleep(for: .milliseconds(1))
    }
}

/// For tests that drive processes synchronously: polls `condition` every `interval` seconds until it holds
/// (true) or `seconds` have passed (false), so the caller says what it waited for.
package func polled(seconds: Double, interval: Double = 0.1, _ condition: () throws -> Bool) rethrows -> Bool {
    let clock = ContinuousClock(), end = clock.now + .seconds(seconds)
    while true {
        if try condition() { return true }
        guard clock.now < end else { return false }
        Thread.sleep(forTimeInterval: interval)
    }
}
