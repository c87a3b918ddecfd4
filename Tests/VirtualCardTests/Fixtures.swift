import Crypto
import Foundation
import Testing
import VirtualCard

/// Test fixtures: files copied into `Fixtures/` and deterministic keys.
enum Fixtures {
    static func url(_ relativePath: String) throws -> URL {
        let url = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil)).appendingPathComponent(
            relativePath)
        return url
    }

    static func json(_ relativePath: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: try url(relativePath)))
    }

    /// A P-256 key from a fixed seed, so tests are repeatable.
    static func key(_ seed: String) -> P256.Signing.PrivateKey {
        var digest = Array(SHA256.hash(data: Array(seed.utf8)))
        while true {
            if let key = try? P256.Signing.PrivateKey(rawRepresentation: digest) { return key }
            digest = Array(SHA256.hash(data: digest))
        }
    }

    static let root = key("root")
    static let tokenKey = key("token")
    static let revocationKey = key("revocation")
    static let issuer = "TW-NHIA"
    /// 2026-11-22T10:00:00Z, 18:00 in Taipei.
    static let now: Int64 = 1_795_341_600

    static func trustList(
        sequence: Int64 = 1, issuedAt: Int64 = now - 86_400, expiresAt: Int64 = now + 30 * 86_400,
        keys: [TrustList.Entry]? = nil
    ) throws -> [UInt8] {
        try TrustList.build(
            issuer: issuer, sequence: sequence, issuedAt: issuedAt, expiresAt: expiresAt,
            keys: keys ?? [
                TrustList.Entry(
                    publicKey: tokenKey.publicKey, usage: .tokenSigning, notBefore: 0, notAfter: now + 365 * 86_400),
                TrustList.Entry(
                    publicKey: revocationKey.publicKey, usage: .revocationListSigning, notBefore: 0,
                    notAfter: now + 365 * 86_400),
            ],
            root: root)
    }

    static func revocationList(
        sequence: Int64 = 1, expiresAt: Int64 = now + 86_400, revoked: [RevocationList.Entry] = []
    ) throws -> [UInt8] {
        try RevocationList.build(
            issuer: issuer, sequence: sequence, issuedAt: now - 3600, expiresAt: expiresAt, entries: revoked,
            signer: revocationKey)
    }

    static func verifier(revocations: [UInt8]? = nil, trust: [UInt8]? = nil) throws -> TokenVerifier {
        TokenVerifier(root: root.publicKey, trustList: try trust ?? trustList(), revocationList: revocations)
    }

    static func claims(
        issuedAt: Int64 = now, lifetime: Int64 = 300, id: String = "A123456789", name: String = "王小明",
        photo: TokenClaims.Photo = .verified, delegation: TokenClaims.Delegation? = nil, cardNumber: String? = nil
    ) -> TokenClaims {
        TokenClaims(
            issuer: issuer, issuedAt: issuedAt, expiresAt: issuedAt + lifetime, tokenID: TokenIssuer.newTokenID(),
            holder: .init(id: id, name: name, birthDate: CalendarDate(year: 1980, month: 5, day: 17)!, photo: photo),
            delegation: delegation, cardNumber: cardNumber)
    }

    static func delegation(
        from: String = "2026-11-01", to: String = "2026-12-31", id: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]
    )
        -> TokenClaims.Delegation
    {
        TokenClaims.Delegation(
            delegateID: "F222333444", delegationID: id, validFrom: CalendarDate(iso: from)!,
            validTo: CalendarDate(iso: to)!)
    }

    static func issue(_ claims: TokenClaims, key: P256.Signing.PrivateKey = tokenKey) throws -> String {
        try TokenIssuer(signingKey: key, issuer: issuer).issue(claims)
    }

    /// Signs arbitrary payload bytes as a token, bypassing the issuer's rules (for negative cases).
    static func signRaw(
        payload: [UInt8], key: P256.Signing.PrivateKey = tokenKey, placement: COSESign1.KeyIDPlacement = .protected,
        tagged: Bool = true
    ) throws -> String {
        TokenIssuer.encode(try COSESign1.sign(payload: payload, with: key, keyIDPlacement: placement, tagged: tagged))
    }
}

/// An in-memory replay store for tests of the pure verifier.
final class MemoryConsumedTokens: ConsumedTokenStore, @unchecked Sendable {
    private let lock = NSLock()
    private var ids: [[UInt8]: Int64] = [:]
    func consume(tokenID: [UInt8], keepUntil: Int64, now: Int64) throws -> Bool {
        lock.lock()
        defer { lock.unlock() }
        ids = ids.filter { $0.value >= now }
        guard ids[tokenID] == nil else { return false }
        ids[tokenID] = keepUntil
        return true
    }
    var count: Int { lock.withLock { ids.count } }
}
