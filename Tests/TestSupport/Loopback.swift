import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Loopback TCP ports and processes, for tests and benchmarks that start servers as processes.
package enum Loopback {
    /// A TCP port on 127.0.0.1 nothing listens on now (the kernel picks it).
    package static func freePort() -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = address(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                _ = bind(descriptor, $0, length)
                _ = getsockname(descriptor, $0, &length)
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether something accepts connections on 127.0.0.1:`port`.
    package static func isListening(_ port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = address(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    static func address(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    /// A process's resident memory (VmRSS from /proc), in MiB.
    package static func residentMiB(of pid: Int32) -> Double { statusMiB("VmRSS", of: pid) }

    /// One of /proc/PID/status's kB lines (`VmRSS`, `RssAnon`, `RssFile`), in MiB.
    package static func statusMiB(_ field: String, of pid: Int32) -> Double {
        kilobytesMiB(field, in: "/proc/\(pid)/status")
    }

    /// The proportional set size (shared pages divided among the processes that map them), in MiB.
    package static func proportionalMiB(of pid: Int32) -> Double { kilobytesMiB("Pss", in: "/proc/\(pid)/smaps_rollup") }

    /// Memory as it matters for a laptop: RSS, and of it what is the process's own (anonymous: heap,
    /// stacks) and what is file-backed (its code, shared with every copy), and PSS.
    /// `RSS 45.2 MiB (anonymous 4.4, file-backed 40.8; PSS 41.0)`.
    package static func memoryReport(of pid: Int32) -> String {
        String(
            format: "RSS %.1f MiB (anonymous %.1f, file-backed %.1f; PSS %.1f)", residentMiB(of: pid),
            statusMiB("RssAnon", of: pid), statusMiB("RssFile", of: pid), proportionalMiB(of: pid))
    }

    /// A `Name:  N kB` line of a /proc file, in MiB (0 when absent).
    static func kilobytesMiB(_ field: String, in path: String) -> Double {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let line = text.split(separator: "\n").first { $0.hasPrefix(field + ":") } ?? ""
        return (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
    }
}
