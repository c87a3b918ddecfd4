import Foundation
import VirtualCard

/// The cloud's answer codes (cloud-protocol.md §6), and the project's own for the routes the protocol
/// leaves to it (records, the app side, consent). Clients compare codes, never titles.
package struct CloudCode: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    package let rawValue: String
    package init(rawValue: String) { self.rawValue = rawValue }
    package init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
    package var description: String { rawValue }

    // §6, in the order of the visit opening's checks.
    package static let clientCertificateMissing = CloudCode(rawValue: "client_certificate_missing")
    package static let institutionCertificateInvalid = CloudCode(rawValue: "institution_certificate_invalid")
    package static let institutionUnknown = CloudCode(rawValue: "institution_unknown")
    package static let requestMalformed = CloudCode(rawValue: "request_malformed")
    package static let practitionerCertificateInvalid = CloudCode(rawValue: "practitioner_certificate_invalid")
    package static let requestSignatureInvalid = CloudCode(rawValue: "request_signature_invalid")
    package static let institutionMismatch = CloudCode(rawValue: "institution_mismatch")
    package static let institutionNotEnrolled = CloudCode(rawValue: "institution_not_enrolled")
    package static let practitionerNotAffiliated = CloudCode(rawValue: "practitioner_not_affiliated")
    package static let requestStale = CloudCode(rawValue: "request_stale")
    package static let nonceReused = CloudCode(rawValue: "nonce_reused")
    package static let idempotencyKeyReused = CloudCode(rawValue: "idempotency_key_reused")
    package static let tokenReplayed = CloudCode(rawValue: "token_replayed")
    package static let tokenInvalid = CloudCode(rawValue: "token_invalid")
    package static let grantUnknown = CloudCode(rawValue: "grant_unknown")
    package static let grantNotYours = CloudCode(rawValue: "grant_not_yours")
    package static let grantExpired = CloudCode(rawValue: "grant_expired")

    // The project's own.
    package static let routeNotFound = CloudCode(rawValue: "route_not_found")
    package static let methodNotAllowed = CloudCode(rawValue: "method_not_allowed")
    package static let internalError = CloudCode(rawValue: "internal_error")
    package static let serviceBusy = CloudCode(rawValue: "service_busy")
    package static let categoryUnknown = CloudCode(rawValue: "category_unknown")
    package static let appCredentialInvalid = CloudCode(rawValue: "app_credential_invalid")
    package static let patientUnknown = CloudCode(rawValue: "patient_unknown")
    package static let cardNotDelegated = CloudCode(rawValue: "card_not_delegated")
    package static let delegationInvalid = CloudCode(rawValue: "delegation_invalid")
    package static let delegationUnknown = CloudCode(rawValue: "delegation_unknown")
    package static let consentUnknown = CloudCode(rawValue: "consent_unknown")
    package static let consentRefused = CloudCode(rawValue: "consent_refused")
    package static let consentExpired = CloudCode(rawValue: "consent_expired")
    package static let consentAnswered = CloudCode(rawValue: "consent_answered")
    package static let consentCancelled = CloudCode(rawValue: "consent_cancelled")

    /// Every code the cloud answers with (docs/cloud-openapi.yaml lists the same; a test checks).
    package static let all: [CloudCode] = [
        .clientCertificateMissing, .institutionCertificateInvalid, .institutionUnknown, .requestMalformed,
        .practitionerCertificateInvalid, .requestSignatureInvalid, .institutionMismatch, .institutionNotEnrolled,
        .practitionerNotAffiliated, .requestStale, .nonceReused, .idempotencyKeyReused, .tokenReplayed, .tokenInvalid,
        .grantUnknown, .grantNotYours, .grantExpired, .routeNotFound, .methodNotAllowed, .internalError, .serviceBusy,
        .categoryUnknown, .appCredentialInvalid, .patientUnknown, .cardNotDelegated, .delegationInvalid,
        .delegationUnknown, .consentUnknown, .consentRefused, .consentExpired, .consentAnswered, .consentCancelled,
    ]

    /// §6's codes: what a visit opening may be refused with. Any other code on a visit opening is one
    /// this station does not know (another cloud's, or a newer protocol's).
    /// The refusals of the station's own certificate (§2), whatever the request: about the station, not
    /// what it sent, so nothing it sends will pass until it has another certificate.
    package static let institutionCertificateCodes: Set<CloudCode> = [
        .clientCertificateMissing, .institutionCertificateInvalid, .institutionUnknown,
    ]

    package static let visitOpeningCodes: Set<CloudCode> = [
        .clientCertificateMissing, .institutionCertificateInvalid, .institutionUnknown, .requestMalformed,
        .practitionerCertificateInvalid, .requestSignatureInvalid, .institutionMismatch, .institutionNotEnrolled,
        .practitionerNotAffiliated, .requestStale, .nonceReused, .idempotencyKeyReused, .tokenReplayed, .tokenInvalid,
    ]

    /// What the station closes a visit with when the cloud refused it with a code it does not know
    /// (the raw code is logged and audited beside it).
    package static let cloudRefused = CloudCode(rawValue: "cloud_refused")

    /// The HTTP status §6 assigns (413 for an oversized `request_malformed` is set where it is raised).
    package var status: Int {
        switch self {
        case .clientCertificateMissing, .institutionCertificateInvalid, .institutionUnknown,
            .practitionerCertificateInvalid, .requestSignatureInvalid:
            401
        case .appCredentialInvalid: 401
        case .requestMalformed, .requestStale, .delegationInvalid: 400
        case .institutionMismatch, .institutionNotEnrolled, .practitionerNotAffiliated, .grantNotYours,
            .cardNotDelegated, .consentRefused:
            403
        case .nonceReused, .idempotencyKeyReused, .tokenReplayed, .consentAnswered: 409
        case .tokenInvalid: 422
        case .grantUnknown, .routeNotFound, .categoryUnknown, .patientUnknown, .delegationUnknown, .consentUnknown:
            404
        case .grantExpired, .consentExpired, .consentCancelled: 410
        case .methodNotAllowed: 405
        case .serviceBusy: 503
        default: 500
        }
    }

    /// A short title for people; the code is what programs compare.
    package var title: String {
        switch self {
        case .clientCertificateMissing: "No institution certificate was presented"
        case .institutionCertificateInvalid: "The institution certificate is not valid"
        case .institutionUnknown: "The institution is not known to the cloud"
        case .requestMalformed: "The request is malformed"
        case .practitionerCertificateInvalid: "The practitioner certificate is not valid"
        case .requestSignatureInvalid: "The practitioner's signature does not verify"
        case .institutionMismatch: "The request names another institution than its certificate"
        case .institutionNotEnrolled: "The institution is not enrolled in this care setting"
        case .practitionerNotAffiliated: "The practitioner is not affiliated with this institution"
        case .requestStale: "The request's times are outside the accepted window"
        case .nonceReused: "The nonce was already used by this practitioner"
        case .idempotencyKeyReused: "The request id was already used for another request"
        case .tokenReplayed: "The card code was already used"
        case .tokenInvalid: "The card code is not valid"
        case .grantUnknown: "No such grant"
        case .grantNotYours: "The grant belongs to another institution"
        case .grantExpired: "The grant has expired"
        case .routeNotFound: "No such route"
        case .methodNotAllowed: "Method not allowed"
        case .serviceBusy: "The cloud is busy; try again"
        case .categoryUnknown: "No such record category"
        case .appCredentialInvalid: "The app's credential is missing or not valid"
        case .patientUnknown: "No such patient"
        case .cardNotDelegated: "The card is not delegated to you today"
        case .delegationInvalid: "The delegation is not valid"
        case .delegationUnknown: "No such delegation"
        case .consentUnknown: "No such consent request"
        case .consentRefused: "The patient refused"
        case .consentExpired: "The consent request expired unanswered"
        case .consentAnswered: "The consent request was already answered"
        case .consentCancelled: "The institution withdrew the consent request"
        default: "The cloud failed"
        }
    }
}

