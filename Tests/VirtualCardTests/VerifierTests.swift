import Crypto
import Foundation
import TestSupport
import Testing
import VirtualCard

@Suite("Verifier")
struct VerifierTests {
    let now = Fixtures.now

    @Test("issue → verify round trip over many generated claim sets", arguments: 0..<60)
    func roundTrip(seed: Int) throws {
        var g = SeededGenerator(seed: UInt64(seed))
        let ids = ["A123456789", "F222333444", "A800000014", "F912345678", "AC01234567", "B120000008"]
        let holderID = ids.randomElement(using: &g)!
        let scalars: [Character] = ["王", "小", "明", "A", "z", " ", "é", "😀", "ㄅ", "-"]
        let name = String((0..<Int.random(in: 1...40, using: &g)).map { _ in scalars.randomElement(using: &g)! })
        let lifetime = Int64.random(in: 1...300, using: &g)
        let issuedAt = now - Int64.random(in: 0...lifetime, using: &g)
        var delegation: TokenClaims.Delegation? = nil
        if Bool.random(using: &g) {
            let delegate = ids.filter { $0 != holderID }.randomElement(using: &g)!
            let idBytes = (0..<Int.random(in: 8...16, using: &g)).map { _ in UInt8.random(in: 0...255, using: &g) }
            delegation = .init(
                delegateID: delegate, delegationID: idBytes, validFrom: CalendarDate(iso: "2026-11-22")!,
                validTo: CalendarDate(iso: "2027-11-22")!)
        }
        let claims = TokenClaims(
            issuer: Fixtures.issuer, issuedAt: issuedAt, expiresAt: issuedAt + lifetime,
            tokenID: TokenIssuer.newTokenID(),
            holder: .init(
                id: holderID, name: name,
                birthDate: CalendarDate(year: Int.random(in: 1900...2026, using: &g), month: 2, day: 28)!,
                photo: Bool.random(using: &g) ? .verified : .none),
            delegation: delegation,
            cardNumber: Bool.random(using: &g) ? "0000\(Int.random(in: 10_000_000...99_999_999, using: &g))" : nil)
        let text = try Fixtures.issue(claims)
        // Everything is in the QR alphanumeric set, so the QR code can use its compact mode.
        #expect(text.utf8.allSatisfy { "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:".utf8.contains($0) })
        let verifier = try Fixtures.verifier(revocations: try Fixtures.revocationList())
        let verification = try verifier.verify(text, at: now)
        #expect(verification.code == .valid, "\(verification.detail)")
        #expect(verification.claims == claims)
        let report = VerificationReport(verification)
        #expect(report.idCheckRequired == (claims.holder.photo == .none))
    }

    @Test("replay: consumed once, and only by a token that passed everything else")
    func replay() throws {
        let verifier = try Fixtures.verifier()
        let store = MemoryConsumedTokens()
        let text = try Fixtures.issue(Fixtures.claims())
        #expect(try verifier.verify(text, at: now - 120, consumedTokens: store).code == .notYetValid)
        #expect(store.count == 0)
        #expect(try verifier.verify(text, at: now, consumedTokens: store).code == .valid)
        #expect(try verifier.verify(text, at: now + 1, consumedTokens: store).code == .replayed)
        #expect(try verifier.verify(text + "\n", at: now + 2, consumedTokens: store).code == .replayed)
        // Past exp + skew the token is expired before it is a replay.
        #expect(try verifier.verify(text, at: now + 361, consumedTokens: store).code == .expired)
    }

    @Test("time boundaries with skew 0, 60 and 120", arguments: [Int64(0), 60, 120])
    func timeBoundaries(skew: Int64) throws {
        let verifier = try Fixtures.verifier()
        let text = try Fixtures.issue(Fixtures.claims())
        let exp = now + 300
        #expect(try verifier.verify(text, at: exp + skew, skew: skew).code == .valid)
        #expect(try verifier.verify(text, at: exp + skew + 1, skew: skew).code == .expired)
        #expect(try verifier.verify(text, at: now - skew, skew: skew).code == .valid)
        #expect(try verifier.verify(text, at: now - skew - 1, skew: skew).code == .notYetValid)
    }

