#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reading a secret kept in a file (a token's PIN, the API's bearer token, a key's passphrase): refused
/// when others may read it, as ssh refuses a readable key, since a secret others can read is no secret.
package enum SecretFile {
    package struct ReadError: Error, CustomStringConvertible {
        package let path: String
        package let reason: String
        package var description: String { "'\(path)' \(reason)" }
    }

    /// The file's text without its trailing newline, at most `maximum` bytes; refused when the file is
    /// missing, larger, or readable or writable by its group or others (its mode and the fix are named).
    package static func read(_ path: String, maximum: Int = 4096) throws(ReadError) -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ReadError(path: path, reason: "cannot be read: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw ReadError(path: path, reason: "cannot be read") }
        guard info.st_mode & 0o077 == 0 else {
            throw ReadError(
                path: path,
                reason: "is readable by others (mode \(String(info.st_mode & 0o777, radix: 8))); chmod 600 it")
        }
        var bytes = [UInt8](repeating: 0, count: maximum + 1)
        let count = bytes.withUnsafeMutableBytes { systemRead(descriptor, $0.baseAddress, $0.count) }
        guard count >= 0, count <= maximum else {
            throw ReadError(path: path, reason: count < 0 ? "cannot be read" : "is larger than \(maximum) bytes")
        }
        var text = String(decoding: bytes.prefix(count), as: UTF8.self)
        for index in bytes.indices { bytes[index] = 0 }
        while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
        return text
    }
}

/// The system's read(2), by a name the enum's own `read` does not hide.
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}
