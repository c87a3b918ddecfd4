import AuditChain
import CloudProtocol
import Foundation
import StationMetrics
import StationModels
import VirtualCard

/// The station as the daemon's parts use it: the policy, its stores and the event bus behind one
/// set of operations, each of which records what it did and publishes the events it caused. The
/// camera pipeline, the local API and the cloud link call the same methods, so a scan is a scan
/// wherever it came from. Its parts are the package's, not the API's: outside this module, a change
/// to the station goes through one of these methods.
package final class StationService: Sendable {
    package let policy: StationPolicy
    package let events: EventBus
    /// Epoch seconds now: the system clock, or a test's.
    package let clock: @Sendable () -> Int64
    package let desk = PractitionerDesk()  // the practitioner logged in to sign visit openings (forwarding only)
    package let listFiles = ListFileReports()  // configured list files the daemon could not use
    package let scanners = ScannerBoard()  // the configured handheld scanners
    /// What reaches the cloud (StationCloud's `CloudCalls`) when the station forwards; no reference back.
    package let uplink: (any CloudUplink)?

    /// How practitioners' credentials are checked, with forwarding on.
    package let logins: LoginRules?
    /// What opens a practitioner's card at a login (the runtime's PKCS#11), when the station takes cards.
    package let cards: (any PractitionerCardReader)?
    /// Where the station's figures go (`GET /metrics`); nowhere unless the daemon gives a factory.
    package let metrics: StationMetrics

    /// The cloud's CA, which issues practitioner certificates, and the default shift.
    package struct LoginRules: Sendable {
        package var authority: CertificateAuthority
        package var shiftSeconds: Int64
        package init(authority: CertificateAuthority, shiftSeconds: Int64 = 8 * 3600) {
            self.authority = authority
            self.shiftSeconds = shiftSeconds
        }
    }

    package init(
        policy: StationPolicy, events: EventBus = EventBus(), clock: @escaping @Sendable () -> Int64,
        logins: LoginRules? = nil, uplink: (any CloudUplink)? = nil, cards: (any PractitionerCardReader)? = nil,
        metrics: StationMetrics = StationMetrics()
    ) {
        self.cards = cards
        self.metrics = metrics
        self.policy = policy
        self.events = events
        self.clock = clock
        self.logins = logins
        self.uplink = uplink
    }

    package var outbox: Outbox { Outbox(database: policy.database) }

    package var sessions: VisitSessions { policy.sessions }
    package var trust: TrustState { policy.trust }
    package var audit: AuditLog { policy.audit }
    package var settings: StationPolicy.Settings { policy.settings }

    /// Verifies a scanned token and publishes `scan.accepted` or `scan.rejected`, and the session
    /// events it caused (`session.closed` for a superseded session, then `session.opened`).
    package func submit(_ text: [UInt8], source: String, setting: CareSetting? = nil) throws -> StationPolicy.Outcome {
        let now = clock()
        let desk = desk
        let outcome = try policy.submit(
            text, source: source, now: now, signer: { desk.credential(at: now) }, setting: setting)
        announce(outcome, source: source, at: now)
        return outcome
    }

    /// The same, committed in a group with the scans that arrive meanwhile (the API's path, where many
    /// clients submit at once; the camera's one thread uses `submit`).
    package func submitGrouped(
        _ text: [UInt8], source: String, setting: CareSetting? = nil
    ) async throws -> StationPolicy.Outcome {
        let now = clock()
        let desk = desk
        let outcome = try await policy.submitGrouped(
            text, source: source, now: now, signer: { desk.credential(at: now) }, setting: setting)
        announce(outcome, source: source, at: now)
        return outcome
    }

    /// A scan's events, and a wake of the uplink when it left a visit to send.
    private func announce(_ outcome: StationPolicy.Outcome, source: String, at now: Int64) {
        if let superseded = outcome.superseded { publish(.sessionClosed, superseded, at: now) }
        if let session = outcome.session { publish(.sessionOpened, session, at: now) }
        events.publish { id in
            StationEvent(
                id: id, type: outcome.accepted ? .scanAccepted : .scanRejected, at: now, code: outcome.code,
                reason: outcome.reason, source: source, holder: outcome.maskedHolder,
                session: outcome.session.map(SessionSummary.init))
        }
        if outcome.session?.cloud?.state == .pendingCloud { uplink?.wake() }
        metrics.scanned(outcome.code, source: source)
    }

    /// A practitioner takes the desk: audited, announced, and every scan that waited for one is
    /// signed now and handed to the outbox. Returns how many were signed.
    package func login(_ credential: PractitionerCredential) throws -> Int {
        guard let forwarding = settings.forwarding else { return 0 }
        let now = clock()
        let previous = desk.login(credential)
        if let previous { try recordLogout(previous, reason: "replaced", at: now) }
        try record(
            .practitionerLoggedIn, subject: credential.status.id,
            detail: ["profession": credential.status.profession, "until": String(credential.until)],
            event: .practitionerLoggedIn, at: now, holder: credential.status.name)
        let signed = try outbox.signWaiting(by: credential, forwarding: forwarding, now: now)
        for session in signed { publish(.sessionSigned, session, at: now) }
        if !signed.isEmpty { uplink?.wake() }
        return signed.count
    }

    /// The cloud would refuse this practitioner's openings (asked at login): the login is refused,
    /// audited with the cloud's code, and the refusal shows in the status until a login succeeds.
    package func loginRefused(_ credential: PractitionerCredential, code: String) throws {
        let now = clock()
        desk.noteRefusal(PractitionerRefusal(practitioner: credential.status, code: code, at: now))
        try audit.append(
            at: now, kind: .practitionerLoginRefused, subject: credential.status.id,
            detail: ["code": code, "profession": credential.status.profession])
    }

    /// Clears the desk (`vhc logout`); nil when nobody was logged in.
    @discardableResult
    package func logout() throws -> PractitionerCredential? {
        guard let credential = desk.logout() else { return nil }
        try recordLogout(credential, reason: "logout", at: clock())
        return credential
    }

    /// Ends a shift that is over, or whose card was pulled out (the maintenance tick): audited and
    /// announced once, as a logout with its reason.
    package func endShiftIfDue() throws {
        let now = clock()
        if let (ended, reason) = desk.endShiftIfDue(now: now) { try recordLogout(ended, reason: reason, at: now) }
    }

    private func recordLogout(_ credential: PractitionerCredential, reason: String, at now: Int64) throws {
        try record(
            .practitionerLoggedOut, subject: credential.status.id, detail: ["reason": reason],
            event: .practitionerLoggedOut, at: now, code: OutcomeCode(rawValue: reason), holder: credential.status.name)
    }

    /// Applies the cloud's answers from the outbox worker and announces each: `visit.forwarded`;
    /// `visit.refused` with the station's code (the session closed with it); or `visit.unsigned` with the
    /// cloud's code when it refused the practitioner, whose login then ends if they still hold the desk.
    package func applyCloudAnswers(_ answers: [(Outbox.Item, Outbox.Answer)]) throws {
        let now = clock()
        for (item, session, answer) in try outbox.apply(answers, now: now) {
            switch answer {
            case .opened: publish(.visitForwarded, session, at: now)
            case .signatureRefused(let code):
                events.publish { id in
                    StationEvent(
                        id: id, type: .visitUnsigned, at: now, code: OutcomeCode(rawValue: code),
                        source: session.cloud?.practitioner, holder: session.maskedHolder,
                        session: SessionSummary(session))
                }
                if let signer = try? SignedVisitOpening(item.body).certificate,
                    let refused = desk.refuse(certificate: signer, code: code, at: now)
                {
                    try recordLogout(refused, reason: code, at: now)
                }
            case .refused, .refusedUnknown:
                events.publish { id in
                    StationEvent(
                        id: id, type: .visitRefused, at: now, code: answer.refusalCode.map(OutcomeCode.init),
                        holder: session.maskedHolder, session: SessionSummary(session))
                }
            }
        }
    }

    /// Gives up what waited longer than `seconds` for the cloud or a practitioner (Outbox.giveUp) and
    /// announces each as `visit.undeliverable`. Returns how many.
    @discardableResult
    package func giveUpUndeliverable(after seconds: Int64) throws -> Int {
        let now = clock()
        let ended = try outbox.giveUp(before: now - seconds, now: now)
        for session in ended {
            events.publish { id in
                StationEvent(
                    id: id, type: .visitUndeliverable, at: now, code: OutcomeCode(rawValue: Outbox.undeliverable),
                    holder: session.maskedHolder, session: SessionSummary(session))
            }
        }
        return ended.count
    }

    /// The grant of a session whose records are asked for: the session must exist, be open, and have
    /// been opened at the cloud with a grant still running. The access is audited with who asked and
    /// what (the records themselves are never stored).
    package func recordsGrant(
        sessionID: String, reading what: [String: String], by client: String
    ) throws -> (session: VisitSession, grant: String) {
        let now = clock()
        guard let (session, grant) = try sessions.cloudGrant(sessionID: sessionID) else {
            throw SessionError(.sessionNotFound, "no session \(sessionID)")
        }
        guard session.state.isOpen else {
            throw SessionError(.sessionNotOpen, "the session is \(session.state.rawValue): its records are closed")
        }
        guard let grant, session.cloud?.state == .forwarded else {
            throw SessionError(
                .visitNotForwarded,
                "the visit is \(session.cloud?.state.rawValue ?? "not forwarded"): records come once the cloud opened it"
            )
        }
        if let end = session.cloud?.grantExpiresAt, end <= now {
            throw SessionError(.grantExpired, "the cloud's grant for this visit ended")
        }
        try audit.append(
            at: now, kind: .recordsRead, subject: sessionID,
            detail: what.merging(["client": client, "holder": session.maskedHolder]) { $1 })
        return (session, grant)
    }

    /// The cloud says these tokens, used here, were used first elsewhere: each is an event and an audit
    /// row for the clinic to look into (the token id and the first institution, no holder).
    package func recordDoubleUse(_ uses: [ConsumedAnswer.DoubleUse]) throws {
        let now = clock()
        for use in uses {
            try record(
                .tokenDoubleUse, subject: use.tokenId,
                detail: ["first_institution": use.firstInstitution, "first_at": String(use.firstAt)],
                event: .tokenDoubleUse, at: now, code: OutcomeCode(rawValue: "token_replayed"),
                source: use.firstInstitution)
        }
    }

    package func recordIDCheck(
        sessionID: String, document: IDDocument, lastFour: String, operatorName: String
    ) throws
        -> VisitSession
    {
        let now = clock()
        let session = try sessions.recordIDCheck(
            sessionID: sessionID, document: document, lastFour: lastFour, operatorName: operatorName, now: now)
        publish(.sessionIDChecked, session, at: now)
        return session
    }

    package func close(sessionID: String, reason: CloseReason = .operator) throws -> VisitSession {
        let now = clock()
        let session = try sessions.close(sessionID: sessionID, now: now, reason: reason)
        publish(.sessionClosed, session, at: now)
        return session
    }

    /// Expires what is due now and publishes `session.expired` for each.
    @discardableResult
    package func expireDue() throws -> [VisitSession] {
        let now = clock()
        let expired = try sessions.expireDue(now: now)
        for session in expired { publish(.sessionExpired, session, at: now) }
        return expired
    }

    /// One session, full (the HIS needs the holder's identity); the read itself is audited.
    package func session(id: String, readBy client: String) throws -> VisitSession? {
        guard let session = try sessions.session(id: id) else { return nil }
        try audit.append(at: clock(), kind: .sessionRead, subject: id, detail: ["client": client])
        return session
    }

    /// A holder's full identity for a screen that masks it: an explicit read, audited with who asked.
    package func revealHolder(sessionID: String, to client: String) throws -> VisitSession? {
        guard let session = try sessions.session(id: sessionID) else { return nil }
        try audit.append(at: clock(), kind: .holderRevealed, subject: sessionID, detail: ["client": client])
        return session
    }

    /// Sessions newest first; listing is audited like a read, with the filters used.
    package func listSessions(
        state: VisitSession.State?, holderID: String?, readBy client: String
    ) throws
        -> [VisitSession]
    {
        let found = try sessions.list(state: state, holderID: holderID)
        var detail = ["client": client, "count": "\(found.count)"]
        if let state { detail["state"] = state.rawValue }
        if let holderID { detail["holder"] = TaiwanID.masked(holderID) }
        try audit.append(at: clock(), kind: .sessionListed, detail: detail)
        return found
    }

    /// An audit row and the event that tells the screens of it, at one time: what the cloud side's
    /// happenings (logins, consents, double use) each are. Holders and patients come masked.
    func record(
        _ kind: AuditKind, subject: String, detail: [String: String], event: EventKind, at now: Int64,
        code: OutcomeCode? = nil, source: String? = nil, holder: String? = nil
    ) throws {
        try audit.append(at: now, kind: kind, subject: subject, detail: detail)
        events.publish { id in
            StationEvent(id: id, type: event, at: now, code: code, source: source, holder: holder)
        }
    }

    private func publish(_ type: EventKind, _ session: VisitSession, at now: Int64) {
        events.publish { id in
            StationEvent(
                id: id, type: type, at: now, code: nil, reason: nil, source: nil, holder: session.maskedHolder,
                session: SessionSummary(session))
        }
    }
}