    @Test("lifetime 300 is accepted, 301 and 0 are claims_invalid")
    func lifetime() throws {
        let verifier = try Fixtures.verifier()
        #expect(try verifier.verify(try Fixtures.issue(Fixtures.claims(lifetime: 300)), at: now).code == .valid)
        for lifetime: Int64 in [301, 0, -5] {
            let payload = CBOREncoder.encode(Fixtures.claims(lifetime: lifetime).cbor)
            #expect(try verifier.verify(try Fixtures.signRaw(payload: payload), at: now).code == .claimsInvalid)
        }
    }

    @Test(
        "names: 40 scalars pass, 41 and control characters do not",
        arguments: [
            (String(repeating: "😀", count: 40), true), (String(repeating: "王", count: 41), false),
            ("e\u{301}" + String(repeating: "a", count: 38), true),  // 39 characters but 40 scalars
            ("e\u{301}" + String(repeating: "a", count: 39), false),  // 40 characters but 41 scalars
            ("", false), ("王\u{7}明", false), ("王\u{85}明", false), ("王 明", true),
        ])
    func names(name: String, valid: Bool) throws {
        let payload = CBOREncoder.encode(Fixtures.claims(name: name).cbor)
        let code = try Fixtures.verifier().verify(try Fixtures.signRaw(payload: payload), at: now).code
        #expect(code == (valid ? .valid : .claimsInvalid))
    }

    @Test("delegation days turn at midnight Asia/Taipei")
    func delegationDays() throws {
        let verifier = try Fixtures.verifier(revocations: try Fixtures.revocationList(expiresAt: now + 40 * 86_400))
        let delegation = Fixtures.delegation(from: "2026-11-23", to: "2026-11-24")
        let firstDay = CalendarDate(iso: "2026-11-23")!.taipeiMidnight
        let dayAfter = CalendarDate(iso: "2026-11-25")!.taipeiMidnight
        func code(at time: Int64) throws -> VerificationCode {
            try verifier.verify(try Fixtures.issue(Fixtures.claims(issuedAt: time, delegation: delegation)), at: time)
                .code
        }
        #expect(try code(at: firstDay - 1) == .delegationNotYetValid)
        #expect(try code(at: firstDay) == .valid)
        #expect(try code(at: dayAfter - 1) == .valid)
        #expect(try code(at: dayAfter) == .delegationExpired)
    }

    @Test("revocation: revoked, unavailable, expired list, and undelegated tokens unaffected")
    func revocation() throws {
        let id: [UInt8] = [9, 9, 9, 9, 9, 9, 9, 9, 9]
        let revoked = try Fixtures.revocationList(
            revoked: [.init(delegationID: id, revokedAt: now - 60, keepUntil: CalendarDate(iso: "2026-12-31")!)])
        let delegated = try Fixtures.issue(Fixtures.claims(delegation: Fixtures.delegation(id: id)))
        let other = try Fixtures.issue(Fixtures.claims(delegation: Fixtures.delegation()))
        let plain = try Fixtures.issue(Fixtures.claims())
        #expect(try Fixtures.verifier(revocations: revoked).verify(delegated, at: now).code == .delegationRevoked)
        #expect(try Fixtures.verifier(revocations: revoked).verify(other, at: now).code == .valid)
        #expect(try Fixtures.verifier().verify(other, at: now).code == .revocationListUnavailable)
        #expect(try Fixtures.verifier().verify(plain, at: now).code == .valid)
        // A list past expires + 300 is no longer current.
        let stale = try Fixtures.revocationList(expiresAt: now - 301)
        #expect(try Fixtures.verifier(revocations: stale).verify(other, at: now).code == .revocationListUnavailable)
        #expect(try Fixtures.verifier(revocations: stale).verify(plain, at: now).code == .valid)
        let justCurrent = try Fixtures.revocationList(expiresAt: now - 300)
        #expect(try Fixtures.verifier(revocations: justCurrent).verify(other, at: now).code == .valid)
    }

