import Foundation
import SafeFiles
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A fresh directory under the system's temporary directory, removed with everything in it.
final class Scratch {
    let path: String

    init() throws {
        var template = Array((FileManager.default.temporaryDirectory.path + "/safefiles-XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        path = String(cString: made)
    }

    func path(_ name: String) -> String { path + "/" + name }

    /// The names in the directory, sorted.
    func names() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: path).sorted() }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// The permission bits of `path` (the link itself for a symbolic link), or nil when nothing is there.
func permissions(_ path: String) -> mode_t? {
    var status = stat()
    guard lstat(path, &status) == 0 else { return nil }
    return status.st_mode & 0o7777
}

func isDirectory(_ path: String) -> Bool {
    var status = stat()
    return lstat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR
}

func contents(_ path: String) -> [UInt8]? { FileManager.default.contents(atPath: path).map { Array($0) } }

@Suite("SafeFile.write: atomic replacement")
struct AtomicWriteTests {
    @Test("writes the bytes with the mode asked and leaves no temporary file")
    func writes() throws {
        let scratch = try Scratch()
        let target = scratch.path("out.json")
        try SafeFile.write(Array("first".utf8), to: target)
        #expect(contents(target) == Array("first".utf8))
        // mkstemp makes the temporary file 0600: these modes are the ones set, not the ones it had.
        #expect(permissions(target) == 0o644)
        try SafeFile.write(Array("second".utf8), to: target, mode: 0o640)
        #expect(contents(target) == Array("second".utf8))
        #expect(permissions(target) == 0o640)
        #expect(try scratch.names() == ["out.json"])
    }

    @Test("replacing a file is one rename: the old inode is never written to")
    func replacesTheFile() throws {
        let scratch = try Scratch()
        let target = scratch.path("card.txt"), kept = scratch.path("kept.txt")
        try SafeFile.write(Array("old content".utf8), to: target)
        // A hard link still names the old file: an in-place write would change it too.
        #expect(link(target, kept) == 0)
        try SafeFile.write(Array("new".utf8), to: target)
        #expect(contents(target) == Array("new".utf8))
        #expect(contents(kept) == Array("old content".utf8))
        #expect(try scratch.names() == ["card.txt", "kept.txt"])
    }

    @Test("a failed write leaves what was there and no partial or temporary file")
    func failedWrite() throws {
        let scratch = try Scratch()
        // The last step fails: a directory with something in it holds the name, so the rename cannot.
        let target = scratch.path("taken")
        #expect(mkdir(target, 0o755) == 0)
        try SafeFile.write(Array("inside".utf8), to: target + "/file")
        let error = #expect(throws: SafeFile.WriteError.self) {
            try SafeFile.write(Array("replacement".utf8), to: target)
        }
        #expect(error?.path == target)
        #expect(error?.description.hasPrefix("cannot write '\(target)': ") == true)
        #expect(isDirectory(target))
        #expect(contents(target + "/file") == Array("inside".utf8))
        #expect(try scratch.names() == ["taken"])
    }

    @Test("a file or a secret in a missing directory fails and creates nothing")
    func missingDirectory() throws {
        let scratch = try Scratch()
        #expect(throws: SafeFile.WriteError.self) {
            try SafeFile.write(Array("x".utf8), to: scratch.path("missing/out.json"))
        }
        #expect(throws: SafeFile.WriteError.self) {
            try SafeFile.writeSecret(Array("secret".utf8), to: scratch.path("missing/server.key"))
        }
        #expect(try scratch.names().isEmpty)
    }

    /// The file is replaced with one of two contents in turn, on a thread of its own, until this one
    /// has read it 300 times (or 5,000 writes). Reads that see neither content whole are counted: with
    /// truncate-and-write in place instead, nearly every read is one.
    @Test("a reader racing the writer sees the old file or the new one, never a part of either")
    func readersSeeWholeFiles() throws {
        let scratch = try Scratch()
        let target = scratch.path("list.cbor")
        let a = [UInt8](repeating: 0x61, count: 128 * 1024), b = [UInt8](repeating: 0x62, count: 96 * 1024)
        try SafeFile.write(a, to: target)
        let reads = Counter(), done = Flag(), failure = Failure()
        Thread {
            defer { done.set() }
            var round = 0
            do {
                while reads.value < 300 && round < 5_000 {
                    try SafeFile.write(round.isMultiple(of: 2) ? b : a, to: target)
                    round += 1
                }
            } catch {
                failure.record(error)
            }
        }.start()
        var partial = 0
        while !done.isSet {
            let seen = contents(target)
            if seen != a && seen != b { partial += 1 }
            reads.increment()
        }
        #expect(failure.description == nil)
        #expect(reads.value >= 300)
        #expect(partial == 0, "\(partial) of \(reads.value) reads saw neither whole file")
        #expect(try scratch.names() == ["list.cbor"])
    }
}

