import Foundation
import Station

#if canImport(Glibc)
    import Glibc
#endif

/// systemd's readiness protocol without libsystemd: datagrams such as `READY=1`, `WATCHDOG=1` and
/// `STATUS=…` to the Unix socket named by `NOTIFY_SOCKET` (a path, or `@name` in the abstract
/// namespace). Outside systemd the variable is absent and every call does nothing.
package struct SystemdNotifier: Sendable {
    let socketPath: String?
    /// Half of `WATCHDOG_USEC`, when systemd asked for watchdog pings for this process.
    package let watchdogInterval: Duration?

    package init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        socketPath = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        let forThisProcess = environment["WATCHDOG_PID"].map { Int32($0) == getpid() } ?? true
        if forThisProcess, let text = environment["WATCHDOG_USEC"], let microseconds = Int64(text), microseconds > 0 {
            watchdogInterval = .microseconds(microseconds / 2)
        } else {
            watchdogInterval = nil
        }
    }

    /// Sends one notification; failures are ignored (systemd may be gone at shutdown).
    @discardableResult
    package func notify(_ state: String) -> Bool {
        guard let socketPath else { return false }
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        let message = Array(state.utf8)
        let sent = LocalSocket.withAddress(socketPath) { address, length in
            message.withUnsafeBytes { sendto(descriptor, $0.baseAddress, $0.count, 0, address, length) }
        }
        return sent == message.count
    }
}
