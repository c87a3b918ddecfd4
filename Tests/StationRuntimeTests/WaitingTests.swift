import Foundation
import Synchronization
import TestSupport
import Testing

/// `until`, which the pipeline tests wait with: only the time its loop got to run counts.
@Suite("Waiting for a condition")
struct WaitingTests {
    @Test("a second of starvation between two polls counts as 50 ms: a 0.5 s wait still sees the condition come")
    func starvationIsNotWaiting() async throws {
        let polls = Mutex(0)
        try await until(seconds: 0.5) {
            let poll = polls.withLock { count in
                count += 1
                return count
            }
            // The first poll stands for the cooperative threads held by other tests' synchronous work.
            if poll == 1 { Thread.sleep(forTimeInterval: 1) }
            return poll >= 3
        }
        #expect(polls.withLock { $0 } == 3)
    }

    @Test("a condition that never comes times out after the seconds given")
    func neverComes() async throws {
        let start = ContinuousClock.now
        await #expect(throws: TimedOut.self) { try await until(seconds: 0.2) { false } }
        #expect(ContinuousClock.now - start >= .milliseconds(200))
    }
}
