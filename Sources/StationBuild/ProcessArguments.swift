import Foundation

/// The program's arguments as the kernel passed them. A library preloaded to move the clock (Debian's
/// libfaketime, which the laptop tests use to close the lid for 8 hours) rewrites `environ`, from which
/// Swift on Linux finds `argv`, and `CommandLine.arguments` is then empty: /proc/self/cmdline still holds
/// them. The station's daemon and the sandbox cloud start from here, so both can run under a moved clock.
package enum ProcessArguments {
    package static func current() -> [String] {
        if !CommandLine.arguments.isEmpty { return CommandLine.arguments }
        guard let data = FileManager.default.contents(atPath: "/proc/self/cmdline"), !data.isEmpty else { return [] }
        var parts = data.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        if parts.last == "" { parts.removeLast() }  // the terminating NUL
        return parts
    }
}
