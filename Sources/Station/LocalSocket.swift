#if canImport(Glibc)
    import Glibc
#endif

/// Unix-domain socket addresses, for the daemon, its client and systemd's notify socket: one place
/// that builds a `sockaddr_un` (a path, or `@name` in the abstract namespace) and asks whether
/// something accepts connections on a path.
package enum LocalSocket {
    /// Calls `body` with the address of `path` and its length, or returns nil when the path is too
    /// long for `sun_path`.
    package static func withAddress<Result>(
        _ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Result
    ) -> Result? {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        let abstract = bytes.first == UInt8(ascii: "@")
        if abstract { bytes[0] = 0 }  // the abstract namespace has no terminating NUL
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: abstract ? bytes : bytes + [0]) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 0 : 1))
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }

    /// What to do about a socket that refuses this account or that nothing listens on, in the words a clerk
    /// needs (appended to the error); empty for other errors.
    package static func advice(forConnectError error: Int32) -> String {
        switch error {
        case EACCES, EPERM:
            return ". Only members of the socket's group (api.socket_group, vhc as installed) may use the station: "
                + "ask the administrator to run "
                + "`sudo usermod -aG vhc $USER`, then log out and in again (無權限：請管理者將此帳號加入 vhc 群組，再重新登入)"
        case ENOENT, ECONNREFUSED:
            return ". Is vhc-stationd running? `systemctl status vhc-stationd` says (站台服務未執行)"
        default:
            return ""
        }
    }

    /// Nil when something accepts stream connections on `path`; else the `errno` of the attempt
    /// (`ENAMETOOLONG` for a path that does not fit).
    package static func connectError(_ path: String) -> Int32? {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return errno }
        defer { close(descriptor) }
        guard let connected = withAddress(path, { connect(descriptor, $0, $1) }) else { return ENAMETOOLONG }
        return connected == 0 ? nil : errno
    }
}
