import VirtualCard

/// What the station tells the front desk and the HIS as it happens (served as server-sent events).
/// Holders are masked: events go to shared screens.
public struct StationEvent: Sendable, Codable, Equatable {
    /// Increasing, across restarts too: SSE's `id:`.
    public var id: Int64
    public var type: EventKind
    public var at: Int64
    /// For scans: the outcome code, its reason in both languages, and where the token came from;
    /// for a cloud refusal its code; for a gap why (`events_missed`, `event_id_unknown`).
    public var code: OutcomeCode?
    public var reason: StationReason?
    public var source: String?
    /// The masked holder, when known.
    public var holder: String?
    public var session: SessionSummary?

    public init(
        id: Int64, type: EventKind, at: Int64, code: OutcomeCode? = nil, reason: StationReason? = nil,
        source: String? = nil,
        holder: String? = nil, session: SessionSummary? = nil
    ) {
        self.id = id
        self.type = type
        self.at = at
        self.code = code
        self.reason = reason
        self.source = source
        self.holder = holder
        self.session = session
    }
}

/// A session as shared screens and events show it: masked, without the document details.
public struct SessionSummary: Sendable, Codable, Equatable {
    public var id: String
    public var holder: String
    public var delegate: String?
    public var state: VisitSession.State
    public var photo: String
    public var openedAt: Int64
    public var expiresAt: Int64
    public var closeReason: CloseReason?
    /// The visit at the cloud: its state and sequence number.
    public var cloud: CloudVisit.State?
    public var visitSequence: String?

    public init(_ session: VisitSession) {
        id = session.id
        holder = session.maskedHolder
        delegate = session.delegateID.map(TaiwanID.masked)
        state = session.state
        photo = session.photo
        openedAt = session.openedAt
        expiresAt = session.expiresAt
        closeReason = session.closeReason
        cloud = session.cloud?.state
        visitSequence = session.cloud?.visitSequence
    }
}

/// What an event says happened; the SSE `event:` field. Compared as values, never as string literals.
public struct EventKind: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    public static let scanAccepted = EventKind(rawValue: "scan.accepted")
    public static let scanRejected = EventKind(rawValue: "scan.rejected")
    public static let sessionOpened = EventKind(rawValue: "session.opened")
    public static let sessionIDChecked = EventKind(rawValue: "session.id_checked")
    public static let sessionClosed = EventKind(rawValue: "session.closed")
    public static let sessionExpired = EventKind(rawValue: "session.expired")
    /// First on a resumed stream that may have missed events; its `code` says why.
    public static let streamGap = EventKind(rawValue: "stream.gap")
    /// The cloud refused the practitioner's signature (`code`: `practitioner_not_affiliated`,
    /// `practitioner_certificate_invalid`, `request_signature_invalid`; `source`: who signed, masked):
    /// the visit waits for a login to sign it again.
    public static let visitUnsigned = EventKind(rawValue: "visit.unsigned")
    /// The station gave up on an opening the cloud never answered within `cloud.give_up_hours`
    /// (`reason`: its last error); its token is wiped.
    public static let visitUndeliverable = EventKind(rawValue: "visit.undeliverable")
    /// A waiting scan was signed by the practitioner who logged in; it is in the outbox now.
    public static let sessionSigned = EventKind(rawValue: "session.signed")
    /// The cloud opened the visit (its sequence number is in the session).
    public static let visitForwarded = EventKind(rawValue: "visit.forwarded")
    /// The cloud refused the opening; `code` is the cloud's, the session is closed with it.
    public static let visitRefused = EventKind(rawValue: "visit.refused")
    /// A practitioner logged in (`holder` is who, masked) or out (`code` says why).
    public static let practitionerLoggedIn = EventKind(rawValue: "practitioner.logged_in")
    public static let practitionerLoggedOut = EventKind(rawValue: "practitioner.logged_out")
    /// A token used here was used first elsewhere (`source`: the first institution): the cloud said so
    /// when the station told it of the tokens it used.
    public static let tokenDoubleUse = EventKind(rawValue: "token.double_use")
    /// Remote consent: asked (`holder` is the patient, masked), approved (the scan events follow, with
    /// source `consent`), refused by the patient, or not answered in time.
    public static let consentRequested = EventKind(rawValue: "consent.requested")
    public static let consentApproved = EventKind(rawValue: "consent.approved")
    public static let consentRefused = EventKind(rawValue: "consent.refused")
    public static let consentExpired = EventKind(rawValue: "consent.expired")
    /// The cloud became reachable again, or stopped answering.
    public static let cloudOnline = EventKind(rawValue: "cloud.online")
    public static let cloudOffline = EventKind(rawValue: "cloud.offline")
}
