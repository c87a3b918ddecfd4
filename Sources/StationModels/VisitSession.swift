import VirtualCard

/// A visit session: what a valid scan opens, for `session.length_seconds` (an hour by default).
/// It keeps what the visit needs and nothing more: who the card holder is (the clinic's HIS and the
/// cloud need the full ID number and name), who presented the card when it was delegated, and
/// whether the holder's identity was checked against a document. Never the token itself.
package struct VisitSession: Sendable, Equatable, Codable {
    package enum State: String, Sendable, Codable, CaseIterable {
        /// A card without a photo: the clinic must check an ID document before the visit goes on.
        case awaitingIDCheck = "awaiting_id_check"
        case active
        case closed
        case expired

        package var isOpen: Bool { self == .awaitingIDCheck || self == .active }
    }

    package struct IDCheck: Sendable, Equatable, Codable {
        package var document: IDDocument
        /// The document number's last four characters, as the operator read them.
        package var lastFour: String
        package var operatorName: String
        package var at: Int64
        package init(document: IDDocument, lastFour: String, operatorName: String, at: Int64) {
            self.document = document
            self.lastFour = lastFour
            self.operatorName = operatorName
            self.at = at
        }
    }

    package var id: String
    package var holderID: String
    package var holderName: String
    package var holderBirthDate: String
    /// `verified` or `none` (no photo on the card yet: an ID check is needed).
    package var photo: String
    /// The delegate who presented the card, when it was delegated.
    package var delegateID: String?
    package var institution: String
    /// Where the token came from: `camera`, `handheld`, `api`, `image`, `capture`, `consent`.
    package var source: String
    /// The care setting the visit opened in (`outpatient`, `home_care`, `telemedicine`,
    /// `video_consultation`): the station's, or a remote visit's own (a consent's, a picture's or a
    /// capture's `setting`); nil for a standalone station's visits that named none, and for rows from
    /// before it was kept.
    package var setting: String?
    package var openedAt: Int64
    package var expiresAt: Int64
    package var state: State
    package var closedAt: Int64?
    package var closeReason: CloseReason?
    package var idCheck: IDCheck?
    /// The visit at the cloud, when the station forwards to one.
    package var cloud: CloudVisit?

    package init(
        id: String, holderID: String, holderName: String, holderBirthDate: String, photo: String,
        delegateID: String?, institution: String, source: String, openedAt: Int64, expiresAt: Int64, state: State,
        closedAt: Int64? = nil, closeReason: CloseReason? = nil, idCheck: IDCheck? = nil, cloud: CloudVisit? = nil,
        setting: String? = nil
    ) {
        self.setting = setting
        self.id = id
        self.holderID = holderID
        self.holderName = holderName
        self.holderBirthDate = holderBirthDate
        self.photo = photo
        self.delegateID = delegateID
        self.institution = institution
        self.source = source
        self.openedAt = openedAt
        self.expiresAt = expiresAt
        self.state = state
        self.closedAt = closedAt
        self.closeReason = closeReason
        self.idCheck = idCheck
        self.cloud = cloud
    }

    /// The holder as shown on shared screens and written to logs.
    package var maskedHolder: String { Self.masked(id: holderID, name: holderName) }

    /// `A12****789 王**`: a holder as logs, events and shared screens show one.
    package static func masked(id: String, name: String) -> String {
        "\(TaiwanID.masked(id)) \(PersonName.masked(name))"
    }
}

/// The documents an operator may check for a card without a photo.
package enum IDDocument: String, Sendable, Codable, CaseIterable {
    case nationalIDCard = "national_id_card"
    case residentCertificate = "resident_certificate"
    case passport
    case driverLicense = "driver_license"
    case healthInsuranceCard = "nhi_card"
}

/// Why a session was closed: by the operator, superseded by the holder's next scan, or refused by the
/// cloud (then the cloud's code, `token_replayed`, `institution_not_enrolled`…).
package struct CloseReason: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    package let rawValue: String
    package init(rawValue: String) { self.rawValue = rawValue }
    package var description: String { rawValue }

    package static let `operator` = CloseReason(rawValue: "operator")
    package static let superseded = CloseReason(rawValue: "superseded")
    /// The HIS cancelled the registration (退掛: the console's `SequelNumber/Rollback`).
    package static let registrationCancelled = CloseReason(rawValue: "registration_cancelled")
}

/// A session's visit at the cloud (cloud-protocol.md §3): waiting for a practitioner to sign it, signed
/// and waiting for the cloud, opened there, or refused. What the cloud returned that the clinic needs
/// is kept; the grant itself stays inside the station.
package struct CloudVisit: Sendable, Equatable, Codable {
    package enum State: String, Sendable, Codable, CaseIterable {
        /// No practitioner was logged in at the scan: it is signed when one logs in.
        case awaitingPractitioner = "awaiting_practitioner"
        /// Signed and in the outbox: the cloud has not answered yet (offline, or in flight).
        case pendingCloud = "pending_cloud"
        case forwarded
        /// The cloud refused the opening; the session was closed with the cloud's code.
        case refused
        /// The cloud never answered within `cloud.give_up_hours`: the station stopped trying and wiped
        /// the token; the clinic follows the visit up by other means.
        case undeliverable
    }

    package var state: State
    /// Who signed the opening, masked.
    package var practitioner: String?
    /// Four digits, per institution and day, from the cloud.
    package var visitSequence: String?
    /// Opened after an offline period (more than 300 s after signing).
    package var deferred: Bool?
    /// The cloud's code when it refused (`token_replayed`…), and the token profile's code with
    /// `token_invalid`.
    package var refusal: String?
    package var tokenCode: String?
    /// The card data the cloud returned.
    package var cardNumber: String?
    package var insuranceStatus: String?
    /// 就醫識別碼, when the cloud issues one (an extension of the sandbox: 20 letters or digits).
    package var treatmentNumber: String?
    /// `M` or `F`, from the cloud's card data (FHIR's Patient.gender).
    package var sex: String?
    /// When the grant for records ends, epoch seconds.
    package var grantExpiresAt: Int64?

    package init(
        state: State, practitioner: String? = nil, visitSequence: String? = nil, deferred: Bool? = nil,
        refusal: String? = nil, tokenCode: String? = nil, cardNumber: String? = nil, insuranceStatus: String? = nil,
        sex: String? = nil, grantExpiresAt: Int64? = nil, treatmentNumber: String? = nil
    ) {
        self.state = state
        self.practitioner = practitioner
        self.visitSequence = visitSequence
        self.deferred = deferred
        self.refusal = refusal
        self.tokenCode = tokenCode
        self.cardNumber = cardNumber
        self.insuranceStatus = insuranceStatus
        self.sex = sex
        self.grantExpiresAt = grantExpiresAt
        self.treatmentNumber = treatmentNumber
    }
}
