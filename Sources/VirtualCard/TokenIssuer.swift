import Crypto

/// The issuer side of the profile: signs claims into token text. Used by the sandbox cloud, the
/// demonstration and tests. It refuses claims the verifier would reject.
public struct TokenIssuer: Sendable {
    public let signingKey: P256.Signing.PrivateKey
    public let issuer: String

    public init(signingKey: P256.Signing.PrivateKey, issuer: String) {
        self.signingKey = signingKey
        self.issuer = issuer
    }

    public var keyID: KeyID { KeyID(publicKey: signingKey.publicKey) }

    /// Signs `claims` as `VHC1:` text. Throws `TokenClaims.Violation` for claims that break a rule.
    public func issue(_ claims: TokenClaims, keyIDPlacement: COSESign1.KeyIDPlacement = .protected) throws -> String {
        try claims.validate(expectedIssuer: issuer)
        return Self.encode(
            try COSESign1.sign(
                payload: CBOREncoder.encode(claims.cbor), with: signingKey, keyIDPlacement: keyIDPlacement))
    }

    /// Text form of COSE bytes: the prefix and Base45.
    public static func encode(_ cose: [UInt8]) -> String { TokenVerifier.prefix + Base45.encode(cose) }

    /// A fresh random 16-byte token id.
    public static func newTokenID<Generator: RandomNumberGenerator>(using generator: inout Generator) -> [UInt8] {
        (0..<TokenClaims.tokenIDLength).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    public static func newTokenID() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return newTokenID(using: &generator)
    }
}