/// What went wrong on another thread, if anything.
final class Failure: Sendable {
    private let text = Mutex<String?>(nil)
    var description: String? { text.withLock { $0 } }
    func record(_ error: any Error) { text.withLock { $0 = "\(error)" } }
}

final class Counter: Sendable {
    private let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
    func increment() { count.withLock { $0 += 1 } }
}

final class Flag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}

@Suite("SafeFile.writeSecret: mode 0600 from the start, never over something already there")
struct SecretWriteTests {
    @Test("a secret file is created with mode 0600 and the bytes given")
    func created() throws {
        let scratch = try Scratch()
        let key = scratch.path("server.key")
        try SafeFile.writeSecret(Array("-----BEGIN PRIVATE KEY-----".utf8), to: key)
        #expect(permissions(key) == 0o600)
        #expect(contents(key) == Array("-----BEGIN PRIVATE KEY-----".utf8))
    }

    @Test("an existing file is refused and left as it was")
    func existingFile() throws {
        let scratch = try Scratch()
        let key = scratch.path("server.key")
        try SafeFile.write(Array("original".utf8), to: key, mode: 0o640)
        let error = #expect(throws: SafeFile.WriteError.self) {
            try SafeFile.writeSecret(Array("replacement".utf8), to: key)
        }
        #expect(error?.path == key)
        #expect(contents(key) == Array("original".utf8))
        #expect(permissions(key) == 0o640)
    }

    @Test("a symbolic link at the path is refused, not followed, even when it points nowhere")
    func symbolicLinks() throws {
        let scratch = try Scratch()
        let elsewhere = scratch.path("elsewhere.key"), planted = scratch.path("server.key")
        #expect(symlink(elsewhere, planted) == 0)
        #expect(throws: SafeFile.WriteError.self) { try SafeFile.writeSecret(Array("secret".utf8), to: planted) }
        #expect(contents(elsewhere) == nil, "the link's target was created")

        try SafeFile.write(Array("someone else's".utf8), to: elsewhere)
        #expect(throws: SafeFile.WriteError.self) { try SafeFile.writeSecret(Array("secret".utf8), to: planted) }
        #expect(contents(elsewhere) == Array("someone else's".utf8))
        #expect(try scratch.names() == ["elsewhere.key", "server.key"])
    }
}

@Suite("SafeFile.makeDirectory: parents included, with the mode asked")
struct MakeDirectoryTests {
    @Test("every missing level is created with the mode asked", arguments: [0o700, 0o750] as [mode_t])
    func created(mode: mode_t) throws {
        let scratch = try Scratch()
        let deepest = scratch.path("sandbox/keys/stations")
        try SafeFile.makeDirectory(deepest, mode: mode)
        for level in ["sandbox", "sandbox/keys", "sandbox/keys/stations"] {
            #expect(isDirectory(scratch.path(level)))
            #expect(permissions(scratch.path(level)) == mode, "\(level)")
        }
    }

    @Test("an existing directory is kept: its mode and what is in it")
    func existing() throws {
        let scratch = try Scratch()
        let folder = scratch.path("sandbox")
        #expect(mkdir(folder, 0o755) == 0)
        try SafeFile.write(Array("kept".utf8), to: folder + "/manifest.yaml")
        try SafeFile.makeDirectory(folder, mode: 0o700)
        try SafeFile.makeDirectory(folder + "/keys", mode: 0o700)
        #expect(permissions(folder) == 0o755)
        #expect(permissions(folder + "/keys") == 0o700)
        #expect(contents(folder + "/manifest.yaml") == Array("kept".utf8))
    }

    @Test("a file in the way fails, naming the level that could not be made")
    func fileInTheWay() throws {
        let scratch = try Scratch()
        try SafeFile.write(Array("not a folder".utf8), to: scratch.path("sandbox"))
        let error = #expect(throws: SafeFile.WriteError.self) {
            try SafeFile.makeDirectory(scratch.path("sandbox/keys"), mode: 0o700)
        }
        #expect(error?.path == scratch.path("sandbox/keys"))
        #expect(contents(scratch.path("sandbox")) == Array("not a folder".utf8))
    }
}
