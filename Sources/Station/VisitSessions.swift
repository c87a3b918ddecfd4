import Foundation
import GRDB
import StationModels
import VirtualCard

/// A session operation that cannot be done: a stable code and a plain message.
public struct SessionError: Error, Equatable, CustomStringConvertible {
    /// The API's codes: a session error reaches clients as a problem with this code.
    public typealias Code = APIErrorCode

    public let code: Code
    public let message: String
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { "\(code): \(message)" }
}

/// The sessions table and its state machine. Every transition is written with its audit entry in
/// one transaction. At most one session per holder is open: the database's unique index enforces it.
public struct VisitSessions: Sendable {
    let database: StationDatabase

    public init(database: StationDatabase) { self.database = database }

    /// Opens a session for a verified token inside the caller's transaction; an open session of the
    /// same holder is closed as `superseded` first. Returns the new session and the superseded one.
    static func open(
        _ db: Database, claims: TokenClaims, institution: String, source: String, now: Int64, length: Int64
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
            state: needsIDCheck ? .awaitingIDCheck : .active, closedAt: nil, closeReason: nil, idCheck: nil)
        try save(db, session)
        var detail = ["holder": session.maskedHolder, "state": session.state.rawValue, "source": source]
        if let delegate = session.delegateID { detail["delegate"] = TaiwanID.masked(delegate) }
        try AuditLog.append(db, at: now, kind: .sessionOpened, subject: session.id, detail: detail)
        return (session, superseded)
    }

    public func session(id: String) throws -> VisitSession? {
        try database.writer.read { db in try Self.fetch(db, id: id) }
    }

    /// Sessions newest first, optionally of one state and one holder ID number.
    public func list(
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
            return try Row.fetchAll(
                db, sql: "SELECT * FROM visit_session \(filter) ORDER BY opened_at DESC, rowid DESC LIMIT ?",
                arguments: arguments
            ).map(Self.session(from:))
        }
    }

    /// Records an operator's ID-document check on a session awaiting one; it becomes active.
    /// A national ID card or NHI card carries the holder's ID number: its last four must match.
    public func recordIDCheck(
        sessionID: String, document: IDDocument, lastFour: String, operatorName: String, now: Int64
    ) throws -> VisitSession {
        let lastFour = lastFour.uppercased()
        guard lastFour.count == 4, lastFour.allSatisfy({ $0.isASCII && ($0.isNumber || $0.isLetter) }) else {
            throw SessionError(.idCheckInvalid, "lastFour must be the document number's last 4 letters or digits")
        }
        let trimmedOperator = operatorName.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...64).contains(trimmedOperator.count), !trimmedOperator.contains(where: \.isNewline) else {
            throw SessionError(.idCheckInvalid, "operatorName must be 1 to 64 characters")
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
    public func close(sessionID: String, now: Int64) throws -> VisitSession {
        try database.writer.write { db in
            guard var session = try Self.fetch(db, id: sessionID) else {
                throw SessionError(.sessionNotFound, "no session \(sessionID)")
            }
            guard session.state.isOpen else {
                throw SessionError(.sessionNotOpen, "the session is \(session.state.rawValue)")
            }
            session.state = .closed
            session.closedAt = now
            session.closeReason = .operator
            try Self.save(db, session)
            try AuditLog.append(
                db, at: now, kind: .sessionClosed, subject: session.id,
                detail: ["reason": "operator", "holder": session.maskedHolder])
            return session
        }
    }

    /// Expires every open session whose hour is up at `now`, and returns them.
    public func expireDue(now: Int64) throws -> [VisitSession] {
        try database.writer.write { db in
            let due = try Row.fetchAll(
                db,
                sql: "SELECT * FROM visit_session WHERE state IN ('awaiting_id_check', 'active') AND expires_at <= ?",
                arguments: [now]
            ).map(Self.session(from:))
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
    public func openCount() throws -> Int {
        try database.writer.read { db in
            try Int.fetchOne(
                db, sql: "SELECT count(*) FROM visit_session WHERE state IN ('awaiting_id_check', 'active')") ?? 0
        }
    }

    /// When the next open session expires (for the daemon's timer), if any is open.
    public func nextExpiry() throws -> Int64? {
        try database.writer.read { db in
            try Int64.fetchOne(
                db, sql: "SELECT min(expires_at) FROM visit_session WHERE state IN ('awaiting_id_check', 'active')")
        }
    }

    /// A session with the cloud's grant for its records (nil when the cloud has not opened it).
    public func cloudGrant(sessionID: String) throws -> (VisitSession, String?)? {
        try database.writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM visit_session WHERE id = ?", arguments: [sessionID]).map {
                (Self.session(from: $0), $0["cloud_grant"])
            }
        }
    }

    static func fetch(_ db: Database, id: String) throws -> VisitSession? {
        try Row.fetchOne(db, sql: "SELECT * FROM visit_session WHERE id = ?", arguments: [id]).map(session(from:))
    }

    static func fetchOpen(_ db: Database, holderID: String) throws -> VisitSession? {
        try Row.fetchOne(
            db, sql: "SELECT * FROM visit_session WHERE holder_id = ? AND state IN ('awaiting_id_check', 'active')",
            arguments: [holderID]
        ).map(session(from:))
    }

    static func save(_ db: Database, _ s: VisitSession) throws {
        try db.execute(
            sql: """
                INSERT INTO visit_session (id, holder_id, holder_name, holder_birth_date, photo, delegate_id,
                    institution, source, opened_at, expires_at, state, closed_at, close_reason,
                    id_check_document, id_check_last_four, id_check_operator, id_check_at, cloud_state,
                    cloud_practitioner, visit_sequence, cloud_deferred, cloud_refusal, cloud_token_code, card_number,
                    insurance_status, patient_sex, grant_expires_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET state = excluded.state, closed_at = excluded.closed_at,
                    close_reason = excluded.close_reason, id_check_document = excluded.id_check_document,
                    id_check_last_four = excluded.id_check_last_four, id_check_operator = excluded.id_check_operator,
                    id_check_at = excluded.id_check_at, cloud_state = excluded.cloud_state,
                    cloud_practitioner = excluded.cloud_practitioner, visit_sequence = excluded.visit_sequence,
                    cloud_deferred = excluded.cloud_deferred, cloud_refusal = excluded.cloud_refusal,
                    cloud_token_code = excluded.cloud_token_code, card_number = excluded.card_number,
                    insurance_status = excluded.insurance_status, patient_sex = excluded.patient_sex,
                    grant_expires_at = excluded.grant_expires_at
                """,
            arguments: [
                s.id, s.holderID, s.holderName, s.holderBirthDate, s.photo, s.delegateID, s.institution, s.source,
                s.openedAt, s.expiresAt, s.state.rawValue, s.closedAt, s.closeReason?.rawValue,
                s.idCheck?.document.rawValue,
                s.idCheck?.lastFour, s.idCheck?.operatorName, s.idCheck?.at, s.cloud?.state.rawValue,
                s.cloud?.practitioner, s.cloud?.visitSequence, s.cloud?.deferred, s.cloud?.refusal, s.cloud?.tokenCode,
                s.cloud?.cardNumber, s.cloud?.insuranceStatus, s.cloud?.sex, s.cloud?.grantExpiresAt,
            ])
    }

    static func session(from row: Row) -> VisitSession {
        var idCheck: VisitSession.IDCheck?
        if let document = (row["id_check_document"] as String?).flatMap(IDDocument.init(rawValue:)) {
            idCheck = .init(
                document: document, lastFour: row["id_check_last_four"], operatorName: row["id_check_operator"],
                at: row["id_check_at"])
        }
        let cloud = (row["cloud_state"] as String?).flatMap(CloudVisit.State.init(rawValue:)).map { state in
            CloudVisit(
                state: state, practitioner: row["cloud_practitioner"], visitSequence: row["visit_sequence"],
                deferred: row["cloud_deferred"], refusal: row["cloud_refusal"], tokenCode: row["cloud_token_code"],
                cardNumber: row["card_number"], insuranceStatus: row["insurance_status"], sex: row["patient_sex"],
                grantExpiresAt: row["grant_expires_at"])
        }
        return VisitSession(
            id: row["id"], holderID: row["holder_id"], holderName: row["holder_name"],
            holderBirthDate: row["holder_birth_date"], photo: row["photo"], delegateID: row["delegate_id"],
            institution: row["institution"], source: row["source"], openedAt: row["opened_at"],
            expiresAt: row["expires_at"], state: VisitSession.State(rawValue: row["state"]) ?? .closed,
            closedAt: row["closed_at"], closeReason: (row["close_reason"] as String?).map(CloseReason.init(rawValue:)),
            idCheck: idCheck, cloud: cloud)
    }

}
