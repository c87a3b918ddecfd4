import Crypto
import Foundation
import SwiftASN1
import VirtualCard
@_spi(FixedExpiryValidationTime) import X509

/// The sandbox CA as a relying party sees it: the one trust anchor for both TLS directions and for
/// practitioner signatures (cloud-protocol.md §1). A certificate is refused when expired, not yet
/// valid, not issued by this CA, or lacking its usage. Chain building and time checks are
/// swift-certificates' `Verifier` with the RFC 5280 policy; the usages are checked here.
package struct CertificateAuthority: Sendable {
    package let certificate: Certificate

    package init(certificate: Certificate) { self.certificate = certificate }

    package init(pem: String) throws { certificate = try Certificate(pemEncoded: pem) }

    /// Why a certificate was refused (the caller picks the protocol code).
    package struct Refusal: Error, Sendable, CustomStringConvertible {
        package let reason: String
        package var description: String { reason }
    }

    /// Validates `der` as issued by this CA and valid at `now` (epoch seconds).
    package func validate(der: [UInt8], at now: Int64) async throws(Refusal) -> Certificate {
        let leaf: Certificate
        do { leaf = try Certificate(derEncoded: der) } catch { throw Refusal(reason: "not a DER X.509 certificate") }
        let time = Date(timeIntervalSince1970: TimeInterval(now))
        if leaf.notValidBefore > time { throw Refusal(reason: "not valid before \(leaf.notValidBefore)") }
        if leaf.notValidAfter < time { throw Refusal(reason: "expired at \(leaf.notValidAfter)") }
        var verifier = Verifier(rootCertificates: CertificateStore([certificate])) {
            RFC5280Policy(fixedExpiryValidationTime: time)
            UsagesCheckedByTheCloud()
        }
        switch await verifier.validate(leaf: leaf, intermediates: CertificateStore()) {
        case .validCertificate(let chain) where chain.count == 2:
            if case .isCertificateAuthority = try? leaf.extensions.basicConstraints {
                throw Refusal(reason: "the certificate is a CA certificate")
            }
            return leaf
        case .validCertificate:
            throw Refusal(reason: "the certificate is the CA itself")
        case .couldNotValidate(let failures):
            throw Refusal(
                reason: "not issued by the sandbox CA"
                    + (failures.first.map { ": \($0.policyFailureReason)" } ?? ""))
        }
    }

    /// §1 institution: a client certificate (EKU `clientAuth`) whose subject carries the code.
    package func institution(der: [UInt8], at now: Int64) async throws(Refusal) -> InstitutionIdentity {
        let leaf = try await validate(der: der, at: now)
        guard P256.Signing.PublicKey(leaf.publicKey) != nil else {
            throw Refusal(reason: "the certificate's key is not ECDSA P-256")
        }
        guard (try? leaf.extensions.extendedKeyUsage)?.contains(.clientAuth) == true else {
            throw Refusal(reason: "the certificate lacks the clientAuth extended key usage")
        }
        guard let identity = InstitutionIdentity(certificate: leaf) else {
            throw Refusal(reason: "the subject has no 10-digit serialNumber")
        }
        return identity
    }

    /// §1 practitioner: a signing certificate (key usage `digitalSignature`) whose subject carries a
    /// Taiwan ID number and a profession.
    package func practitioner(der: [UInt8], at now: Int64) async throws(Refusal) -> PractitionerIdentity {
        let leaf = try await validate(der: der, at: now)
        guard (try? leaf.extensions.keyUsage)?.digitalSignature == true else {
            throw Refusal(reason: "the certificate lacks the digitalSignature key usage")
        }
        guard let identity = PractitionerIdentity(certificate: leaf) else {
            throw Refusal(reason: "the subject lacks a valid ID number as serialNumber or a profession as title")
        }
        return identity
    }
}

/// The extensions the cloud checks itself (the extended key usage, §1) or that do not concern it (the
/// subject alternative name): declared handled so that a certificate marking them critical is judged
/// on its merits instead of failing as an unknown critical extension.
struct UsagesCheckedByTheCloud: VerifierPolicy {
    let verifyingCriticalExtensions: [ASN1ObjectIdentifier] = [
        .X509ExtensionID.extendedKeyUsage, .X509ExtensionID.subjectAlternativeName,
    ]

    func chainMeetsPolicyRequirements(chain: UnverifiedCertificateChain) async -> PolicyEvaluationResult {
        .meetsPolicy
    }
}
