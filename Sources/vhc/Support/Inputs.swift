import Crypto
import Foundation
import SafeFiles
import VirtualCard

#if canImport(Glibc)
    import Glibc
#endif

/// Reading the command's inputs: files, keys, times. Every failure is a `UsageError` naming the input.
enum Inputs {
    static func readFile(_ path: String, what: String, maximumSize: Int = 1 << 20) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw UsageError("cannot read \(what) '\(path)'") }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: maximumSize + 1)) ?? nil
        guard let data else { throw UsageError("cannot read \(what) '\(path)'") }
        guard data.count <= maximumSize else {
            throw UsageError("\(what) '\(path)' is larger than \(maximumSize) bytes")
        }
        return Array(data)
    }

    static func readText(_ path: String, what: String) throws -> String {
        guard let text = String(validating: try readFile(path, what: what), as: UTF8.self) else {
            throw UsageError("\(what) '\(path)' is not UTF-8 text")
        }
        return text
    }

    static func privateKey(_ path: String) throws -> P256.Signing.PrivateKey {
        let pem = try readText(path, what: "private key")
        guard let key = try? P256.Signing.PrivateKey(pemRepresentation: pem) else {
            throw UsageError("'\(path)' is not a P-256 private key in PEM (PKCS#8 or SEC 1)")
        }
        return key
    }

    /// A package key PEM (SubjectPublicKeyInfo); a private key file is accepted where noted by callers.
    static func publicKey(_ path: String, acceptingPrivate: Bool = false) throws -> P256.Signing.PublicKey {
        let pem = try readText(path, what: "package key")
        if let key = try? P256.Signing.PublicKey(pemRepresentation: pem) { return key }
        if acceptingPrivate, let key = try? P256.Signing.PrivateKey(pemRepresentation: pem) { return key.publicKey }
        throw UsageError("'\(path)' is not a P-256 package key in PEM (SubjectPublicKeyInfo)")
    }

    /// `TIME`: Unix seconds, or ISO 8601 such as `2026-11-22T10:00:00Z` or `2026-11-22T18:00:00+08:00`.
    static func time(_ text: String, option: String) throws -> Int64 {
        if !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }) {
            guard let seconds = Int64(text) else { throw UsageError("\(option): '\(text)' is out of range") }
            return seconds
        }
        for options: ISO8601DateFormatter.Options in [
            [.withInternetDateTime], [.withInternetDateTime, .withFractionalSeconds],
        ] {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = options
            if let date = formatter.date(from: text) { return Int64(date.timeIntervalSince1970.rounded(.down)) }
        }
        throw UsageError("\(option): '\(text)' is not ISO 8601 (2026-11-22T10:00:00Z) or Unix seconds")
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970.rounded(.down)) }

    /// `YYYY-MM-DD` (or `YYYYMMDD`).
    static func date(_ text: String, option: String) throws -> CalendarDate {
        if let date = CalendarDate(iso: text) { return date }
        if text.count == 8, let value = Int64(text), let date = CalendarDate(yyyymmdd: value) { return date }
        throw UsageError("\(option): '\(text)' is not a date YYYY-MM-DD")
    }

    static func hex(_ text: String, option: String) throws -> [UInt8] {
        guard let bytes = Hex.decode(text) else { throw UsageError("\(option): '\(text)' is not hex") }
        return bytes
    }

    /// Writes `bytes` to `path`, replacing it atomically (`SafeFile.write`).
    static func write(_ bytes: [UInt8], to path: String) throws {
        do { try SafeFile.write(bytes, to: path) } catch { throw UsageError(error.description) }
    }

    /// Creates `path` with mode 0600 and writes a secret to it; an existing file is not replaced.
    static func writeSecret(_ bytes: [UInt8], to path: String) throws {
        do { try SafeFile.writeSecret(bytes, to: path) } catch { throw UsageError(error.description) }
    }
}
