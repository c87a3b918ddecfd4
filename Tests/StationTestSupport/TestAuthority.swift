import Crypto
import Foundation
import Station
import TestSupport
import VirtualCard

/// A test issuing authority: a root key, a token-signing key and a revocation-signing key, with
/// builders for the lists and tokens the station tests need. Keys are fresh for every test.
package struct TestAuthority: Sendable {
    package let root = P256.Signing.PrivateKey()
    package let tokenKey = P256.Signing.PrivateKey()
    package let revocationKey = P256.Signing.PrivateKey()
    package let issuer = "NHIA-TEST"
    /// A fixed "now" for the tests: 2026-11-22 12:00:00 UTC.
    package static let now: Int64 = 1_795_348_800

    package init() {}

    package func trustList(
        sequence: Int64, issuedAt: Int64 = now - 3600, expiresAt: Int64 = now + 30 * 86_400
    ) throws
        -> [UInt8]
    {
        let year: Int64 = 365 * 86_400
        let from: Int64 = Self.now - year, to: Int64 = Self.now + year
        let keys: [TrustList.Entry] = [
            TrustList.Entry(publicKey: tokenKey.publicKey, usage: .tokenSigning, notBefore: from, notAfter: to),
            TrustList.Entry(
                publicKey: revocationKey.publicKey, usage: .revocationListSigning, notBefore: from, notAfter: to),
        ]
        return try TrustList.build(
            issuer: issuer, sequence: sequence, issuedAt: issuedAt, expiresAt: expiresAt, keys: keys, root: root)
    }

    package func revocationList(
        sequence: Int64, revoked: [[UInt8]] = [], issuedAt: Int64 = now - 600, expiresAt: Int64 = now + 86_400
    ) throws -> [UInt8] {
        try RevocationList.build(
            issuer: issuer, sequence: sequence, issuedAt: issuedAt, expiresAt: expiresAt,
            entries: revoked.map {
                .init(
                    delegationID: $0, revokedAt: issuedAt, keepUntil: CalendarDate(taipeiDateAt: Self.now + 90 * 86_400)
                )
            },
            signer: revocationKey)
    }

    package func token(
        holderID: String = "A123456789", name: String = "王小明", photo: TokenClaims.Photo = .verified,
        delegateID: String? = nil, delegationID: [UInt8] = Array(repeating: 9, count: 16), issuedAt: Int64 = now
    ) throws -> [UInt8] {
        let claims = TokenClaims(
            issuer: issuer, issuedAt: issuedAt, expiresAt: issuedAt + 300, tokenID: TokenIssuer.newTokenID(),
            holder: .init(
                id: holderID, name: name, birthDate: CalendarDate(year: 1980, month: 5, day: 17)!, photo: photo),
            delegation: delegateID.map {
                .init(
                    delegateID: $0, delegationID: delegationID,
                    validFrom: CalendarDate(taipeiDateAt: issuedAt - 30 * 86_400),
                    validTo: CalendarDate(taipeiDateAt: issuedAt + 30 * 86_400))
            })
        return Array(try TokenIssuer(signingKey: tokenKey, issuer: issuer).issue(claims).utf8)
    }

    /// A station over a fresh database in `folder`, with this authority's trust list installed.
    package func station(
        in folder: TemporaryFolder, name: String = "station.sqlite", institution: String = "0123456789",
        sessionLength: Int64 = 3600, installTrustList: Bool = true
    ) throws -> StationPolicy {
        let policy = StationPolicy(
            database: try StationDatabase(path: folder.path(name)), root: root.publicKey,
            settings: .init(institution: institution, skewSeconds: 120, sessionLengthSeconds: sessionLength))
        if installTrustList {
            try policy.trust.install(.trust, cose: trustList(sequence: 1), root: root.publicKey, now: Self.now)
        }
        return policy
    }
}

/// Valid Taiwan ID numbers for tests: the check digit found by trying each.
package func taiwanID(_ prefix: String) -> String {
    (0...9).map { prefix + String($0) }.first(where: TaiwanID.isValid)!
}
