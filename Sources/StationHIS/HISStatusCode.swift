import StationModels

/// The `statusCode` of every answer of the compatibility listener: 0 for success, the numbers HIS code
/// knows from NHIA's card control software where one fits a station outcome, and the station's own range
/// (9001–9099) where none does. One table, also in docs/his-compatibility.md; a test checks they agree.
package struct HISStatusCode: RawRepresentable, Hashable, Sendable, Encodable, CustomStringConvertible {
    package let rawValue: Int
    package init(rawValue: Int) { self.rawValue = rawValue }
    package var description: String { String(rawValue) }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    package static let success = HISStatusCode(rawValue: 0)
    /// `Initial` when the station was already initialised (HIS code takes it as success).
    package static let alreadyInitialised = HISStatusCode(rawValue: 1001)
    /// The QR code was already used: ask the patient to refresh it in the app.
    package static let alreadyUsed = HISStatusCode(rawValue: 1020)
    /// The cloud refused the token as not valid.
    package static let tokenInvalid = HISStatusCode(rawValue: 1022)
    /// No token in the request, and no card in the reader (no visit the station opened lately).
    package static let tokenMissing = HISStatusCode(rawValue: 1023)
    /// The institution is not enrolled in the care setting (the virtual-card programme).
    package static let notEnrolled = HISStatusCode(rawValue: 1042)
    /// The text is not a virtual-card token (its prefix, Base45, CBOR, COSE, claims).
    package static let tokenFormat = HISStatusCode(rawValue: 1520)
    /// The signature does not verify, or its key is not trusted.
    package static let signatureFailed = HISStatusCode(rawValue: 1522)
    /// The token's five minutes are over.
    package static let tokenExpired = HISStatusCode(rawValue: 1523)

    /// The patient's insurance is suspended (停保), as the cloud said when it opened the visit: the visit is
    /// open and numbered; the clinic registers it as the NHI does for a suspended insurance. The console's
    /// 3228–3235 name insurance states; the cloud reports only this one (cloud-protocol.md §3).
    package static let insuranceSuspended = HISStatusCode(rawValue: 3229)
    /// The cloud already opened a visit with this code (at any station): its medical data were retrieved.
    package static let medicalDataRetrieved = HISStatusCode(rawValue: 3244)
    /// A telemedicine request (`accessToken`) the station does not know.
    package static let consentNotFound = HISStatusCode(rawValue: 3237)
    /// The patient did not answer in time.
    package static let consentExpired = HISStatusCode(rawValue: 3238)
    /// The patient has not answered yet.
    package static let consentPending = HISStatusCode(rawValue: 3239)
    /// The patient refused (or the clinic withdrew the request).
    package static let consentRefused = HISStatusCode(rawValue: 3240)

    // The station's own range: outcomes the console has no number for.
    /// The token is not valid yet (the station's clock is behind the issuer's).
    package static let notYetValid = HISStatusCode(rawValue: 9001)
    /// A delegated card whose delegation has not started, has ended, or was cancelled.
    package static let delegationInvalid = HISStatusCode(rawValue: 9002)
    /// The station cannot judge tokens now: no trust list, an expired or broken list, the clock rolled back.
    package static let stationNotReady = HISStatusCode(rawValue: 9003)
    /// The station's disk is full or cannot be written: nothing was recorded.
    package static let storageFailed = HISStatusCode(rawValue: 9004)
    /// The station has no institution credential to sign with (it forwards to no cloud).
    package static let noCredential = HISStatusCode(rawValue: 9005)
    /// The signature bundle sent to `SequelNumber/Next` is not one this station made.
    package static let bundleNotOurs = HISStatusCode(rawValue: 9006)
    /// The visit to roll back has ended already (closed, expired).
    package static let visitEnded = HISStatusCode(rawValue: 9007)
    /// The cloud has not opened the visit yet (offline): its sequence number comes once the outbox drains.
    package static let cloudPending = HISStatusCode(rawValue: 9020)
    /// The station forwards to no cloud: there is no sequence number, no remote consent.
    package static let noCloud = HISStatusCode(rawValue: 9021)
    /// The cloud did not answer.
    package static let cloudUnavailable = HISStatusCode(rawValue: 9022)
    /// The visit waits for a practitioner's signature (no practitioner signed in at the station).
    package static let practitionerMissing = HISStatusCode(rawValue: 9023)
    /// The cloud refused the visit for a reason the console has no number for (its code in `message`).
    package static let cloudRefused = HISStatusCode(rawValue: 9024)
    /// The request could not be read: not JSON, a field of the wrong type, a body too large.
    package static let requestMalformed = HISStatusCode(rawValue: 9010)
    /// No such call on this listener.
    package static let unknownCall = HISStatusCode(rawValue: 9011)
    /// `his.token_file` is set and the request did not carry its value.
    package static let unauthorized = HISStatusCode(rawValue: 9012)
    /// The station failed; its log says why.
    package static let internalError = HISStatusCode(rawValue: 9099)

    /// The number for a station verdict (`valid` is success).
    package init(_ outcome: OutcomeCode) {
        switch outcome.rawValue {
        case "valid": self = .success
        case "replayed": self = .alreadyUsed
        case "token_replayed": self = .medicalDataRetrieved
        case "expired": self = .tokenExpired
        case "not_yet_valid": self = .notYetValid
        case "signature_invalid", "key_unknown": self = .signatureFailed
        case "delegation_not_yet_valid", "delegation_expired", "delegation_revoked": self = .delegationInvalid
        case "prefix_missing", "prefix_unsupported", "base45_invalid", "cbor_invalid", "cose_invalid",
            "algorithm_unsupported", "kid_invalid", "claims_invalid", "scanner_garbled", "scanner_symbology":
            self = .tokenFormat
        case "token_invalid": self = .tokenInvalid
        case "institution_not_enrolled": self = .notEnrolled
        case "patient_unknown", "consent_unknown": self = .consentNotFound
        default: self = .stationNotReady
        }
    }

    /// The number for the cloud's refusal of a visit's opening (cloud-protocol.md §6).
    package init(cloudRefusal code: String) {
        switch code {
        case "token_replayed": self = .medicalDataRetrieved
        case "token_invalid": self = .tokenInvalid
        case "institution_not_enrolled": self = .notEnrolled
        default: self = .cloudRefused
        }
    }

    /// Every number this listener answers with, for the documentation's table and its test.
    package static let all: [HISStatusCode] = [
        .success, .alreadyInitialised, .alreadyUsed, .tokenInvalid, .tokenMissing, .notEnrolled, .tokenFormat,
        .signatureFailed, .tokenExpired, .notYetValid, .delegationInvalid, .stationNotReady, .storageFailed,
        .insuranceSuspended, .medicalDataRetrieved, .consentNotFound, .consentExpired, .consentPending, .consentRefused, .noCredential, .bundleNotOurs,
        .visitEnded, .cloudPending, .noCloud, .cloudUnavailable, .practitionerMissing, .cloudRefused, .requestMalformed, .unknownCall,
        .unauthorized, .internalError,
    ]
}
