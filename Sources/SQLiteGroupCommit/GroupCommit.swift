import GRDB
import Synchronization

/// Group commit for the hot write path: the writes that arrive while a transaction is running wait,
/// then run together in the next one, each in a savepoint of its own. A write that fails rolls back
/// its savepoint alone, unless SQLite rolled back the whole transaction for it (a full disk, an I/O
/// error): then every write of the batch fails with that cause; every caller is answered only after the transaction commits, so an answer is
/// never sent for something not yet durable. SQLite serialises writers, so one transaction per opening
/// caps the rate at one commit's time; many per commit share its cost, and one wake of the writer's
/// thread serves the batch. (GRDB has no such batching; this is the project's own.)
///
/// The batch runs on GRDB's writer queue, never on Swift's cooperative threads: a write that waits for
/// another process's lock (the busy timeout) holds only that queue.
package final class GroupCommit: Sendable {
    private struct Job: Sendable {
        /// Runs the write inside the batch's transaction; returns how to answer its caller, or throws
        /// when its failure ended the transaction itself.
        let run: @Sendable (Database) throws -> @Sendable () -> Void
        /// Answers the caller when the whole transaction failed.
        let fail: @Sendable (any Error) -> Void
    }

    private let pool: DatabasePool
    private let maximumBatch: Int
    private let state = Mutex<(queue: [Job], draining: Bool)>(([], false))

    package init(pool: DatabasePool, maximumBatch: Int = 64) {
        self.pool = pool
        self.maximumBatch = maximumBatch
    }

    /// Runs `work` in the next batch's transaction, in a savepoint of its own; returns once committed.
    package func write<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let job = Job(
                run: { db in
                    do {
                        var value: T?
                        try db.inSavepoint {
                            value = try work(db)
                            return .commit
                        }
                        let result = value!
                        return { continuation.resume(returning: result) }
                    } catch {
                        // SQLITE_FULL and I/O errors roll back the whole transaction, not the savepoint:
                        // the batch is lost, and this is why (the commit would say only "aborted").
                        guard db.isInsideTransaction else { throw error }
                        return { continuation.resume(throwing: error) }
                    }
                },
                fail: { continuation.resume(throwing: $0) })
            let start = state.withLock { state -> Bool in
                state.queue.append(job)
                guard !state.draining else { return false }
                state.draining = true
                return true
            }
            if start { Task { await self.drain() } }
        }
    }

    /// Commits batches until no write is waiting.
    private func drain() async {
        while true {
            let batch = state.withLock { state -> [Job] in
                let batch = Array(state.queue.prefix(maximumBatch))
                state.queue.removeFirst(batch.count)
                if batch.isEmpty { state.draining = false }
                return batch
            }
            if batch.isEmpty { return }
            do {
                let answers = try await pool.write { db in try batch.map { try $0.run(db) } }
                for answer in answers { answer() }
            } catch {
                for job in batch { job.fail(error) }
            }
        }
    }
}
