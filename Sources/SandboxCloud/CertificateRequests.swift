import CloudProtocol
import Crypto
import Foundation
import SwiftASN1
import X509

/// A certificate request (PKCS#10) for an enrolled identity, as a real card is issued: the key pair was
/// made on the card, and only its request leaves it. The request's signature proves its holder asked;
/// its key must be P-256 (the protocol's only curve); its subject's serialNumber must be the identity
/// being enrolled. The certificate itself is made from the sandbox's own records, never from the
/// request's other subject attributes.
package enum CertificateRequests {
    package struct Refusal: Error, Equatable, CustomStringConvertible {
        /// `csr_unreadable`, `csr_signature_invalid`, `csr_key_not_p256`, `csr_subject_mismatch`.
        package let code: String
        package let detail: String
        package var description: String { "\(code): \(detail)" }
    }

    /// Reads a PEM request and returns its P-256 key, once the request is checked for `serialNumber`.
    package static func key(fromPEM pem: String, serialNumber: String) throws(Refusal) -> P256.Signing.PublicKey {
        let request: CertificateSigningRequest
        do { request = try CertificateSigningRequest(pemEncoded: pem) } catch {
            throw Refusal(code: "csr_unreadable", detail: "not a PEM certificate request: \(error)")
        }
        guard request.publicKey.isValidSignature(request.signature, for: request) else {
            throw Refusal(code: "csr_signature_invalid", detail: "the request is not signed by its own key")
        }
        guard let key = P256.Signing.PublicKey(request.publicKey) else {
            throw Refusal(code: "csr_key_not_p256", detail: "the request's key is not an ECDSA P-256 key")
        }
        let named = SubjectAttribute.value(SubjectAttribute.serialNumber, in: request.subject)
        guard named == serialNumber else {
            throw Refusal(
                code: "csr_subject_mismatch",
                detail: "the request's subject serialNumber is \(named.map { "'\($0)'" } ?? "missing"), "
                    + "and the identity enrolled is '\(serialNumber)'")
        }
        return key
    }
}
