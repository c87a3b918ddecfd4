import Foundation
import StationModels
import VirtualCard

/// The station as the daemon's parts use it: the policy, its stores and the event bus behind one
/// set of operations, each of which records what it did and publishes the events it caused. The
/// camera pipeline and the local API call the same methods, so a scan is a scan wherever it came from.
public final class StationService: Sendable {
    public let policy: StationPolicy
    public let events: EventBus
    /// Epoch seconds now: the system clock, or a test's.
    public let clock: @Sendable () -> Int64

    public init(policy: StationPolicy, events: EventBus = EventBus(), clock: @escaping @Sendable () -> Int64) {
        self.policy = policy
        self.events = events
        self.clock = clock
    }

    public var sessions: VisitSessions { policy.sessions }
    public var trust: TrustState { policy.trust }
    public var audit: AuditLog { policy.audit }
    public var settings: StationPolicy.Settings { policy.settings }

    /// Verifies a scanned token and publishes `scan.accepted` or `scan.rejected`, and the session
    /// events it caused (`session.closed` for a superseded session, then `session.opened`).
    public func submit(_ text: [UInt8], source: String) throws -> StationPolicy.Outcome {
        let now = clock()
        let outcome = try policy.submit(text, source: source, now: now)
        if let superseded = outcome.superseded { publish(.sessionClosed, superseded, at: now) }
        if let session = outcome.session { publish(.sessionOpened, session, at: now) }
        events.publish { id in
            StationEvent(
                id: id, type: outcome.accepted ? .scanAccepted : .scanRejected, at: now, code: outcome.code,
                reason: outcome.reason, source: source, holder: outcome.maskedHolder,
                session: outcome.session.map(SessionSummary.init))
        }
        return outcome
    }

    public func recordIDCheck(
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

    public func close(sessionID: String) throws -> VisitSession {
        let now = clock()
        let session = try sessions.close(sessionID: sessionID, now: now)
        publish(.sessionClosed, session, at: now)
        return session
    }

    /// Expires what is due now and publishes `session.expired` for each.
    @discardableResult
    public func expireDue() throws -> [VisitSession] {
        let now = clock()
        let expired = try sessions.expireDue(now: now)
        for session in expired { publish(.sessionExpired, session, at: now) }
        return expired
    }

    /// One session, full (the HIS needs the holder's identity); the read itself is audited.
    public func session(id: String, readBy client: String) throws -> VisitSession? {
        guard let session = try sessions.session(id: id) else { return nil }
        try audit.append(at: clock(), kind: .sessionRead, subject: id, detail: ["client": client])
        return session
    }

    /// Sessions newest first; listing is audited like a read, with the filters used.
    public func listSessions(
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

    private func publish(_ type: EventKind, _ session: VisitSession, at now: Int64) {
        events.publish { id in
            StationEvent(
                id: id, type: type, at: now, code: nil, reason: nil, source: nil, holder: session.maskedHolder,
                session: SessionSummary(session))
        }
    }
}
