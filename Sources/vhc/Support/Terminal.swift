import SafeFiles

#if canImport(Glibc)
    import Glibc
#endif

/// Asking the person at the terminal for a secret (a key's passphrase, a card's PIN) without echoing it.
enum Terminal {
    struct Unavailable: Error, CustomStringConvertible {
        let description: String
    }

    /// Prints `prompt` on the terminal and reads one line with echo off; `otherwise` is the error when
    /// there is no terminal (a script should give a file instead).
    static func askSecret(_ prompt: String, otherwise: String) throws -> String {
        let terminal = open("/dev/tty", O_RDWR)
        guard terminal >= 0 else { throw Unavailable(description: otherwise) }
        defer { close(terminal) }
        _ = prompt.withCString { write(terminal, $0, strlen($0)) }
        var saved = termios()
        tcgetattr(terminal, &saved)
        var silent = saved
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(terminal, TCSAFLUSH, &silent)
        defer {
            tcsetattr(terminal, TCSAFLUSH, &saved)
            _ = write(terminal, "\n", 1)
        }
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while read(terminal, &byte, 1) == 1, byte != 0x0A, bytes.count < 1024 { bytes.append(byte) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A secret from `file` (refused unless mode 0600, the error naming `option`), else asked at the
    /// terminal with `prompt`.
    static func secret(file: String?, option: String, prompt: String, otherwise: String) throws -> String {
        if let file {
            do { return try SecretFile.read(file) } catch { throw UsageError("\(option): \(error)") }
        }
        return try askSecret(prompt, otherwise: otherwise)
    }
}
