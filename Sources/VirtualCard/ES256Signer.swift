import Crypto

/// What makes an ES256 (ECDSA P-256 with SHA-256) signature: a key in memory, or one on a card or
/// token that never leaves it. COSE_Sign1 signs through this, so a visit opening or a list is signed
/// the same way whichever holds the key.
public protocol ES256Signer: Sendable {
    /// The public half, for the key id and for checks.
    var publicKey: P256.Signing.PublicKey { get }
    /// A signature over `message` (hashed with SHA-256 by the signer).
    func signature(for message: [UInt8]) throws -> P256.Signing.ECDSASignature
}

/// A key in memory signs with swift-crypto's own method.
extension P256.Signing.PrivateKey: ES256Signer {}
