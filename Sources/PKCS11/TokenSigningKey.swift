import CPKCS11
import Crypto
import Foundation
import SwiftASN1
import VirtualCard

/// A P-256 private key (an `ES256Signer`) that lives on a token and never leaves it: found by its URI, it signs on the
/// token (`CKM_ECDSA` over the SHA-256 digest, which gives the raw r‖s that COSE carries and that TLS
/// wraps in DER). Its public half is read from the token's public key object with the same `CKA_ID`
/// (or label), or given by the caller from the certificate.
package final class TokenSigningKey: ES256Signer {
    package let uri: PKCS11URI
    package let session: PKCS11Session
    let handle: CK_OBJECT_HANDLE
    package let publicKey: P256.Signing.PublicKey

    /// Finds the private key `uri` names on an open (and, for most tokens, logged-in) session. The URI
    /// must name exactly one private key; `publicKey` is taken from the token when not given.
    package init(
        uri: PKCS11URI, session: PKCS11Session, publicKey: P256.Signing.PublicKey? = nil
    ) throws(PKCS11Error) {
        guard uri.type == nil || uri.type == .private else {
            throw PKCS11Error(kind: .notFound, function: "find key", detail: "\(uri) does not name a private key")
        }
        guard uri.object != nil || uri.id != nil else {
            throw PKCS11Error(kind: .notFound, function: "find key", detail: "\(uri) names no object (object= or id=)")
        }
        let keys = try session.findObjects(class: CK_OBJECT_CLASS(CKO_PRIVATE_KEY), label: uri.object, id: uri.id)
        guard let handle = keys.first else {
            throw PKCS11Error(kind: .notFound, function: "find key", detail: "no private key matches \(uri)")
        }
        guard keys.count == 1 else {
            throw PKCS11Error(kind: .ambiguous, function: "find key", detail: "\(keys.count) private keys match \(uri)")
        }
        let keyType = try session.attribute(CK_ATTRIBUTE_TYPE(CKA_KEY_TYPE), of: handle)
        guard Self.ulong(keyType) == CK_ULONG(CKK_EC) else {
            throw PKCS11Error(kind: .refused, function: "find key", detail: "\(uri) is not an elliptic-curve key")
        }
        self.uri = uri
        self.session = session
        self.handle = handle
        if let publicKey {
            self.publicKey = publicKey
        } else {
            // The public key object beside it: same id, else same label.
            let id = try? session.attribute(CK_ATTRIBUTE_TYPE(CKA_ID), of: handle)
            let publics = try session.findObjects(
                class: CK_OBJECT_CLASS(CKO_PUBLIC_KEY), label: id?.isEmpty == false ? nil : uri.object,
                id: id?.isEmpty == false ? id : nil)
            guard publics.count == 1 else {
                throw PKCS11Error(
                    kind: .notFound, function: "find key",
                    detail: "no single public key beside \(uri): give the certificate instead")
            }
            self.publicKey = try Self.publicKey(
                ecPoint: try session.attribute(CK_ATTRIBUTE_TYPE(CKA_EC_POINT), of: publics[0]), uri: uri)
        }
    }

    /// The key's `CKA_ID`, which the certificate beside it shares.
    package func id() throws(PKCS11Error) -> [UInt8] {
        try session.attribute(CK_ATTRIBUTE_TYPE(CKA_ID), of: handle)
    }

    /// Whether the key is still on the token: its session alive and the key itself still answering (a
    /// token taken away leaves the session's handle invalid, or the key's).
    package func isAvailable() -> Bool {
        session.isAlive() && (try? session.attribute(CK_ATTRIBUTE_TYPE(CKA_KEY_TYPE), of: handle)) != nil
    }

    /// An ECDSA P-256 signature over `message` (hashed here with SHA-256), made on the token.
    package func signature(for message: [UInt8]) throws(PKCS11Error) -> P256.Signing.ECDSASignature {
        let digest = Array(SHA256.hash(data: message))
        let raw = try session.sign(digest, key: handle, mechanism: CK_MECHANISM_TYPE(CKM_ECDSA))
        guard raw.count == 64, let signature = try? P256.Signing.ECDSASignature(rawRepresentation: raw) else {
            throw PKCS11Error(
                kind: .failed, function: "C_Sign", detail: "\(raw.count) bytes is not a P-256 signature (r‖s)")
        }
        return signature
    }

    /// `CKA_EC_POINT` as the standard says (a DER OCTET STRING around the uncompressed point), or the
    /// bare point some modules give.
    static func publicKey(ecPoint: [UInt8], uri: PKCS11URI) throws(PKCS11Error) -> P256.Signing.PublicKey {
        var point = ecPoint
        if let octets = try? ASN1OctetString(derEncoded: ecPoint) { point = Array(octets.bytes) }
        guard let key = try? P256.Signing.PublicKey(x963Representation: point) else {
            throw PKCS11Error(kind: .refused, function: "read key", detail: "\(uri) is not a P-256 key")
        }
        return key
    }

    /// A CK_ULONG attribute's bytes as a number (0 for a value of another size).
    static func ulong(_ bytes: [UInt8]) -> CK_ULONG {
        guard bytes.count == MemoryLayout<CK_ULONG>.size else { return 0 }
        return bytes.withUnsafeBytes { $0.loadUnaligned(as: CK_ULONG.self) }
    }
}

