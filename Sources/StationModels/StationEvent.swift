import VirtualCard

/// What the station tells the front desk and the HIS as it happens (served as server-sent events).
/// Holders are masked: events go to shared screens.
package struct StationEvent: Sendable, Codable, Equatable {
    /// Increasing, across restarts too: SSE's `id:`.
    package var id: Int64
    package var type: EventKind
    package var at: Int64
    /// For scans: the outcome code, its reason in both languages, and where the token came from;
    /// for a cloud refusal its code; for a gap why (`events_missed`, `event_id_unknown`).
    package var code: OutcomeCode?
    package var reason: StationReason?
    package var source: String?
    /// The masked holder, when known.
    package var holder: String?
    package var session: SessionSummary?

    package init(
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
package struct SessionSummary: Sendable, Codable, Equatable {
    package var id: String
    package var holder: String
    package var delegate: String?
    package var state: VisitSession.State
    package var photo: String
    package var openedAt: Int64
    package var expiresAt: Int64
    package var closeReason: CloseReason?
    /// The visit at the cloud: its state and sequence number.
    package var cloud: CloudVisit.State?
    package var visitSequence: String?
    /// Where the token came from and the care setting the visit opened in (a telemedicine visit from a
    /// picture, a capture or a consent says which).
    package var source: String?
    package var setting: String?

    package init(_ session: VisitSession) {
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
        source = session.source
        setting = session.setting
    }
}

/// What an event says happened; the SSE `event:` field. Compared as values, never as string literals.
package struct EventKind: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    package let rawValue: String
    package init(rawValue: String) { self.rawValue = rawValue }
    package var description: String { rawValue }

    package static let scanAccepted = EventKind(rawValue: "scan.accepted")
    package static let scanRejected = EventKind(rawValue: "scan.rejected")
    package static let sessionOpened = EventKind(rawValue: "session.opened")
    package static let sessionIDChecked = EventKind(rawValue: "session.id_checked")
    package static let sessionClosed = EventKind(rawValue: "session.closed")
    package static let sessionExpired = EventKind(rawValue: "session.expired")
    /// First on a resumed stream that may have missed events; its `code` says why.
    package static let streamGap = EventKind(rawValue: "stream.gap")
    /// The cloud refused the practitioner's signature (`code`: `practitioner_not_affiliated`,
    /// `practitioner_certificate_invalid`, `request_signature_invalid`; `source`: who signed, masked):
    /// the visit waits for a login to sign it again.
    package static let visitUnsigned = EventKind(rawValue: "visit.unsigned")
    /// The station gave up on an opening the cloud never answered within `cloud.give_up_hours`
    /// (`reason`: its last error); its token is wiped.
    package static let visitUndeliverable = EventKind(rawValue: "visit.undeliverable")
    /// A waiting scan was signed by the practitioner who logged in; it is in the outbox now.
    package static let sessionSigned = EventKind(rawValue: "session.signed")
    /// The cloud opened the visit (its sequence number is in the session).
    package static let visitForwarded = EventKind(rawValue: "visit.forwarded")
    /// The cloud refused the opening; `code` is the cloud's, the session is closed with it.
    package static let visitRefused = EventKind(rawValue: "visit.refused")
    /// A practitioner logged in (`holder` is who, masked) or out (`code` says why).
    package static let practitionerLoggedIn = EventKind(rawValue: "practitioner.logged_in")
    package static let practitionerLoggedOut = EventKind(rawValue: "practitioner.logged_out")
    /// A token used here was used first elsewhere (`source`: the first institution): the cloud said so
    /// when the station told it of the tokens it used.
    package static let tokenDoubleUse = EventKind(rawValue: "token.double_use")
    /// Remote consent: asked (`holder` is the patient, masked), approved (the scan events follow, with
    /// source `consent`), refused by the patient, or not answered in time.
    package static let consentRequested = EventKind(rawValue: "consent.requested")
    package static let consentApproved = EventKind(rawValue: "consent.approved")
    package static let consentRefused = EventKind(rawValue: "consent.refused")
    package static let consentExpired = EventKind(rawValue: "consent.expired")
    /// Withdrawn at the station before the patient answered.
    package static let consentCancelled = EventKind(rawValue: "consent.cancelled")
    /// The cloud became reachable again, or stopped answering.
    package static let cloudOnline = EventKind(rawValue: "cloud.online")
    package static let cloudOffline = EventKind(rawValue: "cloud.offline")
}
