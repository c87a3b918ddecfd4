import Foundation
import GRDB
import StationModels
import VirtualCard

/// A session operation that cannot be done: a stable code and a plain message.
package struct SessionError: Error, Equatable, CustomStringConvertible {
    /// The API's codes: a session error reaches clients as a problem with this code.
    package typealias Code = APIErrorCode

    package let code: Code
    package let message: String
    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
    package var description: String { "\(code): \(message)" }
}

/// The sessions table and its state machine. Every transition is written with its audit entry in
/// one transaction. At most one session per holder is open: the database's unique index enforces it.
package struct VisitSessions: Sendable {
    let database: StationDatabase

    package init(database: StationDatabase) { self.database = database }

    /// Opens a session for a verified token inside the caller's transaction; an open session of the
    /// same holder is closed as `superseded` first. Returns the new session and the superseded one.
    static func open(
        _ db: Database, claims: TokenClaims, institution: String, source: String, now: Int64, length: Int64,
        setting: String? = nil
    ) throws -> (opened: VisitSession, superseded: VisitSession?) {
        var superseded: VisitSession?
        if var previous = try fetchOpen(db, holderID: claims.holder.id) {
            previous.state = .closed
            previous.closedAt = now
            previous.closeReason = .superseded
            try save(db, previous)
            try AuditLog.append(
                db, at: now, kind: .sessionClosed, subject: previous.id,
                detail: ["reason": "superseded", "holder": previous.maskedHolder])
            superseded = previous
        }
        let needsIDCheck = claims.holder.photo == .none
        let session = VisitSession(
            id: UUID().uuidString.lowercased(), holderID: claims.holder.id, holderName: claims.holder.name,
            holderBirthDate: claims.holder.birthDate.iso,
            photo: needsIDCheck ? "none" : "verified", delegateID: claims.delegation?.delegateID,
            institution: institution, source: source, openedAt: now, expiresAt: now + length,
            state: needsIDCheck ? .awaitingIDCheck : .active, closedAt: nil, closeReason: nil, idCheck: nil,
            setting: setting)
        try VisitSessionRecord(session).insert(db)  // a new id: no row to update first
        var detail = ["holder": session.maskedHolder, "state": session.state.rawValue, "source": source]
        if let setting { detail["setting"] = setting }
        if let delegate = session.delegateID { detail["delegate"] = TaiwanID.masked(delegate) }
        try AuditLog.append(db, at: now, kind: .sessionOpened, subject: session.id, detail: detail)
        return (session, superseded)
    }

    package func session(id: String) throws -> VisitSession? {
        try database.writer.read { db in try Self.fetch(db, id: id) }
    }

    /// Sessions newest first, optionally of one state and one holder ID number.
    package func list(
        state: VisitSession.State? = nil, holderID: String? = nil, limit: Int = 200
    ) throws -> [VisitSession] {
        try database.writer.read { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let state {
                conditions.append("state = ?")
                _ = arguments.append(contentsOf: [state.rawValue])
            }
            if let holderID {
                conditions.append("holder_id = ?")
                _ = arguments.append(contentsOf: [holderID])
            }
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            _ = arguments.append(contentsOf: [limit])
            return try VisitSessionRecord.fetchAll(
                db, sql: "SELECT * FROM visit_session \(filter) ORDER BY opened_at DESC, rowid DESC LIMIT ?",
                arguments: arguments
            ).map(\.session)
        }
    }

    /// Records an operator's ID-document check on a session awaiting one; it becomes active.
    /// A national ID card or NHI card carries the holder's ID number: its last four must match.
    package func recordIDCheck(
        sessionID: String, document: IDDocument, lastFour: String, operatorName: String, now: Int64
    ) throws -> VisitSession {
        let lastFour = lastFour.uppercased()
        guard lastFour.count == 4, lastFour.allSatisfy({ $0.isASCII && ($0.isNumber || $0.isLetter) }) else {
            throw SessionError(.idCheckInvalid, "lastFour must be the document number's last 4 letters or digits")
        }
        guard let trimmedOperator = OperatorName.validated(operatorName) else {
            throw SessionError(.idCheckInvalid, "operator must be 1 to 64 characters, no control characters")
        }
        // A mismatch is refused, but its audit entry is kept: the write commits, then the error is thrown.
        let result = try database.writer.write { db -> Result<VisitSession, SessionError> in
            guard var session = try Self.fetch(db, id: sessionID) else {
                return .failure(SessionError(.sessionNotFound, "no session \(sessionID)"))
            }
            guard session.state == .awaitingIDCheck else {
                return .failure(
                    SessionError(
                        session.state.isOpen ? .idCheckNotNeeded : .sessionNotOpen,
                        session.state.isOpen
                            ? "the card has a verified photo" : "the session is \(session.state.rawValue)"))
            }
            let detail = ["document": document.rawValue, "operator": PersonName.masked(trimmedOperator)]
            if [.nationalIDCard, .healthInsuranceCard].contains(document), !session.holderID.hasSuffix(lastFour) {
                try AuditLog.append(db, at: now, kind: .sessionIDCheckFailed, subject: session.id, detail: detail)
                return .failure(
                    SessionError(.idCheckMismatch, "the document's last four do not match the card holder's ID number"))
            }
            session.idCheck = .init(document: document, lastFour: lastFour, operatorName: trimmedOperator, at: now)
            session.state = .active
            try Self.save(db, session)
            try AuditLog.append(db, at: now, kind: .sessionIDChecked, subject: session.id, detail: detail)
            return .success(session)
        }
        return try result.get()
    }

    /// Closes an open session at an operator's request.
    package func close(sessionID: String, now: Int64, reason: CloseReason = .operator) throws -> VisitSession {
        try database.writer.write { db in
            guard var session = try Self.fetch(db, id: sessionID) else {
                throw SessionError(.sessionNotFound, "no session \(sessionID)")
            }
            guard session.state.isOpen else {
                throw SessionError(.sessionNotOpen, "the session is \(session.state.rawValue)")
            }
            session.state = .closed
            session.closedAt = now
            session.closeReason = reason
            try Self.save(db, session)
            try AuditLog.append(
                db, at: now, kind: .sessionClosed, subject: session.id,
                detail: ["reason": reason.rawValue, "holder": session.maskedHolder])
            return session
        }
    }

    /// Expires every open session whose hour is up at `now`, and returns them.
    package func expireDue(now: Int64) throws -> [VisitSession] {
        try database.writer.write { db in
            let due = try VisitSessionRecord.fetchAll(
                db,
                sql: "SELECT * FROM visit_session WHERE state IN ('awaiting_id_check', 'active') AND expires_at <= ?",
                arguments: [now]
            ).map(\.session)
            return try due.map { session in
                var expired = session
                expired.state = .expired
                expired.closedAt = session.expiresAt
                try Self.save(db, expired)
                try AuditLog.append(
                    db, at: now, kind: .sessionExpired, subject: expired.id, detail: ["holder": expired.maskedHolder])
                return expired
            }
        }
    }

    /// How many sessions are open (awaiting an ID check or active).
    package func openCount() throws -> Int {
        try database.writer.read { db in
            try Int.fetchOne(
                db, sql: "SELECT count(*) FROM visit_session WHERE state IN ('awaiting_id_check', 'active')") ?? 0
        }
    }

    /// When the next open session expires (for the daemon's timer), if any is open.
    package func nextExpiry() throws -> Int64? {
        try database.writer.read { db in
            try Int64.fetchOne(
                db, sql: "SELECT min(expires_at) FROM visit_session WHERE state IN ('awaiting_id_check', 'active')")
        }
    }

    /// A session with the cloud's grant for its records (nil when the cloud has not opened it).
    package func cloudGrant(sessionID: String) throws -> (VisitSession, String?)? {
        try database.writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM visit_session WHERE id = ?", arguments: [sessionID]).map {
                (try VisitSessionRecord(row: $0).session, $0["cloud_grant"])
            }
        }
    }

    static func fetch(_ db: Database, id: String) throws -> VisitSession? {
        try VisitSessionRecord.fetchOne(db, id: id)?.session
    }

    static func fetchOpen(_ db: Database, holderID: String) throws -> VisitSession? {
        try VisitSessionRecord.fetchOne(
            db, sql: "SELECT * FROM visit_session WHERE holder_id = ? AND state IN ('awaiting_id_check', 'active')",
            arguments: [holderID]
        )?.session
    }

    /// Inserts a session's row, or updates an existing one's changing columns (`cloud_grant` untouched).
    static func save(_ db: Database, _ session: VisitSession) throws {
        try VisitSessionRecord(session).insertOrUpdate(db)
    }

}
