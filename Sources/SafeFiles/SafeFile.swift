#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writing files that must not be half-written or briefly readable by others: the `vhc` command's
/// outputs, the sandbox cloud's keys and certificates. (Foundation's `.atomic` option on Linux
/// leaves a directory behind in /tmp on every write, and `createFile` cannot set a mode up front.)
package enum SafeFile {
    package struct WriteError: Error, CustomStringConvertible {
        package let path: String
        package let reason: String
        package var description: String { "cannot write '\(path)': \(reason)" }
    }

    /// Writes `bytes` to `path`, replacing it atomically: a temporary file beside it, fsync, rename.
    package static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws(WriteError) {
        var template = Array((path + ".tmp-XXXXXX").utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { throw WriteError(path: path, reason: String(cString: strerror(errno))) }
        let temporary = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let written = bytes.withUnsafeBytes { systemWrite(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor) == 0
        let modeSet = fchmod(descriptor, mode) == 0
        close(descriptor)
        guard written == bytes.count, synced, modeSet, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw WriteError(path: path, reason: reason)
        }
    }

    /// Creates `path` with mode 0600 from the first byte on (never readable by others, not even
    /// briefly) and writes a secret to it. An existing file is not replaced.
    package static func writeSecret(_ bytes: [UInt8], to path: String) throws(WriteError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw WriteError(path: path, reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        let written = bytes.withUnsafeBytes { systemWrite(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(descriptor) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(path)
            throw WriteError(path: path, reason: reason)
        }
    }

    /// Makes sure `path` exists, creating it empty with mode 0600 if it does not (a database the process
    /// alone may read; SQLite gives its -wal and -shm files the same mode). An existing file is kept as
    /// it is. (Not FileManager.createFile: on Linux it writes through a temporary file it leaves behind.)
    package static func createPrivate(_ path: String) throws(WriteError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if descriptor >= 0 {
            close(descriptor)
        } else if errno != EEXIST {
            throw WriteError(path: path, reason: String(cString: strerror(errno)))
        }
    }

    /// Creates a directory (and its parents) with `mode`; an existing one is kept.
    package static func makeDirectory(_ path: String, mode: mode_t = 0o755) throws(WriteError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, mode) != 0 && errno != EEXIST {
                throw WriteError(path: prefix, reason: String(cString: strerror(errno)))
            }
        }
    }

    private static func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
        #if canImport(Glibc)
            Glibc.write(descriptor, buffer, count)
        #else
            Darwin.write(descriptor, buffer, count)
        #endif
    }
}
