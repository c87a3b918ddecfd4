import AuditChain
import CloudProtocol
import Crypto
import Foundation
import StationModels

/// The operations the daemon's other parts need beyond scans and sessions: the outbox for the cloud
/// link, lists, the event stream, the audit's head and figures. Each goes through the station, so no
/// module outside it writes to a store or publishes on its own.
extension StationService {
    // MARK: - The outbox, for the cloud link's drain and upload

    /// Openings due for a try at `now`, oldest scan first.
    package func dueOpenings(now: Int64, limit: Int) throws -> [Outbox.Item] {
        try outbox.due(now: now, limit: limit)
    }

    /// No answer this time: each tried again at the time `retryAt` gives, with why it failed.
    package func postponeOpenings(_ items: [(item: Outbox.Item, error: String)], until retryAt: (Outbox.Item) -> Int64)
        throws
    {
        try outbox.postpone(items, until: retryAt)
    }

    /// The cloud is back: every waiting opening is due now rather than at its backoff's end.
    package func makeOutboxDue() throws { try outbox.makeAllDue() }

    /// The answered tokens' pages leave the database's log too (best effort).
    package func scrubOutboxLog() { outbox.scrubLog() }

    /// Token ids to tell the cloud of, oldest first.
    package func consumedToUpload(limit: Int) throws -> [(tokenID: [UInt8], consumedAt: Int64)] {
        try outbox.consumedToUpload(limit: limit)
    }

    /// The cloud recorded these ids.
    package func consumedUploaded(_ tokenIDs: [[UInt8]]) throws { try outbox.consumedUploaded(tokenIDs) }

    // MARK: - Lists, the clock's mark, the event stream

    /// A signed list from a file or the cloud, installed when newer than the held one (audited).
    @discardableResult
    package func installList(_ kind: TrustState.Kind, cose: [UInt8], root: P256.Signing.PublicKey) throws
        -> TrustState.Installed
    {
        try trust.install(kind, cose: cose, root: root, now: clock())
    }

    /// The operator's way out of a wrong clock mark; audited with their name. Returns the previous mark
    /// and the new one (now).
    package func resetClock(operator name: String) throws -> (previous: Int64?, highWater: Int64) {
        let now = clock()
        return (try trust.resetHighWater(now: now, operator: name), now)
    }

    /// The station's events from after `lastEventID` (the kept ones first), then live.
    package func subscribe(after lastEventID: Int64? = nil) -> AsyncStream<StationEvent> {
        events.subscribe(after: lastEventID)
    }

    /// Ends every event stream (the daemon stops).
    package func finishEvents() { events.finish() }

    // MARK: - The audit

    /// What the daemon was started with, audited once at start.
    package func recordStart(_ detail: [String: String]) throws {
        try audit.append(at: clock(), kind: .configLoaded, detail: detail)
    }

    /// A one-time sign-in link for the page was handed out; audited with who asked.
    package func recordWebLink(client: String, expiresAt: Int64) throws {
        try audit.append(
            at: clock(), kind: .webLinkIssued, detail: ["client": client, "expires_at": "\(expiresAt)"])
    }

    /// The page's sign-ins and sign-outs, audited as they happen.
    package func recordWebSignIn(_ kind: AuditKind, detail: [String: String]) throws {
        try audit.append(at: clock(), kind: kind, detail: detail)
    }

    /// The audit chain's head (for the journal's anchor lines).
    package func auditHead() throws -> AuditCheck.Anchor? { try audit.head() }

    /// Today's scans per hour and refusals by code (Asia/Taipei's day).
    package func dayStatistics() throws -> DayStatistics { try audit.dayStatistics(now: clock()) }

    /// A session as stored now, unaudited: for re-reading what a request itself just changed (a scan's
    /// session after the cloud answered), never for showing someone else's.
    package func reread(sessionID: String) throws -> VisitSession? { try sessions.session(id: sessionID) }

    /// The page's sign-ins, kept in the station's database so a screen outlives a restart.
    package var webSessionStore: WebSessionStore { WebSessionStore(database: policy.database) }

    /// A card refused a login's PIN: kept for the status until a login succeeds, and audited with the
    /// card's word on the tries left (never the PIN).
    package func cardLoginRefused(_ error: CardError) throws {
        let now = clock()
        desk.cardRefusal = CardRefusal(code: error.code, pinTries: error.pinTries, at: now)
        var detail = ["code": error.code]
        if let tries = error.pinTries { detail["pin_tries"] = tries }
        try audit.append(at: now, kind: .practitionerLoginRefused, detail: detail)
    }
}
