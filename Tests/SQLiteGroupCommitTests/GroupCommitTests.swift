import Foundation
import GRDB
import Synchronization
import TestSupport
import Testing

import SQLiteGroupCommit

/// `GroupCommit` on a real WAL database: writes that arrive while a transaction runs are committed
/// together in the next one, each in its own savepoint, and each caller is answered after the commit.
@Suite("Group commit: batched transactions, one savepoint per write")
struct GroupCommitTests {
    typealias Body = @Sendable (Database) throws -> Int64

    let folder = try! TemporaryFolder(prefix: "vhc-group-commit")

    /// A pool with one table a write adds its caller's row to, and a deferred foreign key that only
    /// COMMIT checks (a way to make a whole transaction fail). `batches` sees what each commit kept.
    private func database() throws -> (DatabasePool, CommitLog) {
        let pool = try DatabasePool(path: folder.path("group.sqlite"))
        try pool.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE unit (caller INTEGER PRIMARY KEY);
                    CREATE TABLE parent (id INTEGER PRIMARY KEY);
                    CREATE TABLE child (
                        id INTEGER PRIMARY KEY,
                        parent INTEGER NOT NULL REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);
                    """)
        }
        let log = CommitLog()
        pool.add(transactionObserver: log)
        return (pool, log)
    }

    static func insert(_ db: Database, _ caller: Int) throws -> Int64 {
        try db.execute(sql: "INSERT INTO unit (caller) VALUES (?)", arguments: [caller])
        return db.lastInsertedRowID
    }

    static func callers(_ pool: DatabasePool) throws -> [Int] {
        try pool.read { db in try Int.fetchAll(db, sql: "SELECT caller FROM unit ORDER BY caller") }
    }

    /// Holds the writer in a first transaction until every write of `bodies` is queued behind it, so
    /// that those are committed in batches whatever the machine's speed. Returns the results in the
    /// order of `bodies`, the held write's first.
    private static func behindAHeldWrite(
        _ commit: GroupCommit, held: @escaping Body, _ bodies: [Body]
    ) async throws -> [Result<Int64, any Error>] {
        let gate = Gate()
        async let first = outcome {
            try await commit.write { db in
                gate.enter()
                gate.waitForRelease()
                return try held(db)
            }
        }
        try await until { gate.entered }
        let submitted = Counter()
        let rest = try await withThrowingTaskGroup(of: (Int, Result<Int64, any Error>).self) { group in
            for (index, body) in bodies.enumerated() {
                group.addTask {
                    submitted.increment()
                    return (index, await outcome { try await commit.write(body) })
                }
            }
            try await until { submitted.value == bodies.count }
            // From a task's start to its write being queued is a few instructions: leave them time.
            try await Task.sleep(for: .milliseconds(200))
            gate.release()
            var results = [Result<Int64, any Error>?](repeating: nil, count: bodies.count)
            for try await (index, result) in group { results[index] = result }
            return results.map { $0! }
        }
        return [await first] + rest
    }

    private static func outcome(_ body: () async throws -> Int64) async -> Result<Int64, any Error> {
        do { return .success(try await body()) } catch { return .failure(error) }
    }

    @Test("many concurrent writes all commit, each caller gets its own answer, after its commit")
    func concurrentWrites() async throws {
        let (pool, _) = try database()
        let commit = GroupCommit(pool: pool)
        let count = 200
        let answers = try await withThrowingTaskGroup(of: (Int, Int, Int64, Bool).self) { group in
            for caller in 1...count {
                group.addTask {
                    let (echo, rowID) = try await commit.write { db in (caller, try Self.insert(db, caller)) }
                    // Answered only once durable: a fresh read already sees the write.
                    let visible = try await pool.read { db in
                        try Bool.fetchOne(db, sql: "SELECT 1 FROM unit WHERE caller = ?", arguments: [caller]) ?? false
                    }
                    return (caller, echo, rowID, visible)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(answers.count == count)
        for (caller, echo, rowID, visible) in answers {
            #expect(echo == caller)
            #expect(rowID == Int64(caller))
            #expect(visible, "caller \(caller) was answered before its write could be read")
        }
        #expect(try Self.callers(pool) == Array(1...count))
    }

    @Test("writes queued behind a transaction share the next ones: fewer commits, none over the maximum")
    func batches() async throws {
        let (pool, log) = try database()
        let commit = GroupCommit(pool: pool, maximumBatch: 16)
        let queued = 40
        let results = try await Self.behindAHeldWrite(
            commit, held: { db in try Self.insert(db, 0) },
            (1...queued).map { caller -> Body in { db in try Self.insert(db, caller) } })
        #expect(try results.map { try $0.get() } == (0...queued).map { Int64($0) })
        let batches = log.batches
        #expect(batches.reduce(0, +) == queued + 1)
        #expect(batches.first == 1, "the held write commits alone")
        #expect(batches.dropFirst().first == 16, "the next transaction takes a full batch")
        #expect(batches.allSatisfy { $0 <= 16 })
        #expect(batches.count >= 1 + 3 && batches.count <= 1 + 5, "\(batches)")
        #expect(try Self.callers(pool) == Array(0...queued))
    }

    struct Refused: Error, Equatable { let caller: Int }

    @Test("a write that fails rolls back alone: its caller gets its error, the batch commits the rest")
    func failingWrite() async throws {
        let (pool, log) = try database()
        let commit = GroupCommit(pool: pool)
        let queued = 30
        // Every fifth write fails after writing; caller 7 breaks a constraint (caller 0 holds its key).
        let results = try await Self.behindAHeldWrite(
            commit, held: { db in try Self.insert(db, 0) },
            (1...queued).map { caller -> Body in
                { db in
                    if caller == 7 { return try Self.insert(db, 0) }
                    let rowID = try Self.insert(db, caller)
                    if caller.isMultiple(of: 5) { throw Refused(caller: caller) }
                    return rowID
                }
            })
        for (caller, result) in results.enumerated() {
            let refused = caller != 0 && caller.isMultiple(of: 5)
            switch result {
            case .success(let rowID):
                #expect(!refused && caller != 7, "caller \(caller) succeeded")
                #expect(rowID == Int64(caller))
            case .failure(let error as Refused):
                #expect(refused)
                #expect(error == Refused(caller: caller), "caller \(caller) got another caller's error")
            case .failure(let error as DatabaseError):
                #expect(caller == 7)
                #expect(error.resultCode == .SQLITE_CONSTRAINT)
            case .failure(let error):
                Issue.record("caller \(caller): unexpected \(error)")
            }
        }
        let kept = [0] + (1...queued).filter { $0 != 7 && !$0.isMultiple(of: 5) }
        #expect(try Self.callers(pool) == kept)
        // The failures were in the same transactions as the writes that were kept.
        #expect(log.batches.count < kept.count)
        #expect(log.batches.reduce(0, +) == kept.count)
    }

    @Test("a transaction that cannot commit fails every write in it, and later writes go on")
    func failedCommit() async throws {
        let (pool, _) = try database()
        let commit = GroupCommit(pool: pool)
        // The orphan child passes its savepoint; only COMMIT checks the deferred foreign key.
        let results = try await Self.behindAHeldWrite(
            commit, held: { db in try Self.insert(db, 0) },
            (1...10).map { caller -> Body in { db in try Self.insert(db, caller) } }
                + [
                    { db in
                        try db.execute(sql: "INSERT INTO child (id, parent) VALUES (1, 999)")
                        return 0
                    }
                ])
        #expect(try results[0].get() == 0)
        for result in results.dropFirst() {
            #expect(throws: DatabaseError.self) { try result.get() }
        }
        #expect(try Self.callers(pool) == [0])
        #expect(try await commit.write { db in try Self.insert(db, 42) } == 42)
        #expect(try Self.callers(pool) == [0, 42])
        #expect(try await pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM child") } == 0)
    }
}

/// Rows added to `unit` by each committed transaction (rolled-back savepoints' rows are not reported).
private final class CommitLog: TransactionObserver, Sendable {
    private let state = Mutex<(pending: Int, batches: [Int])>((0, []))

    var batches: [Int] { state.withLock { $0.batches } }

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool {
        if case .insert(let table) = eventKind { return table == "unit" }
        return false
    }

    func databaseDidChange(with event: DatabaseEvent) { state.withLock { $0.pending += 1 } }

    func databaseDidCommit(_ db: Database) {
        state.withLock { state in
            if state.pending > 0 { state.batches.append(state.pending) }
            state.pending = 0
        }
    }

    func databaseDidRollback(_ db: Database) { state.withLock { $0.pending = 0 } }
}

/// Holds a write on the writer's thread until released (or 30 s, so that a broken test still ends).
private final class Gate: Sendable {
    private let state = Mutex<(entered: Bool, released: Bool)>((false, false))

    var entered: Bool { state.withLock { $0.entered } }
    func enter() { state.withLock { $0.entered = true } }
    func release() { state.withLock { $0.released = true } }

    func waitForRelease() {
        let clock = ContinuousClock(), end = clock.now + .seconds(120)
        while !state.withLock({ $0.released }) && clock.now < end { usleep(1000) }
    }
}

private final class Counter: Sendable {
    private let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
    func increment() { count.withLock { $0 += 1 } }
}
