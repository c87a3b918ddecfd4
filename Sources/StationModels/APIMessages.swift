/// The local API's request and answer bodies (docs/openapi.yaml), one type per shape: the daemon's
/// routes encode them and `vhc` decodes them.

/// `POST /v1/scans`: `{"token": "VHC1:…", "source": "handheld"}`.
public struct ScanRequest: Codable, Sendable, Equatable {
    public var token: String
    /// Where the text came from (`handheld`, `screenshot`, …); `api` when absent.
    public var source: String?
    public init(token: String, source: String? = nil) {
        self.token = token
        self.source = source
    }
}

public struct ScanResponse: Codable, Sendable, Equatable {
    public var accepted: Bool
    public var code: OutcomeCode
    public var reason: StationReason
    public var holder: String?
    public var session: SessionSummary?
    public var superseded: SessionSummary?
    public init(
        accepted: Bool, code: OutcomeCode, reason: StationReason, holder: String?, session: SessionSummary?,
        superseded: SessionSummary?
    ) {
        self.accepted = accepted
        self.code = code
        self.reason = reason
        self.holder = holder
        self.session = session
        self.superseded = superseded
    }
}

/// `POST /v1/scans/image`: what the still ladder read in a PNG or JPEG, each code's verdict as a
/// scan's, in the order read. The image itself is never stored.
public struct ImageScanResponse: Codable, Sendable, Equatable {
    /// The largest body the route takes: a 12 MP phone photo as JPEG is 3 to 8 MB, a 4K screenshot as
    /// PNG up to about 15.
    public static let maximumImageBytes = 24 << 20
    public struct Code: Codable, Sendable, Equatable {
        /// The code's corners in the image, `[[x, y], …]`, so a page can outline it.
        public var corners: [[Int]]
        public var scan: ScanResponse
        public init(corners: [[Int]], scan: ScanResponse) {
            self.corners = corners
            self.scan = scan
        }
    }

    public var codes: [Code]
    /// QR codes read whose payload is not text a token can be (binary, UTF-8): not submitted.
    public var ignored: Int
    /// False when the image's time budget ran out before every pass (a code may have been missed).
    public var complete: Bool
    /// The image's width and height.
    public var size: [Int]
    public var milliseconds: Double
    public init(codes: [Code], ignored: Int, complete: Bool, size: [Int], milliseconds: Double) {
        self.codes = codes
        self.ignored = ignored
        self.complete = complete
        self.size = size
        self.milliseconds = milliseconds
    }
}

/// `POST /v1/sessions/{id}/id-check`.
public struct IDCheckRequest: Codable, Sendable, Equatable {
    public var document: IDDocument
    public var lastFour: String
    public var `operator`: String
    public init(document: IDDocument, lastFour: String, operator: String) {
        self.document = document
        self.lastFour = lastFour
        self.operator = `operator`
    }
}

/// `GET /v1/sessions`.
public struct SessionList: Codable, Sendable, Equatable {
    public var sessions: [VisitSession]
    public init(sessions: [VisitSession]) { self.sessions = sessions }
}

/// `POST /v1/clock/reset`: who resets the clock's high-water mark.
public struct ClockResetRequest: Codable, Sendable, Equatable {
    public var `operator`: String
    public init(operator: String) { self.operator = `operator` }
}

public struct ClockResetResponse: Codable, Sendable, Equatable {
    /// The mark before, epoch seconds; absent when none was held.
    public var previousHighWater: Int64?
    public var highWater: Int64
    public init(previousHighWater: Int64?, highWater: Int64) {
        self.previousHighWater = previousHighWater
        self.highWater = highWater
    }
}

/// `POST /v1/practitioner/login` (the Unix socket only): the practitioner card's equivalent, held in
/// the daemon's memory for the shift and never written anywhere.
public struct LoginRequest: Codable, Sendable {
    /// The practitioner's signing certificate and its P-256 key, PEM (the key unencrypted: `vhc login`
    /// decrypts it first).
    public var certificate: String
    public var key: String
    /// How long the login lasts; the daemon's `practitioner.shift_hours` when absent.
    public var shiftHours: Double?
    public init(certificate: String, key: String, shiftHours: Double? = nil) {
        self.certificate = certificate
        self.key = key
        self.shiftHours = shiftHours
    }
}

/// `POST /v1/practitioner/login` and `/logout`: who is logged in now (nil after a logout), and how
/// many waiting scans the login signed.
public struct LoginResponse: Codable, Sendable, Equatable {
    public var practitioner: PractitionerStatus?
    public var signed: Int
    /// Whether the cloud confirmed, at the login, that this practitioner may sign for the institution;
    /// absent on a logout.
    public var affiliation: AffiliationState?
    /// Why the affiliation is `unchecked` (the cloud did not answer, or does not offer the check).
    public var affiliationNote: String?
    public init(
        practitioner: PractitionerStatus?, signed: Int, affiliation: AffiliationState? = nil,
        affiliationNote: String? = nil
    ) {
        self.practitioner = practitioner
        self.signed = signed
        self.affiliation = affiliation
        self.affiliationNote = affiliationNote
    }
}