/// What sends the outbox to the cloud, as the station's core sees it (implemented by StationCloud).
package protocol CloudUplink: Sendable {
    /// Something was added to the outbox: send it now rather than at the next tick.
    func wake()
    /// Sends what is due now and returns when the cloud answered or `timeout` passed (the API waits
    /// this long for a scan's grant; what is not answered by then stays pending and is sent later).
    func flush(timeout: Duration) async
    /// Reachable or not, and when it last answered.
    func connectionStatus() -> CloudStatus
    /// One page of a visit's records, with the session's grant. Throws `CloudAccessError`.
    func records(grant: String, category: RecordCategory, page: Int, pageSize: Int) async throws -> CategoryPage
    /// Alerts (duplicates, interactions) for what the clinician proposes. Throws `CloudAccessError`.
    func alerts(grant: String, proposal: AlertRequest) async throws -> AlertAnswer
    /// Asks the cloud for the patient's consent to a remote visit (one try). Throws `CloudAccessError`.
    func requestConsent(patientID: String, setting: CareSetting) async throws -> Consent
    /// Polls a consent the cloud took in the background until the patient answers or the window ends: an
    /// approval's token goes to `StationService.consentApproved`, a refusal or the end of the window
    /// to `consentEnded`.
    func follow(_ consent: Consent, patient: String)
    /// Withdraws a pending consent request at the cloud (one try; a refusal is final). Throws
    /// `CloudAccessError`.
    func cancelConsent(id: String) async throws
    /// Asks the cloud whether openings signed with this practitioner certificate (DER) would pass for
    /// the institution (the project's `POST /v1/affiliations`); never throws: a cloud that cannot be
    /// asked leaves the login unchecked.
    func checkAffiliation(certificate: [UInt8]) async -> AffiliationCheck.Outcome
}

extension AffiliationCheck {
    /// What the station makes of the cloud's answer at a login.
    package enum Outcome: Sendable, Equatable {
        case confirmed
        /// The cloud would refuse this practitioner's openings: its code and detail.
        case refused(code: String, detail: String)
        /// Not asked or not answered as the extension answers (why).
        case unchecked(String)
    }
}

/// A records or alerts call the cloud did not serve: refused with its code (`grant_expired`…), or not
/// reachable.
package enum CloudAccessError: Error, CustomStringConvertible {
    case refused(CloudProblem)
    case unavailable(String)

    package var description: String {
        switch self {
        case .refused(let problem): "the cloud refused: \(problem)"
        case .unavailable(let reason): "the cloud cannot be reached: \(reason)"
        }
    }
}
