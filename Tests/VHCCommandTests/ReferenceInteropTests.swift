import Crypto
import Foundation
import TestSupport
import Testing
import VirtualCard

/// The Swift verifier against the independent Python implementation (tools/reference): tokens from
/// `vhc issue` verify there with the same output, and on thousands of mutated tokens both give the
/// same code. Needs python3 with `cryptography` (CI installs python3-cryptography).
@Suite("Interoperability with the reference implementation", .serialized)
struct ReferenceInteropTests {
    static let script = Command.packageRoot.appendingPathComponent("tools/reference/vhc_reference.py").path

    @Test("tokens from `vhc issue` verify under the reference with the same §9 output")
    func issuedTokensVerifyThere() throws {
        let w = try CommandLineContractTests.Workspace()
        let variants: [[String]] = [
            [], ["--no-photo"], ["--card-number", "123456789012"],
            [
                "--delegate", "F222333444", "--delegation-id", "00112233445566778899", "--valid-from", "2026-11-22",
                "--valid-to", "2026-11-22",
            ],
        ]
        for variant in variants {
            let token = try w.issue(variant)
            let arguments = [
                "--root", "root.pub", "--trust-list", "tl.cose", "--revocations", "rl.cose", "--at",
                "2026-11-22T10:04:00Z", token,
            ]
            let ours = try Command.run(Command.vhc, ["verify"] + arguments, in: w.folder)
            let theirs = try Command.run(Command.python, [Self.script, "verify"] + arguments, in: w.folder)
            #expect(ours.status == 0, "\(ours.stdout)")
            #expect(theirs.status == 0, "reference: \(theirs.stdout) \(theirs.stderr)")
            var ourObject = try jsonObject(ours.stdout)
            ourObject["reason"] = nil  // our addition for people
            let theirObject = try jsonObject(theirs.stdout)
            #expect(try canonicalJSON(ourObject) == canonicalJSON(theirObject), "\(variant)")
        }
    }

    @Test("the verifiers agree on every code for generated and mutated tokens")
    func differential() throws {
        let temporary = try TemporaryFolder(prefix: "vhc-interop")
        let folder = temporary.url
        let keys = (root: Self.key("root"), token: Self.key("token"), revocation: Self.key("revocation"))
        let now: Int64 = 1_795_341_600
        let trust = try TrustList.build(
            issuer: "TW-NHIA", sequence: 3, issuedAt: now - 86_400, expiresAt: now + 86_400,
            keys: [
                .init(
                    publicKey: keys.token.publicKey, usage: .tokenSigning, notBefore: now - 86_400,
                    notAfter: now + 86_400),
                .init(
                    publicKey: keys.revocation.publicKey, usage: .revocationListSigning, notBefore: 0,
                    notAfter: now + 86_400),
            ], root: keys.root)
        let revokedID: [UInt8] = [0xDE, 0xAD, 0xBE, 0xEF, 0, 0, 0, 1]
        let revocations = try RevocationList.build(
            issuer: "TW-NHIA", sequence: 1, issuedAt: now - 60, expiresAt: now + 3600,
            entries: [.init(delegationID: revokedID, revokedAt: now - 60, keepUntil: CalendarDate(iso: "2026-12-31")!)],
            signer: keys.revocation)
        try keys.root.publicKey.pemRepresentation.write(
            to: folder.appendingPathComponent("root.pem"), atomically: false, encoding: .utf8)
        try Data(trust).write(to: folder.appendingPathComponent("tl.cose"))
        try Data(revocations).write(to: folder.appendingPathComponent("rl.cose"))
        let verifier = TokenVerifier(root: keys.root.publicKey, trustList: trust, revocationList: revocations)

        var generator = SeededGenerator(seed: 2026)
        var cases: [(token: [UInt8], at: Int64, skew: Int64)] = []
        let issuer = TokenIssuer(signingKey: keys.token, issuer: "TW-NHIA")
        for index in 0..<1500 {
            let claims = Self.randomClaims(now: now, revokedID: revokedID, using: &generator)
            let payload = CBOREncoder.encode(claims.cbor)
            var text: [UInt8]
            switch index % 6 {
            case 0:  // as issued, or signed even where the issuer would refuse
                text = Array(TokenIssuer.encode(try COSESign1.sign(payload: payload, with: keys.token)).utf8)
            case 1:  // a character of the text replaced
                text = Array(try issuer.issue(Self.fixed(claims)).utf8)
                let position = Int.random(in: 0..<text.count, using: &generator)
                text[position] = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:a\n=".utf8).randomElement(
                    using: &generator)!
            case 2:  // a byte of the COSE message flipped, inserted or deleted
                var cose = Base45.decode(Array(try issuer.issue(Self.fixed(claims)).utf8.dropFirst(5)))!
                Self.mutate(&cose, using: &generator)
                text = Array(TokenIssuer.encode(cose).utf8)
            case 3:  // the payload mutated, then correctly signed: exercises CBOR and claims rules
                var mutated = payload
                Self.mutate(&mutated, using: &generator)
                let placement: COSESign1.KeyIDPlacement = Bool.random(using: &generator) ? .protected : .unprotected
                text = Array(
                    TokenIssuer.encode(
                        try COSESign1.sign(
                            payload: mutated, with: keys.token, keyIDPlacement: placement,
                            tagged: Bool.random(using: &generator))
                    ).utf8)
            case 4:  // truncated
                let full = Array(try issuer.issue(Self.fixed(claims)).utf8)
                text = Array(full.prefix(Int.random(in: 0..<full.count, using: &generator)))
            default:  // signed by a key the list does not hold, or with a different prefix
                let key = Bool.random(using: &generator) ? Self.key("stranger") : keys.revocation
                let signed = TokenIssuer.encode(try COSESign1.sign(payload: payload, with: key))
                text = Array((Bool.random(using: &generator) ? signed : "VHC2" + signed.dropFirst(4)).utf8)
            }
            let at = now + Int64.random(in: -420...420, using: &generator)
            cases.append((text, at, Int64.random(in: 0...120, using: &generator)))
        }

