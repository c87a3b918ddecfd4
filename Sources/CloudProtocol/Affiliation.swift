import Foundation

/// `POST /v1/affiliations` (the project's extension beside cloud-protocol.md, docs/cloud.md): a station
/// asks, over its institution's mutual TLS, whether a practitioner's certificate would sign openings
/// the cloud accepts for it. The answer is `Affiliation`, or the problem the opening would get
/// (`practitioner_certificate_invalid`, `practitioner_not_affiliated`). A station uses it when a
/// practitioner logs in and never requires it: a cloud that does not answer it is not asked again
/// for that login, and the login goes on unchecked.
package struct AffiliationCheck: Sendable, Codable, Equatable {
    /// The practitioner's certificate, DER, in standard Base64.
    package var certificate: String
    package init(certificate: [UInt8]) { self.certificate = Data(certificate).base64EncodedString() }

    /// The certificate's bytes; nil when `certificate` is not Base64.
    package var certificateDER: [UInt8]? { Data(base64Encoded: certificate).map { [UInt8]($0) } }

    /// A certificate is far smaller; a larger body is malformed.
    package static let maximumSize = 16 * 1024
}

/// The cloud's yes: the practitioner (masked) may sign openings for the institution.
package struct Affiliation: Sendable, Codable, Equatable {
    /// Masked ID number (`A12****789`).
    package var practitioner: String
    package var profession: Profession
    package var institution: String
    /// The certificate's `notValidAfter`, epoch seconds.
    package var certificateValidUntil: Int64
    package init(practitioner: String, profession: Profession, institution: String, certificateValidUntil: Int64) {
        self.practitioner = practitioner
        self.profession = profession
        self.institution = institution
        self.certificateValidUntil = certificateValidUntil
    }
}
