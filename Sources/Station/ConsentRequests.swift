import GRDB
import StationModels

/// The consent requests the station asked the cloud for (`consent_request`): a pending one survives a
/// restart and is followed again, so an approval given while the daemon was down still opens its visit.
/// One row per request; only the patient's masked number is kept.
package struct ConsentRequests: Sendable {
    let database: StationDatabase

    /// A request the cloud took, pending.
    func insert(_ db: Database, _ consent: StationConsent) throws {
        try db.execute(
            sql: """
                INSERT INTO consent_request (id, patient, setting, state, requested_at, expires_at)
                VALUES (?, ?, ?, 'pending', ?, ?)
                """,
            arguments: [consent.id, consent.patient, consent.setting, consent.requestedAt, consent.expiresAt])
    }

    /// Ends a pending request; false (and nothing written) when it had already ended, so each request
    /// ends once, whoever learns of it first (the follower, a cancellation).
    func end(
        _ db: Database, id: String, as state: StationConsent.State, code: String?, sessionID: String? = nil, at now: Int64
    ) throws -> Bool {
        try db.execute(
            sql: """
                UPDATE consent_request SET state = ?, code = ?, session_id = ?, ended_at = ?
                WHERE id = ? AND state = 'pending'
                """,
            arguments: [state.rawValue, code, sessionID, now, id])
        return db.changesCount == 1
    }

    /// An approval and what it came to: the scan's code, and the visit it opened. A request that had ended
    /// otherwise here (given up by a follower that found it collected) takes the approval: the visit opened.
    /// False when it was already approved (recorded once).
    func approve(_ db: Database, id: String, code: String, sessionID: String?, at now: Int64) throws -> Bool {
        try db.execute(
            sql: """
                UPDATE consent_request SET state = 'approved', code = ?, session_id = ?, ended_at = ?
                WHERE id = ? AND state IN ('pending', 'expired')
                """,
            arguments: [code, sessionID, now, id])
        return db.changesCount == 1
    }

    package func consent(id: String, institution: String) throws -> StationConsent? {
        try database.writer.read { db in try Self.fetch(db, "id = ?", [id], institution: institution).first }
    }

    /// The pending requests, oldest first (to follow after a restart).
    package func pending(institution: String) throws -> [StationConsent] {
        try database.writer.read { db in
            try Self.fetch(db, "state = 'pending' ORDER BY requested_at", [], institution: institution)
        }
    }

    /// The requests made since `since`, and every one still pending, newest first.
    package func recent(since: Int64, institution: String) throws -> [StationConsent] {
        try database.writer.read { db in
            try Self.fetch(
                db, "requested_at >= ? OR state = 'pending' ORDER BY requested_at DESC LIMIT 200", [since],
                institution: institution)
        }
    }

    static func fetch(
        _ db: Database, _ condition: String, _ arguments: StatementArguments, institution: String
    ) throws -> [StationConsent] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT id, patient, setting, state, requested_at, expires_at, ended_at, code, session_id
                FROM consent_request WHERE \(condition)
                """,
            arguments: arguments
        ).map { row in
            StationConsent(
                id: row["id"], institution: institution, patient: row["patient"], setting: row["setting"],
                // A state this version does not know reads as ended, never as one to follow.
                state: StationConsent.State(rawValue: row["state"]) ?? .expired, requestedAt: row["requested_at"],
                expiresAt: row["expires_at"], endedAt: row["ended_at"], code: row["code"], sessionId: row["session_id"])
        }
    }
}