        let lines =
            try cases.map { c -> String in
                let object: [String: Any] = [
                    "token": String(decoding: c.token, as: UTF8.self), "at": c.at, "skew": c.skew,
                ]
                return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
            }.joined(separator: "\n") + "\n"
        let reference = try Command.run(
            Command.python,
            [Self.script, "batch", "--root", "root.pem", "--trust-list", "tl.cose", "--revocations", "rl.cose"],
            stdin: Data(lines.utf8), in: folder)
        #expect(reference.status == 0, "\(reference.stderr)")
        let theirCodes = reference.stdout.split(separator: "\n").map { line in
            ((try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any])?["code"] as? String ?? "?"
        }
        try #require(theirCodes.count == cases.count, "\(reference.stderr)")

        var disagreements: [String] = []
        var seen: Set<String> = []
        for (index, c) in cases.enumerated() {
            // Strings go through JSON as text: compare on the same text the reference saw.
            let ours = try verifier.verify(String(decoding: c.token, as: UTF8.self), at: c.at, skew: c.skew).code
                .rawValue
            seen.insert(ours)
            if ours != theirCodes[index] {
                disagreements.append("#\(index): ours \(ours), reference \(theirCodes[index])")
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(10))")
        // The generator must reach deep into the pipeline, not stop at Base45.
        for code in [
            "valid", "base45_invalid", "cbor_invalid", "signature_invalid", "claims_invalid", "expired",
            "not_yet_valid", "delegation_revoked", "key_unknown", "prefix_unsupported",
        ] {
            #expect(seen.contains(code), "no case reached \(code)")
        }
    }

    static func key(_ seed: String) -> P256.Signing.PrivateKey {
        try! P256.Signing.PrivateKey(rawRepresentation: Array(SHA256.hash(data: Array("interop-\(seed)".utf8))))
    }

    /// Claims that are sometimes valid, sometimes break one rule.
    static func randomClaims(now: Int64, revokedID: [UInt8], using g: inout SeededGenerator) -> TokenClaims {
        let ids = ["A123456789", "F222333444", "A800000014", "F912345678", "AC01234567", "A123456788"]
        let issuedAt = now - Int64.random(in: -100...400, using: &g)
        var delegation: TokenClaims.Delegation? = nil
        if Int.random(in: 0..<3, using: &g) == 0 {
            delegation = .init(
                delegateID: ids.randomElement(using: &g)!,
                delegationID: Bool.random(using: &g)
                    ? revokedID : [UInt8](repeating: 5, count: Int.random(in: 7...17, using: &g)),
                validFrom: CalendarDate(iso: ["2026-11-22", "2026-11-23", "2026-11-01"].randomElement(using: &g)!)!,
                validTo: CalendarDate(iso: ["2026-11-22", "2026-11-21", "2026-12-31"].randomElement(using: &g)!)!)
        }
        return TokenClaims(
            issuer: Int.random(in: 0..<20, using: &g) == 0 ? "TW-NHIB" : "TW-NHIA", issuedAt: issuedAt,
            expiresAt: issuedAt + [300, 301, 1, 0, 120].randomElement(using: &g)!,
            tokenID: [UInt8](repeating: 1, count: Int.random(in: 0..<15, using: &g) == 0 ? 15 : 16),
            holder: .init(
                id: ids.randomElement(using: &g)!,
                name: ["王小明", String(repeating: "明", count: 41), "A\u{0}B", "😀"].randomElement(using: &g)!,
                birthDate: CalendarDate(
                    iso: ["1980-05-17", "1899-12-31", "2026-11-23", "2026-11-22"].randomElement(using: &g)!)!,
                photo: Bool.random(using: &g) ? .verified : .none),
            delegation: delegation, cardNumber: ["123456789012", "12345", nil].randomElement(using: &g)!)
    }

    /// A valid variant of `claims`, for mutations that must start from an issuable token.
    static func fixed(_ claims: TokenClaims) -> TokenClaims {
        var c = claims
        c.issuer = "TW-NHIA"
        c.expiresAt = c.issuedAt + 300
        c.tokenID = [UInt8](repeating: 2, count: 16)
        c.holder = .init(
            id: "A123456789", name: "王小明", birthDate: CalendarDate(iso: "1980-05-17")!, photo: c.holder.photo)
        c.delegation = nil
        c.cardNumber = nil
        return c
    }

    static func mutate(_ bytes: inout [UInt8], using g: inout SeededGenerator) {
        guard !bytes.isEmpty else { return }
        let position = Int.random(in: 0..<bytes.count, using: &g)
        switch Int.random(in: 0..<4, using: &g) {
        case 0: bytes[position] ^= UInt8(1) << UInt8.random(in: 0...7, using: &g)
        case 1: bytes[position] = UInt8.random(in: 0...255, using: &g)
        case 2: bytes.insert(UInt8.random(in: 0...255, using: &g), at: position)
        default: bytes.remove(at: position)
        }
    }
}
