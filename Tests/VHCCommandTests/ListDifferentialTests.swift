import Crypto
import Foundation
import TestSupport
import Testing
import VirtualCard

/// The two implementations must also agree when the *lists* are odd: generated and mutated trust and
/// revocation lists, at times around their boundaries, with held sequence numbers. This is where
/// comparing the implementations first found fault-order differences (docs/token-profile.md §4).
@Suite("Differential: trust and revocation lists")
struct ListDifferentialTests {
    static let now: Int64 = 1_795_341_600
    static let root = ReferenceInteropTests.key("root")
    static let token = ReferenceInteropTests.key("token")
    static let revocation = ReferenceInteropTests.key("revocation")

    /// Calls `vhc_reference.verify` once per JSON line; each line carries its own lists.
    static let driver = """
        import json, sys
        sys.path.insert(0, sys.argv[1])
        import vhc_reference as ref
        for line in sys.stdin:
            c = json.loads(line)
            result = ref.verify(
                c["token"], root_spki_der=bytes.fromhex(c["root"]), trust_list_cose=bytes.fromhex(c["tl"]),
                revocation_list_cose=bytes.fromhex(c["rl"]) if c["rl"] is not None else None, now=c["at"],
                skew=60, held_trust_seq=c["heldT"], held_revocation_seq=c["heldR"])
            print(json.dumps({"code": result["code"]}), flush=True)
        """

