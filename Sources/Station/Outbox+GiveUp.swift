import Foundation
import GRDB
import StationModels
import VirtualCard

/// Giving up: what waited past the protocol's deferral window leaves the outbox, kept for the clinic to
/// follow up without its token.
extension Outbox {
    /// What the station closes a visit with when it gives it up.
    package static let undeliverable = "cloud_undeliverable"

    /// Gives up every opening signed before `cutoff`, and every scan still waiting for a practitioner
    /// since before it: past the protocol's deferral window the cloud could only refuse them. In one
    /// transaction each leaves the outbox with its token (the row is kept in `undeliverable_visit`
    /// without it), its session is marked `undeliverable` (and closed if still open), the cloud is to
    /// be told the token was used here, and the audit notes it. Nothing is dropped silently. Returns
    /// the sessions.
    package func giveUp(before cutoff: Int64, now: Int64) throws -> [VisitSession] {
        // Run every second by the drain: a read says whether there is anything to give up, so the write
        // lock is taken only when there is.
        let due = try database.writer.read { db in
            try Bool.fetchOne(
                db,
                sql: """
                    SELECT EXISTS (SELECT 1 FROM outbox WHERE signed_at < ?)
                        OR EXISTS (SELECT 1 FROM awaiting_practitioner WHERE scanned_at < ?)
                    """,
                arguments: [cutoff, cutoff]) ?? false
        }
        guard due else { return [] }
        return try database.writer.write { db in
            let signed = try Row.fetchAll(
                db,
                sql: """
                    SELECT session_id, token_id, scanned_at, signed_at, attempts, last_error FROM outbox
                    WHERE signed_at < ? ORDER BY scanned_at
                    """,
                arguments: [cutoff])
            let unsigned = try Row.fetchAll(
                db,
                sql: """
                    SELECT session_id, token_id, scanned_at, NULL AS signed_at, 0 AS attempts,
                        'no practitioner signed it' AS last_error
                    FROM awaiting_practitioner WHERE scanned_at < ? ORDER BY scanned_at
                    """,
                arguments: [cutoff])
            var ended: [VisitSession] = []
            for row in signed + unsigned {
                let sessionID: String = row["session_id"]
                let tokenID: Data = row["token_id"]
                let lastError: String? = row["last_error"]
                try db.execute(
                    sql: """
                        INSERT OR REPLACE INTO undeliverable_visit
                            (session_id, token_id, scanned_at, signed_at, attempts, last_error, given_up_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        sessionID, tokenID, row["scanned_at"], row["signed_at"], row["attempts"], lastError, now,
                    ])
                try db.execute(sql: "DELETE FROM outbox WHERE session_id = ?", arguments: [sessionID])
                try db.execute(sql: "DELETE FROM awaiting_practitioner WHERE session_id = ?", arguments: [sessionID])
                // Used here and never opened at the cloud: it must learn of it, so it cannot be used elsewhere.
                try db.execute(
                    sql: "INSERT OR IGNORE INTO consumed_upload (token_id, consumed_at) VALUES (?, ?)",
                    arguments: [tokenID, row["scanned_at"]])
                var detail = [
                    "token": Hex.encode([UInt8](tokenID)), "attempts": String(row["attempts"] as Int),
                    "signed": row["signed_at"] == nil ? "no" : "yes",
                ]
                if let lastError { detail["last_error"] = lastError }
                try AuditLog.append(db, at: now, kind: .visitUndeliverable, subject: sessionID, detail: detail)
                guard var session = try VisitSessions.fetch(db, id: sessionID) else { continue }
                var cloud = session.cloud ?? CloudVisit(state: .undeliverable)
                cloud.state = .undeliverable
                cloud.refusal = Self.undeliverable
                session.cloud = cloud
                if session.state.isOpen {
                    session.state = .closed
                    session.closedAt = now
                    session.closeReason = CloseReason(rawValue: Self.undeliverable)
                    try AuditLog.append(
                        db, at: now, kind: .sessionClosed, subject: sessionID,
                        detail: ["reason": Self.undeliverable, "holder": session.maskedHolder])
                }
                try VisitSessions.save(db, session)
                ended.append(session)
            }
            return ended
        }
    }
}
