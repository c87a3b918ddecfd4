import Foundation

/// A condition a test waited for that did not come.
package struct TimedOut: Error, CustomStringConvertible {
    package let seconds: Double
    package var description: String { "timed out after \(seconds) s waiting for a condition" }
}

/// Polls `condition` every millisecond until it holds, and throws `TimedOut` after `seconds`: generous,
/// since in the full suite tests that wait synchronously can hold the few cooperative threads for a
/// while, and only something that never happens should fail here.
package func until(seconds: Double = 120, _ condition: @Sendable () -> Bool) async throws {
    let clock = ContinuousClock(), end = clock.now + .seconds(seconds)
    while !condition() {
        guard clock.now < end else { throw TimedOut(seconds: seconds) }
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