    @Test("both implementations give the same code for 1,200 generated list situations")
    func lists() throws {
        var g = SeededGenerator(seed: 77)
        let tokens = try Self.tokens()
        var cases: [(token: String, tl: [UInt8], rl: [UInt8]?, at: Int64, heldT: Int64?, heldR: Int64?)] = []
        for _ in 0..<1200 {
            let tl = try Self.trustList(using: &g)
            let rl: [UInt8]? = Int.random(in: 0..<4, using: &g) == 0 ? nil : try Self.revocationList(using: &g)
            let held: [Int64?] = [nil, 0, 1, 2, 3]
            cases.append(
                (
                    tokens.randomElement(using: &g)!, tl, rl,
                    Self.now + [0, -299, 301, 3600 + 300, 3600 + 301].randomElement(using: &g)!,
                    held.randomElement(using: &g)!, held.randomElement(using: &g)!
                ))
        }
        let rootHex = Hex.encode(Self.root.publicKey.derRepresentation)
        let lines =
            try cases.map { c -> String in
                let object: [String: Any] = [
                    "token": c.token, "root": rootHex, "tl": Hex.encode(c.tl),
                    "rl": c.rl.map { Hex.encode($0) } ?? NSNull(),
                    "at": c.at, "heldT": c.heldT ?? NSNull(), "heldR": c.heldR ?? NSNull(),
                ]
                return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
            }.joined(separator: "\n") + "\n"
        let reference = try Command.run(
            Command.python, ["-c", Self.driver, Command.packageRoot.appendingPathComponent("tools/reference").path],
            stdin: Data(lines.utf8))
        #expect(reference.status == 0, "\(reference.stderr)")
        let theirs = reference.stdout.split(separator: "\n").map { line in
            ((try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any])?["code"] as? String ?? "?"
        }
        try #require(theirs.count == cases.count, "\(reference.stderr.suffix(2000))")

        var disagreements: [String] = []
        var seen: [String: Int] = [:]
        for (index, c) in cases.enumerated() {
            let verifier = TokenVerifier(root: Self.root.publicKey, trustList: c.tl, revocationList: c.rl)
            let ours = try verifier.verify(
                c.token, at: c.at, held: HeldSequences(trustList: c.heldT, revocationList: c.heldR))
            seen[ours.code.rawValue, default: 0] += 1
            if ours.code.rawValue != theirs[index] {
                disagreements.append(
                    "#\(index): ours \(ours.code.rawValue) (\(ours.detail)), reference \(theirs[index])")
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.count) disagreements: \(disagreements.prefix(8))")
        for code in [
            "valid", "trust_list_invalid", "trust_list_expired", "trust_list_rollback", "revocation_list_invalid",
            "revocation_list_unavailable", "delegation_revoked", "key_unknown",
        ] {
            #expect(seen[code, default: 0] > 0, "no case reached \(code): \(seen)")
        }
    }

    /// A plain token, a delegated one, and one whose delegation is on the revocation lists built here.
    static func tokens() throws -> [String] {
        let issuer = TokenIssuer(signingKey: token, issuer: "TW-NHIA")
        func claims(_ delegationID: [UInt8]?) -> TokenClaims {
            TokenClaims(
                issuer: "TW-NHIA", issuedAt: now, expiresAt: now + 300, tokenID: [UInt8](repeating: 3, count: 16),
                holder: .init(
                    id: "A123456789", name: "王小明", birthDate: CalendarDate(iso: "1980-05-17")!, photo: .verified),
                delegation: delegationID.map {
                    .init(
                        delegateID: "F222333444", delegationID: $0, validFrom: CalendarDate(iso: "2026-11-01")!,
                        validTo: CalendarDate(iso: "2026-12-31")!)
                })
        }
        return try [nil, [1, 1, 1, 1, 1, 1, 1, 1], revokedID].map { try issuer.issue(claims($0)) }
    }

    static let revokedID: [UInt8] = [0xAA, 0xBB, 0xCC, 0xDD, 0, 0, 0, 1]

    static func entry(
        _ key: P256.Signing.PrivateKey, usage: Int64, notBefore: Int64 = 0, notAfter: Int64 = now + 86_400
    )
        -> [CBOR: CBOR]
    {
        let spki = Array(key.publicKey.derRepresentation)
        return [
            1: .bytes(KeyID(subjectPublicKeyInfo: spki).bytes), 2: .bytes(spki), 3: .integer(usage),
            4: .integer(notBefore), 5: .integer(notAfter),
        ]
    }

    /// A trust list that is usually sound, with one or two of many possible faults.
    static func trustList(using g: inout SeededGenerator) throws -> [UInt8] {
        var entries: [[CBOR: CBOR]] = [entry(token, usage: 1), entry(revocation, usage: 2)]
        var payload: [CBOR: CBOR] = [
            1: "TW-NHIA", 2: .integer(Int64.random(in: 0...3, using: &g)),
            3: .integer(now - 3600), 4: .integer(now + 3600),
        ]
        var signer = root
        for _ in 0..<Int.random(in: 0...2, using: &g) {
            switch Int.random(in: 0..<14, using: &g) {
            case 0: payload[3] = .integer(now + [299, 300, 301, 700].randomElement(using: &g)!)
            case 1: payload[4] = .integer(now - [1, 300, 301].randomElement(using: &g)!)
            case 2 where entries.count > 1: entries[1] = entry(revocation, usage: 2, notAfter: now - 1)
            case 3: entries.append(entry(revocation, usage: 2, notAfter: now - 1))
            case 4: entries[0][3] = 3
            case 5: entries[0][1] = .bytes([1, 2, 3, 4, 5, 6, 7, 8])
            case 6 where entries.count > 1: entries[1][3] = 1
            case 7: payload[6] = "extra"
            case 8: signer = token
            case 9: payload[1] = .integer(1)
            case 10: entries[0][2] = .bytes(Array(entries[0][2]!.bytes!.dropLast()))
            case 11: payload[2] = -1
            case 12 where entries.count > 1: entries.remove(at: 1)
            case 13: entries[0][4] = .integer(now + 10)
            default: break
            }
        }
        payload[5] = .array(entries.map { .map($0) })
        var bytes = CBOREncoder.encode(.map(payload))
        if Int.random(in: 0..<12, using: &g) == 0 { mutate(&bytes, using: &g) }
        var cose = try COSESign1.sign(payload: bytes, with: signer, tagged: Bool.random(using: &g))
        if Int.random(in: 0..<20, using: &g) == 0 { mutate(&cose, using: &g) }
        return cose
    }

    /// A revocation list that is usually sound, with one or two possible faults.
    static func revocationList(using g: inout SeededGenerator) throws -> [UInt8] {
        var entries: [[CBOR: CBOR]] = [[1: .bytes(revokedID), 2: .integer(now - 60), 3: 20_261_231]]
        var payload: [CBOR: CBOR] = [
            1: "TW-NHIA", 2: .integer(Int64.random(in: 0...3, using: &g)),
            3: .integer(now - 60), 4: .integer(now + [3600, -301, -300].randomElement(using: &g)!),
        ]
        var signer = revocation
        for _ in 0..<Int.random(in: 0...2, using: &g) {
            switch Int.random(in: 0..<8, using: &g) {
            case 0: payload[1] = "TW-OTHER"
            case 1: signer = token
            case 2 where !entries.isEmpty: entries[0][3] = 20_261_232
            case 3 where !entries.isEmpty: entries[0][2] = "yesterday"
            case 4: entries.append([1: .bytes([9]), 2: 0])
            case 5: payload[3] = .integer(now + 10_000)
            case 6: entries = []
            case 7: signer = root
            default: break
            }
        }
        payload[5] = .array(entries.map { .map($0) })
        var bytes = CBOREncoder.encode(.map(payload))
        if Int.random(in: 0..<12, using: &g) == 0 { mutate(&bytes, using: &g) }
        return try COSESign1.sign(payload: bytes, with: signer)
    }

    static func mutate(_ bytes: inout [UInt8], using g: inout SeededGenerator) {
        ReferenceInteropTests.mutate(&bytes, using: &g)
    }
}