/// What the cloud said of a practitioner at login (`POST /v1/affiliations`, the project's extension).
/// A refusal is not a state: the login itself is refused with the cloud's code.
public enum AffiliationState: String, Codable, Sendable, Equatable {
    /// The cloud confirmed the certificate and the affiliation.
    case confirmed
    /// The cloud could not be asked; the first opening will tell.
    case unchecked
}

/// `POST /v1/consents`: ask a patient's consent for a remote visit (telemedicine, video consultation).
/// The answer is the cloud's consent request, with the patient masked; the outcome comes as events.
public struct StationConsentRequest: Codable, Sendable, Equatable {
    public var patientId: String
    /// `telemedicine` or `video_consultation`; the station's setting when it is a remote one, else
    /// `telemedicine`.
    public var setting: String?
    public init(patientId: String, setting: String? = nil) {
        self.patientId = patientId
        self.setting = setting
    }
}

/// An API error as RFC 9457 problem details (`application/problem+json`), with the station's stable
/// `code` as an extension member: clients compare the code, people read the title and detail.
public struct Problem: Error, Sendable, Codable, Equatable, CustomStringConvertible {
    public var type: String
    public var title: String
    public var status: Int
    public var detail: String
    public var code: APIErrorCode

    public init(status: Int, code: APIErrorCode, title: String, detail: String) {
        self.type = "https://vhc-station.example/problems/\(code)"
        self.title = title
        self.status = status
        self.detail = detail
        self.code = code
    }

    public var description: String { "\(code): \(detail)" }
}

/// The stable codes of the API's problems.
public struct APIErrorCode: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    public static let requestMalformed = APIErrorCode(rawValue: "request_malformed")
    public static let requestTooLarge = APIErrorCode(rawValue: "request_too_large")
    public static let routeNotFound = APIErrorCode(rawValue: "route_not_found")
    public static let methodNotAllowed = APIErrorCode(rawValue: "method_not_allowed")
    public static let unsupportedMediaType = APIErrorCode(rawValue: "unsupported_media_type")
    public static let databaseBusy = APIErrorCode(rawValue: "database_busy")
    public static let internalError = APIErrorCode(rawValue: "internal_error")
    public static let unauthorized = APIErrorCode(rawValue: "unauthorized")
    public static let sessionNotFound = APIErrorCode(rawValue: "session_not_found")
    public static let sessionNotOpen = APIErrorCode(rawValue: "session_not_open")
    public static let idCheckNotNeeded = APIErrorCode(rawValue: "id_check_not_needed")
    public static let idCheckInvalid = APIErrorCode(rawValue: "id_check_invalid")
    public static let idCheckMismatch = APIErrorCode(rawValue: "id_check_mismatch")
    /// The certificate is not a practitioner's from the cloud's CA, is expired, or the key is not its.
    public static let credentialInvalid = APIErrorCode(rawValue: "practitioner_credential_invalid")
    /// The session's visit was not opened at the cloud (yet): it has no grant for records.
    public static let visitNotForwarded = APIErrorCode(rawValue: "visit_not_forwarded")
    /// The cloud's grant for the visit has ended.
    public static let grantExpired = APIErrorCode(rawValue: "grant_expired")
    /// The cloud did not answer a records or alerts call.
    public static let cloudUnavailable = APIErrorCode(rawValue: "cloud_unavailable")
    public static let categoryUnknown = APIErrorCode(rawValue: "category_unknown")
    /// The station has no cloud configured: logins and records need one.
    public static let cloudNotConfigured = APIErrorCode(rawValue: "cloud_not_configured")
    /// `POST /v1/scans/image`: the body is over the image size limit.
    public static let imageTooLarge = APIErrorCode(rawValue: "image_too_large")
    /// Not a PNG or JPEG, by its content or its declared type.
    public static let imageFormatUnsupported = APIErrorCode(rawValue: "image_format_unsupported")
    /// A PNG or JPEG whose data is damaged or truncated.
    public static let imageCorrupt = APIErrorCode(rawValue: "image_corrupt")
    /// Width or height zero, over 16,384, or over the pixel limit.
    public static let imageDimensionsInvalid = APIErrorCode(rawValue: "image_dimensions_invalid")
    /// The image's upload took longer than the route allows (it holds the one-image gate meanwhile).
    public static let imageUploadTooSlow = APIErrorCode(rawValue: "image_upload_too_slow")
    /// Another image is being read: one at a time, so pictures cannot crowd out the camera.
    public static let imageBusy = APIErrorCode(rawValue: "image_busy")
    /// A browser's state-changing request without the page's own `Origin`.
    public static let originRefused = APIErrorCode(rawValue: "origin_refused")
    /// `vhc web` at a station that serves no page (no loopback TCP listener).
    public static let webNotConfigured = APIErrorCode(rawValue: "web_not_configured")
}

/// Text put into a URL's path segment or query value: everything but the unreserved characters of
/// RFC 3986 is percent-encoded, so an ID, a session id or a grant typed or received stays one value.
public enum URLComponentText {
    static let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)

    public static func escape(_ text: String) -> String {
        var escaped = ""
        for byte in text.utf8 {
            if unreserved.contains(byte) {
                escaped.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                escaped += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return escaped
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
