import Crypto
import Foundation
import Imaging
import QRRendering
import TestSupport
import Testing
import VirtualCard

/// The command-line contract of token-profile.md §9 and §10, run against the real `vhc` binary.
@Suite("vhc command-line contract", .serialized)
struct CommandLineContractTests {
    /// A workspace with keys and lists made by the command itself; removed when the test is done.
    final class Workspace {
        let temporary: TemporaryFolder
        var folder: URL { temporary.url }
        static let at = "2026-11-22T10:00:00Z"

        init() throws {
            temporary = try TemporaryFolder(prefix: "vhc-cli")
            for name in ["root", "token", "revocation"] {
                let generated = try Command.vhc("keys", "generate", "--out", "\(name).pem", in: folder)
                #expect(generated.status == 0, "\(generated.stderr)")
                #expect(generated.stdout.trimmingCharacters(in: .newlines).count == 16, "kid is 8 bytes of hex")
                let pub = try Command.vhc("keys", "public", "\(name).pem", in: folder)
                #expect(pub.stdout.hasPrefix("-----BEGIN PUBLIC KEY-----"))
                try pub.stdout.write(
                    to: folder.appendingPathComponent("\(name).pub"), atomically: false, encoding: .utf8)
            }
            try buildTrustList(seq: 2, out: "tl.cose")
            let rl = try Command.vhc(
                "revocations", "build", "--key", "revocation.pem", "--issuer", "TW-NHIA", "--seq", "1",
                "--issued-at", "2026-11-22T00:00:00Z", "--expires-at", "2026-11-23T00:00:00Z",
                "--revoke", "0badc0ffee000001:2026-11-21T12:00:00Z:2026-12-31", "--out", "rl.cose", in: folder)
            #expect(rl.status == 0, "\(rl.stderr)")
        }

        func buildTrustList(seq: Int, out: String, expiresAt: String = "2027-01-01T00:00:00Z") throws {
            let tl = try Command.vhc(
                "trust-list", "build", "--root", "root.pem", "--issuer", "TW-NHIA", "--seq", "\(seq)",
                "--issued-at", "2026-11-01T00:00:00Z", "--expires-at", expiresAt, "--key", "token:token.pub",
                "--key", "revocation:revocation.pub", "--out", out, in: folder)
            #expect(tl.status == 0, "\(tl.stderr)")
        }

        func issue(_ extra: [String] = [], at: String = at) throws -> String {
            let result = try Command.run(
                Command.vhc,
                [
                    "issue", "--key", "token.pem", "--issuer", "TW-NHIA", "--id", "A123456789", "--name", "王小明",
                    "--birth", "1980-05-17", "--at", at,
                ] + extra, in: folder)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.filter { $0 == "\n" }.count == 1, "one line")
            return result.stdout.trimmingCharacters(in: .newlines)
        }