/// The `tokenCode` of a `token_invalid` answer: the token profile's code (`expired`,
/// `delegation_revoked`…), or one of the cloud's two holder codes.
package struct TokenCode: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    package let rawValue: String
    package init(rawValue: String) { self.rawValue = rawValue }
    package init(_ code: VerificationCode) { rawValue = code.rawValue }
    package init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
    package var description: String { rawValue }

    /// The token verified, but the cloud knows no patient with its ID number.
    package static let holderUnknown = TokenCode(rawValue: "holder_unknown")
    /// The cloud's record of the holder has another name or birth date.
    package static let holderMismatch = TokenCode(rawValue: "holder_mismatch")
}

/// An error answer as RFC 9457 problem details (`application/problem+json`) with the protocol's `code`
/// member, and `tokenCode` (the token profile's code) for `token_invalid`. One type for both sides:
/// the cloud throws and encodes it, the station decodes it.
package struct CloudProblem: Error, Sendable, Codable, Equatable, CustomStringConvertible {
    package var type: String
    package var title: String
    package var status: Int
    package var detail: String
    package var code: CloudCode
    package var tokenCode: TokenCode?

    package init(_ code: CloudCode, _ detail: String, status: Int? = nil, tokenCode: TokenCode? = nil) {
        self.type = "https://vhc-station.example/cloud/problems/\(code.rawValue)"
        self.title = code.title
        self.status = status ?? code.status
        self.detail = detail
        self.code = code
        self.tokenCode = tokenCode
    }

    package var description: String {
        "\(code)\(tokenCode.map { " (\($0.rawValue))" } ?? "")" + (detail.isEmpty ? "" : ": \(detail)")
    }

    package static let mediaType = "application/problem+json"

    enum CodingKeys: String, CodingKey { case type, title, status, detail, code, tokenCode }

    /// Read as cloud-protocol.md §2 promises and no further: `code` is the one member required.
    /// RFC 9457 makes every other member optional (and `status` only advisory), so a member that is
    /// absent or not of its type is taken as absent, and members this station does not know are
    /// ignored. A problem another cloud sends with only `{"code": …}` is still that cloud's refusal.
    package init(from decoder: any Decoder) throws {
        let members = try decoder.container(keyedBy: CodingKeys.self)
        code = try members.decode(CloudCode.self, forKey: .code)
        type = Lenient.value(String.self, members, .type) ?? "about:blank"
        title = Lenient.value(String.self, members, .title) ?? ""
        status = Lenient.value(Int.self, members, .status) ?? 0
        detail = Lenient.value(String.self, members, .detail) ?? ""
        tokenCode = Lenient.value(TokenCode.self, members, .tokenCode)
    }

    /// Whether an answer with this HTTP status is a final refusal (cloud-protocol.md §6): a 4xx other
    /// than 408 and 429. Anything else is tried again, whatever its code says.
    package static func isFinal(status: Int) -> Bool { (400..<500).contains(status) && status != 408 && status != 429 }

    /// The problem in an error answer's body, with the answer's HTTP status as its status (the body's
    /// `status` is only advisory, RFC 9457 §3.1.2); nil when the body carries no `code`.
    package init?(body: some Sequence<UInt8>, httpStatus: Int) {
        guard var problem = try? JSONDecoder().decode(CloudProblem.self, from: Data(body)) else { return nil }
        problem.status = httpStatus
        self = problem
    }
}

extension CloudCode {
    /// The code as text safe to log, store and show: it came from the network.
    package var printable: String { CodeText.printable(rawValue) }
}

extension TokenCode {
    /// The code as text safe to log, store and show: it came from the network.
    package var printable: String { CodeText.printable(rawValue) }
}

/// Codes are short snake_case words; one from another cloud may be anything.
enum CodeText {
    /// At most 64 characters; ASCII letters, digits, `_`, `-` and `.` kept, anything else `?`.
    static func printable(_ raw: String) -> String {
        let kept = raw.unicodeScalars.prefix(64).map { scalar -> Character in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "_-.".unicodeScalars
                .contains(scalar)) ? Character(scalar) : "?"
        }
        return kept.isEmpty ? "?" : String(kept)
    }
}
