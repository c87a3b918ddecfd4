import Synchronization

/// How the rest of the station asks one of the link's loops (the outbox drain, the consumed-id upload)
/// to run: a wake-up (something was added), or a flush that waits until a run that started after it has
/// finished. Each loop is the only code that does its sending; callers never run it themselves, so an
/// opening (or an upload) is never in flight twice from this station.
final class RunRequests: Sendable {
    private struct State {
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
        /// The cloud came back: what waited out a backoff is due now.
        var cameBack = false
    }

    private let state = Mutex(State())
    private let wakeups = WakeSignal()

    /// The drain loop's wake-ups.
    var stream: AsyncStream<Void> { wakeups.stream }

    func wake() { wakeups.fire() }

    func cloudCameBack() {
        state.withLock { $0.cameBack = true }
        wake()
    }

    /// Ends the wake-ups (the daemon stops); waiting flushes are let go.
    func finish() {
        wakeups.finish()
        for waiter in state.withLock({ state in defer { state.waiters = [:] }; return state.waiters.values }) {
            waiter.resume()
        }
    }

    /// Asks for a drain and returns when one that started after this call has finished, or when
    /// `timeout` passes (a drain still waiting on the cloud goes on without the caller).
    func flush(timeout: Duration) async {
        let id = state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    self.state.withLock { $0.waiters[id] = continuation }
                    self.wake()
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                self.release(id)
            }
            await group.next()
            group.cancelAll()
            self.release(id)
        }
    }

    private func release(_ id: Int) {
        state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
    }

    /// Taken by the loop as it starts a run: the flushes it will answer when done (`end`), and whether
    /// the cloud came back. A flush stays releasable by its own timeout until then.
    func begin() -> (run: Run, cameBack: Bool) {
        state.withLock { state in
            defer { state.cameBack = false }
            return (Run(waiters: Set(state.waiters.keys)), state.cameBack)
        }
    }

    /// The flushes a run answers.
    struct Run: Sendable {
        let waiters: Set<Int>
        var isRequested: Bool { !waiters.isEmpty }
    }

    /// The run is over: the flushes that were waiting when it began and have not timed out return now.
    func end(_ run: Run) {
        for id in run.waiters { release(id) }
    }
}

/// A wake-up for a loop: fired any number of times while the loop works, it runs the loop once more.
final class WakeSignal: Sendable {
    let stream: AsyncStream<Void>
    private let sink: AsyncStream<Void>.Continuation

    init() { (stream, sink) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1)) }

    func fire() { sink.yield() }
    func finish() { sink.finish() }
}
