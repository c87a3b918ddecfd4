import VirtualCard

/// A visit session: what a valid scan opens, for `session.length_seconds` (an hour by default).
/// It keeps what the visit needs and nothing more: who the card holder is (the clinic's HIS and the
/// cloud need the full ID number and name), who presented the card when it was delegated, and
/// whether the holder's identity was checked against a document. Never the token itself.
public struct VisitSession: Sendable, Equatable, Codable {
    public enum State: String, Sendable, Codable, CaseIterable {
        /// A card without a photo: the clinic must check an ID document before the visit goes on.
        case awaitingIDCheck = "awaiting_id_check"
        case active
        case closed
        case expired

        public var isOpen: Bool { self == .awaitingIDCheck || self == .active }
    }

    public struct IDCheck: Sendable, Equatable, Codable {
        public var document: IDDocument
        /// The document number's last four characters, as the operator read them.
        public var lastFour: String
        public var operatorName: String
        public var at: Int64
        public init(document: IDDocument, lastFour: String, operatorName: String, at: Int64) {
            self.document = document
            self.lastFour = lastFour
            self.operatorName = operatorName
            self.at = at
        }
    }

    public var id: String
    public var holderID: String
    public var holderName: String
    public var holderBirthDate: String
    /// `verified` or `none` (no photo on the card yet: an ID check is needed).
    public var photo: String
    /// The delegate who presented the card, when it was delegated.
    public var delegateID: String?
    public var institution: String
    /// Where the token came from: `camera`, `api`, `image`.
    public var source: String
    public var openedAt: Int64
    public var expiresAt: Int64
    public var state: State
    public var closedAt: Int64?
    public var closeReason: CloseReason?
    public var idCheck: IDCheck?
    /// The visit at the cloud, when the station forwards to one.
    public var cloud: CloudVisit?

    public init(
        id: String, holderID: String, holderName: String, holderBirthDate: String, photo: String,
        delegateID: String?, institution: String, source: String, openedAt: Int64, expiresAt: Int64, state: State,
        closedAt: Int64? = nil, closeReason: CloseReason? = nil, idCheck: IDCheck? = nil, cloud: CloudVisit? = nil
    ) {
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
    public var maskedHolder: String { Self.masked(id: holderID, name: holderName) }

    /// `A12****789 王**`: a holder as logs, events and shared screens show one.
    public static func masked(id: String, name: String) -> String {
        "\(TaiwanID.masked(id)) \(PersonName.masked(name))"
    }
}

/// The documents an operator may check for a card without a photo.
public enum IDDocument: String, Sendable, Codable, CaseIterable {
    case nationalIDCard = "national_id_card"
    case residentCertificate = "resident_certificate"
    case passport
    case driverLicense = "driver_license"
    case healthInsuranceCard = "nhi_card"
}

/// Why a session was closed: by the operator, superseded by the holder's next scan, or refused by the
/// cloud (then the cloud's code, `token_replayed`, `institution_not_enrolled`…).
public struct CloseReason: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    public static let `operator` = CloseReason(rawValue: "operator")
    public static let superseded = CloseReason(rawValue: "superseded")
}

/// A session's visit at the cloud (cloud-protocol.md §3): waiting for a practitioner to sign it, signed
/// and waiting for the cloud, opened there, or refused. What the cloud returned that the clinic needs
/// is kept; the grant itself stays inside the station.
public struct CloudVisit: Sendable, Equatable, Codable {
    public enum State: String, Sendable, Codable, CaseIterable {
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

    public var state: State
    /// Who signed the opening, masked.
    public var practitioner: String?
    /// Four digits, per institution and day, from the cloud.
    public var visitSequence: String?
    /// Opened after an offline period (more than 300 s after signing).
    public var deferred: Bool?
    /// The cloud's code when it refused (`token_replayed`…), and the token profile's code with
    /// `token_invalid`.
    public var refusal: String?
    public var tokenCode: String?
    /// The card data the cloud returned.
    public var cardNumber: String?
    public var insuranceStatus: String?
    /// `M` or `F`, from the cloud's card data (FHIR's Patient.gender).
    public var sex: String?
    /// When the grant for records ends, epoch seconds.
    public var grantExpiresAt: Int64?

    public init(
        state: State, practitioner: String? = nil, visitSequence: String? = nil, deferred: Bool? = nil,
        refusal: String? = nil, tokenCode: String? = nil, cardNumber: String? = nil, insuranceStatus: String? = nil,
        sex: String? = nil, grantExpiresAt: Int64? = nil
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
    }
}
