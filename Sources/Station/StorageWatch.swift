import Foundation
import GRDB
import StationModels
import Synchronization

/// What the disk under the station's database is doing (issue 21: a full disk answered every scan
/// with `internal_error` while the status said `ok`). A write that fails for the disk's sake is
/// recorded here by whoever saw it (the API, the camera); the status shows it until a write succeeds
/// again (`check`, from the maintenance loop, tries one), and free space below the configured floor
/// shows before anything fails.
package final class StorageWatch: Sendable {
    /// Why a write failed, when the disk is the reason.
    package enum Failure: Sendable, Equatable {
        /// SQLITE_FULL: no space left for the database or its journal.
        case full
        /// SQLITE_IOERR, SQLITE_READONLY, SQLITE_CANTOPEN: the disk or the file cannot be written.
        case unavailable(reason: String)
    }

    /// The directory holding the database (and its WAL), whose file system is measured.
    package let directory: String
    package let minimumFreeBytes: Int64
    private struct State {
        var failure: StationStatus.StorageTrouble?
        /// Counts the failures recorded, so a probe clears only what it has seen.
        var failures = 0
        var freeBytes: Int64?
    }
    private let state = Mutex(State())

    package init(databasePath: String, minimumFreeMiB: Int64) {
        directory = (databasePath as NSString).deletingLastPathComponent
        minimumFreeBytes = minimumFreeMiB * 1_048_576
    }

    /// The disk's part in `error`, or nil when it had none.
    package static func failure(_ error: any Error) -> Failure? {
        guard let database = error as? DatabaseError else { return nil }
        switch database.resultCode {
        case .SQLITE_FULL: return .full
        case .SQLITE_IOERR, .SQLITE_READONLY, .SQLITE_CANTOPEN:
            return .unavailable(reason: database.message ?? "\(database.resultCode)")
        default: return nil
        }
    }

    /// Records `error` when the disk is its cause; returns what it was.
    @discardableResult
    package func record(_ error: any Error, at now: Int64) -> Failure? {
        guard let failure = Self.failure(error) else { return nil }
        let trouble: StationStatus.StorageTrouble =
            switch failure {
            case .full: .init(problem: .storageFull, detail: "the disk holding \(directory) is full", since: now)
            case .unavailable(let reason):
                .init(problem: .storageUnavailable, detail: "the database cannot be written: \(reason)", since: now)
            }
        state.withLock { state in
            // The first failure's time stays while the trouble lasts.
            if state.failure?.problem != trouble.problem { state.failure = trouble }
            state.failures += 1
        }
        return failure
    }

    /// Measures the free space, and while a failure is recorded tries `probe` (a small write) to see
    /// whether it has passed. Returns true when the free space has just fallen below the floor (for a
    /// warning in the log, once per fall).
    @discardableResult
    package func check(probe: () throws -> Void) -> Bool {
        let free = Self.freeBytes(directory)
        let wasLow = state.withLock { state in
            let wasLow = state.freeBytes.map { $0 < minimumFreeBytes } ?? false
            state.freeBytes = free
            return wasLow
        }
        // A failure recorded while the probe ran is newer than the probe's success: it stays.
        let seen = state.withLock { $0.failure == nil ? nil : $0.failures }
        if let seen, (try? probe()) != nil {
            state.withLock { state in
                if state.failures == seen { state.failure = nil }
            }
        }
        return !wasLow && (free.map { $0 < minimumFreeBytes } ?? false)
    }

    /// What the status shows: the failure while it lasts, else low space, else nothing.
    package func trouble() -> StationStatus.StorageTrouble? {
        state.withLock { state in
            if let failure = state.failure { return failure }
            guard let free = state.freeBytes, free < minimumFreeBytes else { return nil }
            return .init(
                problem: .storageLow,
                detail: "\(free / 1_048_576) MiB free on the disk holding \(directory), below storage.min_free_mib "
                    + "(\(minimumFreeBytes / 1_048_576))",
                since: nil)
        }
    }

    package var freeBytes: Int64? { state.withLock { $0.freeBytes } }

    /// Bytes an unprivileged process may still write on the file system of `path` (statvfs).
    package static func freeBytes(_ path: String) -> Int64? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }
}
