import StationModels
import Synchronization

/// The configured list files that could not be used (missing, unreadable, refused), by their key, as
/// the daemon's list watcher last found them; the status shows them. A file installed clears its key.
package final class ListFileReports: Sendable {
    private let problems = Mutex<[String: StationStatus.ListFileProblem]>([:])

    package init() {}

    package func report(_ problem: StationStatus.ListFileProblem) {
        problems.withLock { $0[problem.key] = problem }
    }

    package func clear(_ key: String) {
        _ = problems.withLock { $0.removeValue(forKey: key) }
    }

    /// The problems now, by key.
    package func current() -> [StationStatus.ListFileProblem] {
        problems.withLock { $0.values.sorted { $0.key < $1.key } }
    }
}
