import Foundation
import GRDB

/// Moves the WAL into the database file on a connection and a thread of its own, so no visit opening
/// waits for it. SQLite's automatic checkpoint runs inside the committing writer and holds every
/// write queued behind it for the copy and its fsync (the p99 of the openings); a PASSIVE checkpoint
/// from another connection runs beside the writer instead. The thread stops when the store is gone.
final class Checkpointer: Sendable {
    private let connection: DatabaseQueue

    init(path: String, configuration: Configuration) throws {
        connection = try DatabaseQueue(path: path, configuration: configuration)
    }

    /// Starts the thread for `owner`'s lifetime.
    static func start(for owner: AnyObject & Sendable, checkpointer: Checkpointer, every interval: TimeInterval = 0.5) {
        weak let weakOwner: (AnyObject & Sendable)? = owner
        let thread = Thread {
            while weakOwner != nil {
                _ = try? checkpointer.connection.writeWithoutTransaction { db in try db.checkpoint(.passive) }
                Thread.sleep(forTimeInterval: interval)
            }
        }
        thread.name = "vhc-cloud checkpoint"
        thread.start()
    }
}
