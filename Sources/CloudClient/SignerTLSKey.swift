import NIOCore
import NIOPosix
import NIOSSL
import VirtualCard

/// A TLS client key that signs through an `ES256Signer` (a card or token: the key is never read), for
/// swift-nio-ssl's custom private key support. The handshake's signature is made off the event loop, on
/// NIO's blocking pool: a smart card takes tens of milliseconds to sign, and the loop serves every other
/// connection meanwhile.
struct SignerTLSKey: NIOSSLCustomPrivateKey, Hashable {
    let signer: any ES256Signer

    var signatureAlgorithms: [SignatureAlgorithm] { [.ecdsaSecp256R1Sha256] }

    func sign(channel: Channel, algorithm: SignatureAlgorithm, data: ByteBuffer) -> EventLoopFuture<ByteBuffer> {
        guard algorithm == .ecdsaSecp256R1Sha256 else {
            return channel.eventLoop.makeFailedFuture(UnsupportedAlgorithm(algorithm: algorithm))
        }
        let message = Array(data.readableBytesView)
        let signer = signer
        // TLS carries ECDSA signatures in DER; the signer hashes the message with SHA-256 itself.
        return NIOThreadPool.singleton.runIfActive(eventLoop: channel.eventLoop) {
            ByteBuffer(bytes: try signer.signature(for: message).derRepresentation)
        }
    }

    func decrypt(channel: Channel, data: ByteBuffer) -> EventLoopFuture<ByteBuffer> {
        channel.eventLoop.makeFailedFuture(UnsupportedAlgorithm(algorithm: nil))
    }

    struct UnsupportedAlgorithm: Error, CustomStringConvertible {
        let algorithm: SignatureAlgorithm?
        var description: String { "the institution's key signs only ECDSA P-256 with SHA-256" }
    }

    // One key per signer object: swift-nio-ssl compares keys when it compares configurations.
    static func == (lhs: SignerTLSKey, rhs: SignerTLSKey) -> Bool {
        lhs.signer.publicKey.rawRepresentation == rhs.signer.publicKey.rawRepresentation
    }

    func hash(into hasher: inout Hasher) { hasher.combine(signer.publicKey.rawRepresentation) }
}