    @Test("revocation-list key: out of its window is revocation_list_invalid; a second listing of it can rescue")
    func revocationSigner() throws {
        let plain = try Fixtures.issue(Fixtures.claims())
        func entry(notAfter: Int64) -> TrustList.Entry {
            .init(
                publicKey: Fixtures.revocationKey.publicKey, usage: .revocationListSigning, notBefore: 0,
                notAfter: notAfter)
        }
        let token = TrustList.Entry(
            publicKey: Fixtures.tokenKey.publicKey, usage: .tokenSigning, notBefore: 0, notAfter: now + 1000)
        let lapsed = try Fixtures.trustList(keys: [token, entry(notAfter: now - 1)])
        let both = try Fixtures.trustList(keys: [token, entry(notAfter: now - 1), entry(notAfter: now + 1000)])
        let list = try Fixtures.revocationList()
        #expect(
            try Fixtures.verifier(revocations: list, trust: lapsed).verify(plain, at: now).code
                == .revocationListInvalid)
        #expect(try Fixtures.verifier(revocations: list, trust: both).verify(plain, at: now).code == .valid)
    }

    @Test("a broken revocation list does not hide the trust list's own faults")
    func listFaultOrder() throws {
        let text = try Fixtures.issue(Fixtures.claims())
        var broken = try Fixtures.revocationList()
        broken[broken.count - 1] ^= 1
        func code(_ trust: [UInt8], held: Int64? = nil) throws -> VerificationCode {
            try Fixtures.verifier(revocations: broken, trust: trust).verify(
                text, at: now, held: HeldSequences(trustList: held)
            ).code
        }
        #expect(try code(try Fixtures.trustList()) == .revocationListInvalid)
        #expect(try code(try Fixtures.trustList(expiresAt: now - 301)) == .trustListExpired)
        #expect(try code(try Fixtures.trustList(issuedAt: now + 301)) == .trustListInvalid)
        #expect(try code(try Fixtures.trustList(sequence: 1), held: 2) == .trustListRollback)
    }

    @Test("trust list: expiry grace, future issue, rollback, bad signature")
    func trustList() throws {
        let text = try Fixtures.issue(Fixtures.claims())
        func code(_ trust: [UInt8], held: Int64? = nil) throws -> VerificationCode {
            try Fixtures.verifier(trust: trust).verify(text, at: now, held: HeldSequences(trustList: held)).code
        }
        #expect(try code(try Fixtures.trustList(expiresAt: now - 300)) == .valid)
        #expect(try code(try Fixtures.trustList(expiresAt: now - 301)) == .trustListExpired)
        #expect(try code(try Fixtures.trustList(issuedAt: now + 300)) == .valid)
        #expect(try code(try Fixtures.trustList(issuedAt: now + 301)) == .trustListInvalid)
        #expect(try code(try Fixtures.trustList(sequence: 4), held: 5) == .trustListRollback)
        #expect(try code(try Fixtures.trustList(sequence: 5), held: 5) == .valid)
        var tampered = try Fixtures.trustList()
        tampered[tampered.count - 1] ^= 1
        #expect(try code(tampered) == .trustListInvalid)
        // Signed by a key that is not the root.
        let notRoot = try TrustList.build(
            issuer: Fixtures.issuer, sequence: 1, issuedAt: now, expiresAt: now + 10, keys: [], root: Fixtures.tokenKey)
        #expect(try code(notRoot) == .trustListInvalid)
        // The list's code wins over anything about the token.
        #expect(try Fixtures.verifier(trust: tampered).verify("hello", at: now).code == .trustListInvalid)
    }

    @Test("a trust-list entry whose kid is not its key's is trust_list_invalid")
    func wrongEntryKid() throws {
        let spki = Array(Fixtures.tokenKey.publicKey.derRepresentation)
        let entry = CBOR.map([
            1: .bytes([1, 2, 3, 4, 5, 6, 7, 8]), 2: .bytes(spki), 3: 1, 4: 0, 5: .integer(now + 100),
        ])
        let payload = CBOR.map([
            1: .text(Fixtures.issuer), 2: 1, 3: .integer(now), 4: .integer(now + 100), 5: .array([entry]),
        ])
        let list = try COSESign1.sign(payload: CBOREncoder.encode(payload), with: Fixtures.root)
        #expect(throws: ListError.self) { try TrustList(cose: list, root: Fixtures.root.publicKey) }
    }

    @Test("keys: past validity and wrong usage are key_unknown; unknown kid too")
    func keyLookup() throws {
        let text = try Fixtures.issue(Fixtures.claims())
        let expiredKey = try Fixtures.trustList(keys: [
            .init(publicKey: Fixtures.tokenKey.publicKey, usage: .tokenSigning, notBefore: 0, notAfter: now - 1)
        ])
        #expect(try Fixtures.verifier(trust: expiredKey).verify(text, at: now).code == .keyUnknown)
        let wrongUsage = try Fixtures.trustList(keys: [
            .init(
                publicKey: Fixtures.tokenKey.publicKey, usage: .revocationListSigning, notBefore: 0, notAfter: now + 10)
        ])
        #expect(try Fixtures.verifier(trust: wrongUsage).verify(text, at: now).code == .keyUnknown)
        let stranger = try Fixtures.issue(Fixtures.claims(), key: Fixtures.key("stranger"))
        #expect(try Fixtures.verifier().verify(stranger, at: now).code == .keyUnknown)
    }

    @Test("two keys share a kid: the signature is tried against each")
    func sharedKid() throws {
        // Same public key listed twice with different windows: either candidate may verify.
        let trust = try Fixtures.trustList(keys: [
            .init(publicKey: Fixtures.tokenKey.publicKey, usage: .tokenSigning, notBefore: 0, notAfter: now + 10),
            .init(
                publicKey: Fixtures.tokenKey.publicKey, usage: .tokenSigning, notBefore: now - 10, notAfter: now + 500),
        ])
        #expect(
            try Fixtures.verifier(trust: trust).verify(try Fixtures.issue(Fixtures.claims()), at: now).code == .valid)
    }

    @Test("text form: prefixes and trailing newlines")
    func textForm() throws {
        let verifier = try Fixtures.verifier()
        let text = try Fixtures.issue(Fixtures.claims())
        let body = String(text.dropFirst(5))
        #expect(try verifier.verify(text + "\n", at: now).code == .valid)
        #expect(try verifier.verify(text + "\r\n", at: now).code == .valid)
        #expect(try verifier.verify(text + "\n\n", at: now).code == .base45Invalid)
        #expect(try verifier.verify(text + "\r", at: now).code == .base45Invalid)
        #expect(try verifier.verify(text + " ", at: now).code == .base45Invalid)
        #expect(try verifier.verify(" " + text, at: now).code == .prefixMissing)
        #expect(try verifier.verify("vhc1:" + body, at: now).code == .prefixMissing)
        #expect(try verifier.verify("VHC2:" + body, at: now).code == .prefixUnsupported)
        #expect(try verifier.verify("VHCZ:" + body, at: now).code == .prefixUnsupported)
        #expect(try verifier.verify("VHC0:" + body, at: now).code == .prefixMissing)
        #expect(try verifier.verify("VHCa:" + body, at: now).code == .prefixMissing)
        #expect(try verifier.verify("VHC1:", at: now).code == .base45Invalid)
        #expect(try verifier.verify("VHC1:\n", at: now).code == .base45Invalid)
        #expect(try verifier.verify("", at: now).code == .prefixMissing)
        #expect(try verifier.verify([0x56, 0x48, 0x43, 0x31, 0x3A, 0xFF, 0xFE], at: now).code == .base45Invalid)
    }

    @Test("COSE stage: shape, headers, algorithm, kid")
    func coseStage() throws {
        let verifier = try Fixtures.verifier()
        let payload = CBOREncoder.encode(Fixtures.claims().cbor)
        let kid = CBOR.bytes(KeyID(publicKey: Fixtures.tokenKey.publicKey).bytes)
        func code(_ message: CBOR) throws -> VerificationCode {
            try verifier.verify(TokenIssuer.encode(CBOREncoder.encode(message)), at: now).code
        }
        func protected(_ header: [CBOR: CBOR]) -> CBOR { .bytes(CBOREncoder.encode(.map(header))) }
        let signature = CBOR.bytes([UInt8](repeating: 1, count: 64))
        #expect(try code(.array([protected([1: -7, 4: kid]), .map([:]), .bytes(payload)])) == .coseInvalid)
        #expect(try code(.tagged(18, .map([:]))) == .coseInvalid)
        #expect(try code(.array([.bytes([]), .map([:]), .bytes(payload), signature])) == .coseInvalid)
        #expect(
            try code(.array([protected([1: -7, 4: kid, 3: 0]), .map([:]), .bytes(payload), signature])) == .coseInvalid)
        #expect(
            try code(.array([protected([1: -7]), .map([4: kid, 1: -7]), .bytes(payload), signature])) == .coseInvalid)
        #expect(try code(.array([protected([4: kid]), .map([:]), .bytes(payload), signature])) == .coseInvalid)
        #expect(
            try code(.array([protected([1: -35, 4: kid]), .map([:]), .bytes(payload), signature]))
                == .algorithmUnsupported)
        #expect(
            try code(.array([protected([1: "ES256", 4: kid]), .map([:]), .bytes(payload), signature]))
                == .algorithmUnsupported)
        #expect(try code(.array([protected([1: -7]), .map([:]), .bytes(payload), signature])) == .kidInvalid)
        #expect(
            try code(.array([protected([1: -7, 4: .bytes([1, 2, 3])]), .map([4: kid]), .bytes(payload), signature]))
                == .kidInvalid)
        #expect(
            try code(.array([protected([1: -7, 4: kid]), .map([:]), .bytes(payload), signature])) == .signatureInvalid)
        #expect(
            try code(.array([protected([1: -7, 4: kid]), .map([:]), .bytes(payload), .bytes([1, 2])]))
                == .signatureInvalid)
        // A payload that is not CBOR of the subset is cbor_invalid even before its signature is looked at.
        #expect(
            try code(.array([protected([1: -7, 4: kid]), .map([:]), .bytes([0x18, 0x01]), signature])) == .cborInvalid)
        #expect(try code(.array([.bytes([0xA1, 0x01]), .map([:]), .bytes(payload), signature])) == .cborInvalid)
    }

    @Test("non-canonical CBOR inside a correctly signed payload is cbor_invalid")
    func nonCanonicalSignedPayload() throws {
        let verifier = try Fixtures.verifier()
        var payload = CBOREncoder.encode(Fixtures.claims().cbor)
        // Re-encode the map head (a5) in its long form (b8 05): same value, not shortest.
        #expect(payload[0] == 0xA5)
        payload.replaceSubrange(0..<1, with: [0xB8, 0x05])
        #expect(try verifier.verify(try Fixtures.signRaw(payload: payload), at: now).code == .cborInvalid)
        #expect(
            try verifier.verify(try Fixtures.signRaw(payload: CBOREncoder.encode(Fixtures.claims().cbor)), at: now).code
                == .valid)
    }

    @Test("untagged COSE and kid in the unprotected header are valid")
    func alternativeForms() throws {
        let verifier = try Fixtures.verifier()
        let payload = CBOREncoder.encode(Fixtures.claims().cbor)
        #expect(try verifier.verify(try Fixtures.signRaw(payload: payload, tagged: false), at: now).code == .valid)
        #expect(
            try verifier.verify(try Fixtures.signRaw(payload: payload, placement: .unprotected), at: now).code == .valid
        )
    }

    nonisolated(unsafe) static let claimMutations: [(String, (inout [CBOR: CBOR]) -> Void)] = [
        ("extra claim", { (m: inout [CBOR: CBOR]) in m[2] = "subject" }),
        ("missing cti", { (m: inout [CBOR: CBOR]) in m[7] = nil }),
        ("text iss wrong", { (m: inout [CBOR: CBOR]) in m[1] = "XX-NHIA" }),
        ("negative exp", { (m: inout [CBOR: CBOR]) in m[4] = -1 }),
        ("cti 15 bytes", { (m: inout [CBOR: CBOR]) in m[7] = .bytes([UInt8](repeating: 0, count: 15)) }),
        ("text key", { (m: inout [CBOR: CBOR]) in m["iss"] = "TW-NHIA" }),
        ("vhc not a map", { (m: inout [CBOR: CBOR]) in m[-70000] = .array([]) }),
        ("photo 2", { (m: inout [CBOR: CBOR]) in m[-70000] = vhc(m) { $0[4] = 2 } }),
        ("unknown vhc key", { (m: inout [CBOR: CBOR]) in m[-70000] = vhc(m) { $0[7] = 1 } }),
        ("bad holder id", { (m: inout [CBOR: CBOR]) in m[-70000] = vhc(m) { $0[1] = "A123456788" } }),
        ("birth 1899", { (m: inout [CBOR: CBOR]) in m[-70000] = vhc(m) { $0[3] = 18_991_231 } }),
        ("birth after issue", { (m: inout [CBOR: CBOR]) in m[-70000] = vhc(m) { $0[3] = 20_261_123 } }),
        ("birth 30 February", { (m: inout [CBOR: CBOR]) in m[-70000] = vhc(m) { $0[3] = 20_000_230 } }),
        ("card 11 digits", { (m: inout [CBOR: CBOR]) in m[-70000] = vhc(m) { $0[6] = "12345678901" } }),
        ("card full-width digits", { (m: inout [CBOR: CBOR]) in m[-70000] = vhc(m) { $0[6] = "１２３４５６７８９０１２" } }),
        (
            "delegate is holder",
            { (m: inout [CBOR: CBOR]) in
                m[-70000] = vhc(m) {
                    $0[5] = .map([1: "A123456789", 2: .bytes([1, 2, 3, 4, 5, 6, 7, 8]), 3: 20_261_101, 4: 20_261_231])
                }
            }
        ),
        (
            "delegation id 7 bytes",
            { (m: inout [CBOR: CBOR]) in
                m[-70000] = vhc(m) {
                    $0[5] = .map([1: "F222333444", 2: .bytes([1, 2, 3, 4, 5, 6, 7]), 3: 20_261_101, 4: 20_261_231])
                }
            }
        ),
        (
            "delegation from after to",
            { (m: inout [CBOR: CBOR]) in
                m[-70000] = vhc(m) {
                    $0[5] = .map([1: "F222333444", 2: .bytes([1, 2, 3, 4, 5, 6, 7, 8]), 3: 20_261_231, 4: 20_261_101])
                }
            }
        ),
        (
            "delegation missing valid-to",
            { (m: inout [CBOR: CBOR]) in
                m[-70000] = vhc(m) {
                    $0[5] = .map([1: "F222333444", 2: .bytes([1, 2, 3, 4, 5, 6, 7, 8]), 3: 20_261_101])
                }
            }
        ),
    ]

    @Test("claims: closed key sets, types and rules", arguments: claimMutations.indices)
    func claimsRules(index: Int) throws {
        let (name, mutate) = Self.claimMutations[index]
        var map = Fixtures.claims().cbor.map!
        mutate(&map)
        let text = try Fixtures.signRaw(payload: CBOREncoder.encode(.map(map)))
        #expect(try Fixtures.verifier().verify(text, at: now).code == .claimsInvalid, "\(name)")
    }

    @Test("the issuer refuses what the verifier would reject")
    func issuerRefuses() {
        #expect(throws: TokenClaims.Violation.self) { try Fixtures.issue(Fixtures.claims(id: "A123456788")) }
        #expect(throws: TokenClaims.Violation.self) { try Fixtures.issue(Fixtures.claims(lifetime: 301)) }
        #expect(throws: TokenClaims.Violation.self) { try Fixtures.issue(Fixtures.claims(cardNumber: "1")) }
    }

    @Test("token size limit: COSE bytes over 1024 are cbor_invalid")
    func sizeLimit() throws {
        let big = CBOREncoder.encode(
            .array([.bytes([0xA0]), .map([:]), .bytes([UInt8](repeating: 0, count: 1020)), .bytes([])]))
        #expect(big.count > 1024)
        #expect(try Fixtures.verifier().verify(TokenIssuer.encode(big), at: now).code == .cborInvalid)
    }

    @Test("every code has a plain-language reason")
    func reasons() {
        #expect(VerificationCode.allCases.count == 22)
        #expect(Set(VerificationCode.allCases.map(\.reason)).count == 22)
    }
}

/// The `vhc` map of a claims map, changed by `change`.
func vhc(_ claims: [CBOR: CBOR], _ change: (inout [CBOR: CBOR]) -> Void) -> CBOR {
    var map = claims[-70000]!.map!
    change(&map)
    return .map(map)
}
