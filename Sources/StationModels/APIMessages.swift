/// The local API's request and answer bodies (docs/openapi.yaml), one type per shape: the daemon's
/// routes encode them and `vhc` decodes them.

/// `POST /v1/scans`: `{"token": "VHC1:…", "source": "handheld"}`.
package struct ScanRequest: Codable, Sendable, Equatable {
    package var token: String
    /// Where the text came from (`handheld`, `screenshot`, …); `api` when absent.
    package var source: String?
    package init(token: String, source: String? = nil) {
        self.token = token
        self.source = source
    }

    /// `source` may be left out, but not sent as null: the schema says it is a string.
    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        token = try container.decode(String.self, forKey: .token)
        source = try container.decodeUnlessAbsent(String.self, forKey: .source)
    }
}

package struct ScanResponse: Codable, Sendable, Equatable {
    package var accepted: Bool
    package var code: OutcomeCode
    package var reason: StationReason
    package var holder: String?
    package var session: SessionSummary?
    package var superseded: SessionSummary?
    package init(
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
package struct ImageScanResponse: Codable, Sendable, Equatable {
    /// The largest body the route takes: a 12 MP phone photo as JPEG is 3 to 8 MB, a 4K screenshot as
    /// PNG up to about 15.
    package static let maximumImageBytes = 24 << 20
    /// `POST /v1/scans/frame`: the largest frame of a live capture (a downscaled JPEG is 100–400 KB).
    package static let maximumFrameBytes = 4 << 20
    package struct Code: Codable, Sendable, Equatable {
        /// The code's corners in the image, `[[x, y], …]`, so a page can outline it.
        package var corners: [[Int]]
        package var scan: ScanResponse
        /// A live capture's frame: the same code was read from a capture moments ago and not submitted
        /// again; `scan` is that first verdict.
        package var `repeat`: Bool?
        package init(corners: [[Int]], scan: ScanResponse, repeat: Bool? = nil) {
            self.corners = corners
            self.scan = scan
            self.repeat = `repeat`
        }
    }

    package var codes: [Code]
    /// QR codes read whose payload is not text a token can be (binary, UTF-8): not submitted.
    package var ignored: Int
    /// False when the image's time budget ran out before every pass (a code may have been missed).
    package var complete: Bool
    /// The image's width and height.
    package var size: [Int]
    package var milliseconds: Double
    package init(codes: [Code], ignored: Int, complete: Bool, size: [Int], milliseconds: Double) {
        self.codes = codes
        self.ignored = ignored
        self.complete = complete
        self.size = size
        self.milliseconds = milliseconds
    }
}

/// `POST /v1/sessions/{id}/id-check`.
package struct IDCheckRequest: Codable, Sendable, Equatable {
    package var document: IDDocument
    package var lastFour: String
    package var `operator`: String
    package init(document: IDDocument, lastFour: String, operator: String) {
        self.document = document
        self.lastFour = lastFour
        self.operator = `operator`
    }
}

/// `GET /v1/sessions`.
package struct SessionList: Codable, Sendable, Equatable {
    package var sessions: [VisitSession]
    package init(sessions: [VisitSession]) { self.sessions = sessions }
}

/// `POST /v1/clock/reset`: who resets the clock's high-water mark.
package struct ClockResetRequest: Codable, Sendable, Equatable {
    package var `operator`: String
    package init(operator: String) { self.operator = `operator` }
}

package struct ClockResetResponse: Codable, Sendable, Equatable {
    /// The mark before, epoch seconds; absent when none was held.
    package var previousHighWater: Int64?
    package var highWater: Int64
    package init(previousHighWater: Int64?, highWater: Int64) {
        self.previousHighWater = previousHighWater
        self.highWater = highWater
    }
}

/// `POST /v1/practitioner/login` (the Unix socket only): the practitioner card's equivalent, held in
/// the daemon's memory for the shift and never written anywhere.
package struct LoginRequest: Codable, Sendable {
    /// The practitioner's signing certificate, PEM; may be left out with a card that holds it.
    package var certificate: String?
    /// The P-256 key, PEM (unencrypted: `vhc login` decrypts it first); or, for a key on a card:
    package var key: String?
    /// the key's PKCS#11 URI, the module (nil: the daemon's default) and the card's PIN, sent to the card
    /// once by the daemon and never kept.
    package var pkcs11: String?
    package var module: String?
    package var pin: String?
    /// How long the login lasts; the daemon's `practitioner.shift_hours` when absent.
    package var shiftHours: Double?
    package init(certificate: String, key: String, shiftHours: Double? = nil) {
        self.certificate = certificate
        self.key = key
        self.shiftHours = shiftHours
    }
    package init(pkcs11: String, module: String?, pin: String, certificate: String?, shiftHours: Double? = nil) {
        self.pkcs11 = pkcs11
        self.module = module
        self.pin = pin
        self.certificate = certificate
        self.shiftHours = shiftHours
    }
}

/// `POST /v1/practitioner/login` and `/logout`: who is logged in now (nil after a logout), and how
/// many waiting scans the login signed.
package struct LoginResponse: Codable, Sendable, Equatable {
    package var practitioner: PractitionerStatus?
    package var signed: Int
    /// Whether the cloud confirmed, at the login, that this practitioner may sign for the institution;
    /// absent on a logout.
    package var affiliation: AffiliationState?
    /// Why the affiliation is `unchecked` (the cloud did not answer, or does not offer the check).
    package var affiliationNote: String?
    package init(
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
package enum AffiliationState: String, Codable, Sendable, Equatable {
    /// The cloud confirmed the certificate and the affiliation.
    case confirmed
    /// The cloud could not be asked; the first opening will tell.
    case unchecked
}

/// `POST /v1/consents`: ask a patient's consent for a remote visit (telemedicine, video consultation).
/// The answer is the cloud's consent request, with the patient masked; the outcome comes as events.
package struct StationConsentRequest: Codable, Sendable, Equatable {
    package var patientId: String
    /// `telemedicine` or `video_consultation`; the station's setting when it is a remote one, else
    /// `telemedicine`.
    package var setting: String?
    package init(patientId: String, setting: String? = nil) {
        self.patientId = patientId
        self.setting = setting
    }
}

/// An API error as RFC 9457 problem details (`application/problem+json`), with the station's stable
/// `code` as an extension member: clients compare the code, people read the title and detail.
package struct Problem: Error, Sendable, Codable, Equatable, CustomStringConvertible {
    package var type: String
    package var title: String
    package var status: Int
    package var detail: String
    package var code: APIErrorCode

    package init(status: Int, code: APIErrorCode, title: String, detail: String) {
        self.type = "https://vhc-station.example/problems/\(code)"
        self.title = title
        self.status = status
        self.detail = detail
        self.code = code
    }

    package var description: String { "\(code): \(detail)" }
}

/// The stable codes of the API's problems.
package struct APIErrorCode: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    package let rawValue: String
    package init(rawValue: String) { self.rawValue = rawValue }
    package var description: String { rawValue }

    package static let requestMalformed = APIErrorCode(rawValue: "request_malformed")
    package static let requestTooLarge = APIErrorCode(rawValue: "request_too_large")
    package static let routeNotFound = APIErrorCode(rawValue: "route_not_found")
    package static let methodNotAllowed = APIErrorCode(rawValue: "method_not_allowed")
    package static let unsupportedMediaType = APIErrorCode(rawValue: "unsupported_media_type")
    package static let databaseBusy = APIErrorCode(rawValue: "database_busy")
    /// No space left on the station's disk: nothing was recorded, the same request can be sent again
    /// once there is.
    package static let storageFull = APIErrorCode(rawValue: "storage_full")
    /// The station's disk or database file cannot be written (an I/O error, read-only).
    package static let storageUnavailable = APIErrorCode(rawValue: "storage_unavailable")
    package static let internalError = APIErrorCode(rawValue: "internal_error")
    package static let unauthorized = APIErrorCode(rawValue: "unauthorized")
    package static let sessionNotFound = APIErrorCode(rawValue: "session_not_found")
    package static let sessionNotOpen = APIErrorCode(rawValue: "session_not_open")
    package static let idCheckNotNeeded = APIErrorCode(rawValue: "id_check_not_needed")
    package static let idCheckInvalid = APIErrorCode(rawValue: "id_check_invalid")
    package static let idCheckMismatch = APIErrorCode(rawValue: "id_check_mismatch")
    /// The certificate is not a practitioner's from the cloud's CA, is expired, or the key is not its.
    package static let credentialInvalid = APIErrorCode(rawValue: "practitioner_credential_invalid")
    /// The session's visit was not opened at the cloud (yet): it has no grant for records.
    package static let visitNotForwarded = APIErrorCode(rawValue: "visit_not_forwarded")
    /// The cloud's grant for the visit has ended.
    package static let grantExpired = APIErrorCode(rawValue: "grant_expired")
    /// The cloud did not answer a records or alerts call.
    package static let cloudUnavailable = APIErrorCode(rawValue: "cloud_unavailable")
    package static let categoryUnknown = APIErrorCode(rawValue: "category_unknown")
    /// The station has no cloud configured: logins and records need one.
    package static let cloudNotConfigured = APIErrorCode(rawValue: "cloud_not_configured")
    /// `POST /v1/scans/image`: the body is over the image size limit.
    package static let imageTooLarge = APIErrorCode(rawValue: "image_too_large")
    /// Not a PNG or JPEG, by its content or its declared type.
    package static let imageFormatUnsupported = APIErrorCode(rawValue: "image_format_unsupported")
    /// A PNG or JPEG whose data is damaged or truncated.
    package static let imageCorrupt = APIErrorCode(rawValue: "image_corrupt")
    /// Width or height zero, over 16,384, or over the pixel limit.
    package static let imageDimensionsInvalid = APIErrorCode(rawValue: "image_dimensions_invalid")
    /// The image's upload took longer than the route allows (it holds the one-image gate meanwhile).
    package static let imageUploadTooSlow = APIErrorCode(rawValue: "image_upload_too_slow")
    /// Another image is being read: one at a time, so pictures cannot crowd out the camera.
    package static let imageBusy = APIErrorCode(rawValue: "image_busy")
    /// `POST /v1/consents/{id}/cancel`: no request with this id was made at this station.
    package static let consentUnknown = APIErrorCode(rawValue: "consent_unknown")
    /// `POST /v1/consents/{id}/cancel`: the request ended first (answered, expired or withdrawn).
    package static let consentEnded = APIErrorCode(rawValue: "consent_ended")
    /// A browser's state-changing request without the page's own `Origin`.
    package static let originRefused = APIErrorCode(rawValue: "origin_refused")
    /// `vhc web` at a station that serves no page (no loopback TCP listener).
    package static let webNotConfigured = APIErrorCode(rawValue: "web_not_configured")
}

/// Text put into a URL's path segment or query value: everything but the unreserved characters of
/// RFC 3986 is percent-encoded, so an ID, a session id or a grant typed or received stays one value.
package enum URLComponentText {
    static let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)

    package static func escape(_ text: String) -> String {
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