extension TokenSigningKey {
    /// The certificate (DER) the token keeps beside the key `uri` names: the one certificate object with
    /// the key's id, or else with its label.
    package static func certificate(for uri: PKCS11URI, on session: PKCS11Session) throws(PKCS11Error) -> [UInt8] {
        let certificates = try session.findObjects(
            class: CK_OBJECT_CLASS(CKO_CERTIFICATE), label: uri.id == nil ? uri.object : nil, id: uri.id)
        guard let certificate = certificates.first else {
            throw PKCS11Error(kind: .notFound, function: "find certificate", detail: "no certificate matches \(uri)")
        }
        guard certificates.count == 1 else {
            throw PKCS11Error(
                kind: .ambiguous, function: "find certificate", detail: "\(certificates.count) certificates match \(uri)")
        }
        return try session.attribute(CK_ATTRIBUTE_TYPE(CKA_VALUE), of: certificate)
    }

    /// The DER of prime256v1's OID, as `CKA_EC_PARAMS` names the curve.
    static let p256Parameters: [UInt8] = [0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07]

    /// Generates a P-256 key pair on the token (read-write, logged-in `session`), labelled `label` with
    /// `id`: the private key sensitive and not extractable, so it never leaves the token, and only for
    /// signing. Returns the new key, found again by its URI.
    package static func generate(
        on session: PKCS11Session, uri: PKCS11URI, label: String, id: [UInt8]
    ) throws(PKCS11Error) -> TokenSigningKey {
        var publicTemplate = AttributeTemplate()
        publicTemplate.add(CK_ATTRIBUTE_TYPE(CKA_EC_PARAMS), bytes: p256Parameters)
        publicTemplate.add(CK_ATTRIBUTE_TYPE(CKA_TOKEN), bool: true)
        publicTemplate.add(CK_ATTRIBUTE_TYPE(CKA_VERIFY), bool: true)
        publicTemplate.add(CK_ATTRIBUTE_TYPE(CKA_LABEL), bytes: Array(label.utf8))
        publicTemplate.add(CK_ATTRIBUTE_TYPE(CKA_ID), bytes: id)
        var privateTemplate = AttributeTemplate()
        privateTemplate.add(CK_ATTRIBUTE_TYPE(CKA_TOKEN), bool: true)
        privateTemplate.add(CK_ATTRIBUTE_TYPE(CKA_PRIVATE), bool: true)
        privateTemplate.add(CK_ATTRIBUTE_TYPE(CKA_SENSITIVE), bool: true)
        privateTemplate.add(CK_ATTRIBUTE_TYPE(CKA_EXTRACTABLE), bool: false)
        privateTemplate.add(CK_ATTRIBUTE_TYPE(CKA_SIGN), bool: true)
        privateTemplate.add(CK_ATTRIBUTE_TYPE(CKA_DECRYPT), bool: false)
        privateTemplate.add(CK_ATTRIBUTE_TYPE(CKA_LABEL), bytes: Array(label.utf8))
        privateTemplate.add(CK_ATTRIBUTE_TYPE(CKA_ID), bytes: id)
        _ = try session.generateKeyPair(
            mechanism: CK_MECHANISM_TYPE(CKM_EC_KEY_PAIR_GEN), publicTemplate: publicTemplate,
            privateTemplate: privateTemplate)
        var named = uri
        named.object = label
        named.id = id
        named.type = .private
        return try TokenSigningKey(uri: named, session: session)
    }
}