        func verify(
            _ token: String?, _ extra: [String] = [], at: String = "2026-11-22T10:01:00Z", stdin: String? = nil
        )
            throws -> CommandResult
        {
            try Command.run(
                Command.vhc,
                ["verify", "--root", "root.pub", "--trust-list", "tl.cose", "--at", at] + extra
                    + (token.map { [$0] } ?? []),
                stdin: stdin.map { Data($0.utf8) }, in: folder)
        }
    }

    @Test("a valid token: exit 0 and exactly one JSON object with the profile's fields")
    func valid() throws {
        let w = try Workspace()
        let token = try w.issue(["--card-number", "000012345678"])
        let result = try w.verify(token)
        #expect(result.status == 0)
        #expect(result.stdout.filter { $0 == "\n" }.count == 1)
        let json = try jsonObject(result.stdout)
        #expect(json["result"] as? String == "valid")
        #expect(json["code"] as? String == "valid")
        let holder = try #require(json["holder"] as? [String: Any])
        #expect(holder["id"] as? String == "A123456789")
        #expect(holder["name"] as? String == "王小明")
        #expect(holder["birthDate"] as? String == "1980-05-17")
        #expect(holder["photo"] as? String == "verified")
        #expect(json["idCheckRequired"] as? Bool == false)
        #expect(json["delegation"] is NSNull)
        #expect(json["cardNumber"] as? String == "000012345678")
        #expect((json["tokenId"] as? String)?.count == 32)
        #expect(json["issuedAt"] as? String == "2026-11-22T10:00:00Z")
        #expect(json["expiresAt"] as? String == "2026-11-22T10:05:00Z")
    }

    @Test("delegated, photo-less token: delegation object and idCheckRequired; without a list it is unavailable")
    func delegated() throws {
        let w = try Workspace()
        let token = try w.issue([
            "--no-photo", "--delegate", "F222333444", "--delegation-id", "0badc0ffee000002", "--valid-from",
            "2026-11-01",
            "--valid-to", "2026-12-31",
        ])
        let result = try w.verify(token, ["--revocations", "rl.cose"])
        #expect(result.status == 0, "\(result.stdout)")
        let json = try jsonObject(result.stdout)
        #expect(json["idCheckRequired"] as? Bool == true)
        #expect((json["holder"] as? [String: Any])?["photo"] as? String == "none")
        #expect(json["cardNumber"] is NSNull)
        let delegation = try #require(json["delegation"] as? [String: Any])
        #expect(delegation["delegateId"] as? String == "F222333444")
        #expect(delegation["delegationId"] as? String == "0badc0ffee000002")
        #expect(delegation["validFrom"] as? String == "2026-11-01")
        #expect(delegation["validTo"] as? String == "2026-12-31")

        let withoutList = try w.verify(token)
        #expect(withoutList.status == 1)
        #expect(try jsonObject(withoutList.stdout)["code"] as? String == "revocation_list_unavailable")

        let revoked = try w.issue([
            "--delegate", "F222333444", "--delegation-id", "0badc0ffee000001", "--valid-from", "2026-11-01",
            "--valid-to", "2026-12-31",
        ])
        let revokedResult = try w.verify(revoked, ["--revocations", "rl.cose"])
        #expect(revokedResult.status == 1)
        #expect(try jsonObject(revokedResult.stdout)["code"] as? String == "delegation_revoked")
    }

    @Test("standard input: '-' reads all of it, trimmed only of one trailing newline")
    func standardInput() throws {
        let w = try Workspace()
        let token = try w.issue()
        #expect(try w.verify("-", stdin: token + "\r\n").status == 0)
        #expect(try w.verify(nil, stdin: token + "\n").status == 0)
        let twoNewlines = try w.verify("-", stdin: token + "\n\n")
        #expect(twoNewlines.status == 1)
        #expect(try jsonObject(twoNewlines.stdout)["code"] as? String == "base45_invalid")
        let garbage = try Command.run(
            Command.vhc, ["verify", "--root", "root.pub", "--trust-list", "tl.cose", "-"],
            stdin: Data([0xFF, 0xFE, 0x00, 0x56]), in: w.folder)
        #expect(garbage.status == 1)
        #expect(try jsonObject(garbage.stdout)["code"] as? String == "prefix_missing")
    }

    @Test(
        "TIME: ISO 8601 with Z or an offset, and Unix seconds, name the same instant",
        arguments: [
            "2026-11-22T10:00:00Z", "2026-11-22T18:00:00+08:00", "1795341600", "2026-11-22T10:00:00.250Z",
        ])
    func timeForms(at: String) throws {
        let w = try Workspace()
        let json = try jsonObject(try w.verify(try w.issue(at: at)).stdout)
        #expect(json["issuedAt"] as? String == "2026-11-22T10:00:00Z")
    }

    @Test("--consumed-store: a second scan in another process is replayed; an invalid scan consumes nothing")
    func replayAcrossProcesses() throws {
        let w = try Workspace()
        let token = try w.issue()
        let early = try w.verify(token, ["--consumed-store", "store.sqlite"], at: "2026-11-22T09:50:00Z")
        #expect(try jsonObject(early.stdout)["code"] as? String == "not_yet_valid")
        #expect(try w.verify(token, ["--consumed-store", "store.sqlite"]).status == 0)
        let again = try w.verify(token, ["--consumed-store", "store.sqlite"])
        #expect(again.status == 1)
        #expect(try jsonObject(again.stdout)["code"] as? String == "replayed")
        // Without the store there is no replay check.
        #expect(try w.verify(token).status == 0)
    }

    @Test("--consumed-store remembers the trust list's sequence: an older list is a rollback")
    func rollback() throws {
        let w = try Workspace()
        try w.buildTrustList(seq: 1, out: "old.cose")
        #expect(try w.verify(try w.issue(), ["--consumed-store", "s.sqlite"]).status == 0)
        let result = try Command.run(
            Command.vhc,
            [
                "verify", "--root", "root.pub", "--trust-list", "old.cose", "--at", "2026-11-22T10:01:00Z",
                "--consumed-store",
                "s.sqlite", try w.issue(),
            ], in: w.folder)
        #expect(result.status == 1)
        #expect(try jsonObject(result.stdout)["code"] as? String == "trust_list_rollback")
    }

    @Test(
        "expired token, key past its window (the list's by default), expired trust list",
        arguments: [
            ("2026-11-22T10:06:00Z", "valid"), ("2026-11-22T10:06:01Z", "expired"),
            ("2027-01-01T00:00:01Z", "key_unknown"),
            ("2027-01-01T00:05:01Z", "trust_list_expired"),
        ])
    func expiry(at: String, code: String) throws {
        let w = try Workspace()
        let token = try w.issue()
        let result = try w.verify(token, at: at)
        #expect(result.status == (code == "valid" ? 0 : 1))
        #expect(try jsonObject(result.stdout)["code"] as? String == code)
    }

    @Test(
        "usage and configuration errors exit 2 with a message and nothing on standard output",
        arguments: [
            ["verify", "--root", "missing.pub", "--trust-list", "tl.cose", "VHC1:X"],
            ["verify", "--root", "root.pub", "--trust-list", "missing.cose", "VHC1:X"],
            ["verify", "--root", "token.pem", "--trust-list", "tl.cose", "VHC1:X"],
            ["verify", "--root", "root.pub", "--trust-list", "tl.cose", "--at", "yesterday", "VHC1:X"],
            ["verify", "--root", "root.pub", "--trust-list", "tl.cose", "--skew", "121", "VHC1:X"],
            ["verify", "--root", "root.pub", "--trust-list", "tl.cose", "--skew", "-1", "VHC1:X"],
            ["verify", "--root", "root.pub", "--trust-list", "tl.cose", "--bogus", "VHC1:X"],
            ["verify", "--trust-list", "tl.cose", "VHC1:X"],
            [
                "verify", "--root", "root.pub", "--trust-list", "tl.cose", "--consumed-store", "/nonexistent/dir/s.db",
                "VHC1:X",
            ],
            [
                "issue", "--key", "token.pem", "--issuer", "TW-NHIA", "--id", "A123456788", "--name", "X", "--birth",
                "1980-01-01",
            ],
            [
                "issue", "--key", "token.pem", "--issuer", "TW-NHIA", "--id", "A123456789", "--name", "X", "--birth",
                "1980-01-01", "--ttl", "301",
            ],
            [
                "issue", "--key", "token.pem", "--issuer", "TW-NHIA", "--id", "A123456789", "--name", "X", "--birth",
                "1980-02-30",
            ],
            [
                "issue", "--key", "token.pem", "--issuer", "TW-NHIA", "--id", "A123456789", "--name", "X", "--birth",
                "1980-01-01", "--delegate", "F222333444",
            ],
            [
                "issue", "--key", "root.pub", "--issuer", "TW-NHIA", "--id", "A123456789", "--name", "X", "--birth",
                "1980-01-01",
            ],
            ["keys", "generate", "--out", "root.pem"],
            ["keys", "public", "nothing.pem"],
            [
                "trust-list", "build", "--root", "root.pem", "--issuer", "I", "--seq", "1", "--issued-at", "0",
                "--expires-at", "9", "--key", "signing:token.pub", "--out", "x.cose",
            ],
            [
                "revocations", "build", "--key", "revocation.pem", "--issuer", "I", "--seq", "1", "--issued-at", "0",
                "--expires-at", "9", "--revoke", "zz:0:20261231", "--out", "x.cose",
            ],
            ["frobnicate"],
        ])
    func usageErrors(arguments: [String]) throws {
        let w = try Workspace()
        let result = try Command.run(Command.vhc, arguments, in: w.folder)
        #expect(result.status == 2, "\(arguments): \(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(!result.stderr.isEmpty)
    }

    @Test(
        "--help on every command exits 0",
        arguments: [
            ["--help"], ["verify", "--help"], ["issue", "--help"], ["keys", "generate", "--help"],
            ["keys", "public", "--help"],
            ["trust-list", "build", "--help"], ["revocations", "build", "--help"],
        ])
    func help(arguments: [String]) throws {
        let result = try Command.run(Command.vhc, arguments, in: FileManager.default.temporaryDirectory)
        #expect(result.status == 0)
        #expect(
            result.stdout.contains("USAGE") || result.stdout.contains("Usage") || result.stdout.contains("OVERVIEW"))
    }

    @Test("keys: the private key is mode 0600 and the printed kid is the SHA-256 prefix of the public key")
    func keys() throws {
        let w = try Workspace()
        let generated = try Command.vhc("keys", "generate", "--out", "k.pem", in: w.folder)
        let mode =
            try FileManager.default.attributesOfItem(atPath: w.folder.appendingPathComponent("k.pem").path)[
                .posixPermissions] as? Int
        #expect(mode == 0o600)
        let pem = try Command.vhc("keys", "public", "k.pem", in: w.folder).stdout
        let key = try P256PublicKeyPEM.parse(pem)
        #expect(KeyID(publicKey: key).description == generated.stdout.trimmingCharacters(in: .newlines))
    }

    @Test("--png renders the token; zbar reads back exactly the token text")
    func png() throws {
        let w = try Workspace()
        let token = try w.issue(["--png", "qr.png"])
        let image = try GrayImage.read(contentsOf: w.folder.appendingPathComponent("qr.png").path)
        #expect(image.width == image.height)
        let zbar = try Command.run(
            "/usr/bin/zbarimg", ["--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", "qr.png"], in: w.folder)
        #expect(zbar.status == 0, "\(zbar.stderr)")
        #expect(zbar.stdout.trimmingCharacters(in: .newlines) == token)
    }
}

enum P256PublicKeyPEM {
    static func parse(_ pem: String) throws -> P256.Signing.PublicKey {
        try P256.Signing.PublicKey(pemRepresentation: pem)
    }
}
