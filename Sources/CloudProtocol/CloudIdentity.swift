import Crypto
import Foundation
import SwiftASN1
import VirtualCard
import X509

/// The subject attributes the protocol's identities use (cloud-protocol.md §1).
package enum SubjectAttribute {
    package static let commonName: ASN1ObjectIdentifier = [2, 5, 4, 3]
    /// The institution code, or the practitioner's Taiwan ID number.
    package static let serialNumber: ASN1ObjectIdentifier = [2, 5, 4, 5]
    /// The practitioner's profession.
    package static let title: ASN1ObjectIdentifier = [2, 5, 4, 12]

    /// The first value of `type` in a distinguished name, as text.
    package static func value(_ type: ASN1ObjectIdentifier, in name: DistinguishedName) -> String? {
        for rdn in name {
            for attribute in rdn where attribute.type == type {
                if let text = String(attribute.value) { return text }
            }
        }
        return nil
    }
}

/// The institution card's equivalent: who a TLS client certificate says it is.
package struct InstitutionIdentity: Sendable, Hashable {
    /// The 10-digit institution code from the subject's `serialNumber`.
    package var code: String
    package var name: String
    /// The certificate's `notValidAfter`, epoch seconds.
    package var validUntil: Int64
    package init(code: String, name: String, validUntil: Int64) {
        self.code = code
        self.name = name
        self.validUntil = validUntil
    }

    /// Reads the identity; nil when the subject has no 10-digit `serialNumber`.
    package init?(certificate: Certificate) {
        guard let code = SubjectAttribute.value(SubjectAttribute.serialNumber, in: certificate.subject),
            VisitOpening.isInstitutionCode(code)
        else { return nil }
        self.init(
            code: code, name: SubjectAttribute.value(SubjectAttribute.commonName, in: certificate.subject) ?? "",
            validUntil: Int64(certificate.notValidAfter.timeIntervalSince1970))
    }
}

/// The practitioner card's equivalent: who signs a visit opening.
package struct PractitionerIdentity: Sendable {
    /// The practitioner's Taiwan ID number from the subject's `serialNumber`.
    package var id: String
    package var name: String
    package var profession: Profession
    package var publicKey: P256.Signing.PublicKey
    /// The certificate's `notValidAfter`, epoch seconds.
    package var validUntil: Int64

    /// Reads the identity; nil when the subject lacks a valid ID number or a known profession, or the
    /// key is not P-256.
    package init?(certificate: Certificate) {
        guard let id = SubjectAttribute.value(SubjectAttribute.serialNumber, in: certificate.subject),
            TaiwanID.isValid(id),
            let title = SubjectAttribute.value(SubjectAttribute.title, in: certificate.subject),
            let profession = Profession(rawValue: title),
            let publicKey = P256.Signing.PublicKey(certificate.publicKey)
        else { return nil }
        self.id = id
        self.name = SubjectAttribute.value(SubjectAttribute.commonName, in: certificate.subject) ?? ""
        self.profession = profession
        self.publicKey = publicKey
        self.validUntil = Int64(certificate.notValidAfter.timeIntervalSince1970)
    }
}

/// An identity read from a validated certificate, good until the certificate expires.
package protocol CertifiedIdentity: Sendable {
    var validUntil: Int64 { get }
}

extension InstitutionIdentity: CertifiedIdentity {}
extension PractitionerIdentity: CertifiedIdentity {}
