import StationModels
import Synchronization

/// What each configured handheld scanner is doing, as its service last reported it, in the order of the
/// configuration: the status shows it, `vhc scanner list` prints it.
package final class ScannerBoard: Sendable {
    private let scanners = Mutex<[ScannerStatus]>([])

    package init() {}

    /// A scanner the daemon will read, not opened yet.
    package func register(device: String, interface: String, at now: Int64) {
        scanners.withLock { $0.append(ScannerStatus(device: device, interface: interface, since: now)) }
    }

    /// Moves `device` to `state` (its `since` restarts only when the state changes).
    package func set(_ device: String, _ state: ScannerStatus.State, detail: String? = nil, at now: Int64) {
        update(device) {
            if $0.state != state { $0.since = now }
            $0.state = state
            $0.detail = detail
        }
    }

    /// Counts a code `device` read: passed on to be verified, or refused.
    package func countRead(_ device: String, refused: Bool, at now: Int64) {
        update(device) {
            $0.lastReadAt = now
            if refused { $0.refused += 1 } else { $0.reads += 1 }
        }
    }

    /// The scanners now; empty when none is configured.
    package func current() -> [ScannerStatus] { scanners.withLock { $0 } }

    private func update(_ device: String, _ change: (inout ScannerStatus) -> Void) {
        scanners.withLock { all in
            if let index = all.firstIndex(where: { $0.device == device }) { change(&all[index]) }
        }
    }
}
