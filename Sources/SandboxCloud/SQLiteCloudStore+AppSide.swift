import AuditChain
import CloudProtocol
import Foundation
import GRDB
import VirtualCard

// The app side and remote consent on SQLite: each change and its audit row in one transaction.
extension SQLiteCloudStore {
    package func registerAppCredential(secretHash: [UInt8], patientID: String) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO app_credential (secret_hash, patient_id) VALUES (?, ?)",
                arguments: [Data(secretHash), patientID])
        }
    }

    package func patient(appSecretHash: [UInt8]) async throws -> String? {
        try await pool.read { db in
            try String.fetchOne(
                db, sql: "SELECT patient_id FROM app_credential WHERE secret_hash = ?", arguments: [Data(appSecretHash)]
            )
        }
    }

    // MARK: - Delegations

    package func createDelegation(
        _ delegation: StoredDelegation, maximumActive: Int, today: CalendarDate
    ) async throws
        -> Bool
    {
        try await pool.write { db in
            // Open ones count against the limit; so do cancelled ones until they end, since each stays
            // on the revocation list until then and that list has a size limit (token-profile §2).
            let counts = try Row.fetchOne(
                db,
                sql: """
                    SELECT count(*) FILTER (WHERE cancelled_at IS NULL) AS open, count(*) AS listed
                    FROM delegation WHERE holder_id = ? AND valid_to >= ?
                    """,
                arguments: [delegation.holderID, today.iso])
            let open: Int = counts?["open"] ?? 0
            let listed: Int = counts?["listed"] ?? 0
            guard open < maximumActive, listed < 2 * maximumActive else { return false }
            try db.execute(
                sql: """
                    INSERT INTO delegation (id, holder_id, delegate_id, valid_from, valid_to, created_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    Data(delegation.id), delegation.holderID, delegation.delegateID, delegation.validFrom.iso,
                    delegation.validTo.iso, delegation.createdAt,
                ])
            try AuditChain.append(
                db, at: delegation.createdAt, kind: .delegationCreated, subject: Hex.encode(delegation.id),
                detail: [
                    "holder": TaiwanID.masked(delegation.holderID), "delegate": TaiwanID.masked(delegation.delegateID),
                    "validFrom": delegation.validFrom.iso, "validTo": delegation.validTo.iso,
                ])
            return true
        }
    }

    package func delegations(holder: String) async throws -> [StoredDelegation] {
        try await pool.read { db in try Self.delegations(db, where: "holder_id = ?", holder) }
    }

    package func delegations(delegate: String) async throws -> [StoredDelegation] {
        try await pool.read { db in try Self.delegations(db, where: "delegate_id = ?", delegate) }
    }

    package func cancelDelegation(
        _ id: [UInt8], holder: String, now: Int64
    ) async throws
        -> (delegation: StoredDelegation, cancelledNow: Bool)?
    {
        try await pool.write { db in
            guard var delegation = try Self.delegations(db, where: "id = ?", Data(id)).first,
                delegation.holderID == holder
            else { return nil }
            guard delegation.cancelledAt == nil else { return (delegation, false) }
            try db.execute(sql: "UPDATE delegation SET cancelled_at = ? WHERE id = ?", arguments: [now, Data(id)])
            delegation.cancelledAt = now
            try AuditChain.append(
                db, at: now, kind: .delegationCancelled, subject: Hex.encode(id),
                detail: ["holder": TaiwanID.masked(holder), "delegate": TaiwanID.masked(delegation.delegateID)])
            return (delegation, true)
        }
    }

    package func revokedDelegations(today: CalendarDate) async throws -> [RevocationList.Entry] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, cancelled_at, valid_to FROM delegation
                    WHERE cancelled_at IS NOT NULL AND valid_to >= ? ORDER BY cancelled_at, id
                    """,
                arguments: [today.iso]
            ).compactMap { row in
                CalendarDate(iso: row["valid_to"]).map {
                    RevocationList.Entry(
                        delegationID: Array(row["id"] as Data), revokedAt: row["cancelled_at"], keepUntil: $0)
                }
            }
        }
    }

    static func delegations(
        _ db: Database, where condition: String, _ value: some DatabaseValueConvertible
    ) throws
        -> [StoredDelegation]
    {
        try Row.fetchAll(
            db,
            sql: """
                SELECT id, holder_id, delegate_id, valid_from, valid_to, created_at, cancelled_at FROM delegation
                WHERE \(condition) ORDER BY created_at DESC, id LIMIT 200
                """,
            arguments: [value]
        ).compactMap { row in
            guard let from = CalendarDate(iso: row["valid_from"]), let to = CalendarDate(iso: row["valid_to"]) else {
                return nil
            }
            return StoredDelegation(
                id: Array(row["id"] as Data), holderID: row["holder_id"], delegateID: row["delegate_id"],
                validFrom: from, validTo: to, createdAt: row["created_at"], cancelledAt: row["cancelled_at"])
        }
    }

    // MARK: - Remote consent

    package func createConsent(_ consent: StoredConsent) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO consent (id, institution, patient_id, setting, requested_at, expires_at, state)
                    VALUES (?, ?, ?, ?, ?, ?, 'pending')
                    """,
                arguments: [
                    consent.id, consent.institution, consent.patientID, consent.setting.rawValue, consent.requestedAt,
                    consent.expiresAt,
                ])
            try AuditChain.append(
                db, at: consent.requestedAt, kind: .consentRequested, subject: consent.id,
                detail: [
                    "institution": consent.institution, "patient": TaiwanID.masked(consent.patientID),
                    "setting": consent.setting.rawValue,
                ])
        }
    }

    package func consent(_ id: String) async throws -> StoredConsent? {
        try await pool.read { db in try Self.consents(db, where: "id = ?", [id]).first }
    }

    package func pendingConsents(patientID: String, now: Int64) async throws -> [StoredConsent] {
        try await pool.read { db in
            try Self.consents(
                db, where: "patient_id = ? AND state = 'pending' AND expires_at >= ? ORDER BY requested_at",
                [patientID, now])
        }
    }

    package func answerConsent(
        _ id: String, patientID: String, approve: Bool, now: Int64
    ) async throws
        -> ConsentAnswerOutcome
    {
        try await pool.write { db in
            guard var consent = try Self.consents(db, where: "id = ?", [id]).first, consent.patientID == patientID
            else { return .unknown }
            if consent.state == .cancelled { return .cancelled }
            guard consent.state == .pending else { return .alreadyAnswered }
            guard now <= consent.expiresAt else { return .expired }
            consent.state = approve ? .approved : .refused
            consent.answeredAt = now
            try db.execute(
                sql: "UPDATE consent SET state = ?, answered_at = ? WHERE id = ?",
                arguments: [consent.state.rawValue, now, id])
            try AuditChain.append(
                db, at: now, kind: .consentAnswered, subject: id,
                detail: [
                    "institution": consent.institution, "patient": TaiwanID.masked(patientID),
                    "answer": consent.state.rawValue,
                ])
            return .answered(consent)
        }
    }

    package func collectConsent(_ id: String, tokenID: [UInt8], now: Int64) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE consent SET state = 'collected', token_id = ? WHERE id = ? AND state = 'approved'",
                arguments: [Data(tokenID), id])
            guard db.changesCount == 1 else { return false }
            try AuditChain.append(
                db, at: now, kind: .consentCollected, subject: id, detail: ["tokenId": Hex.encode(tokenID)])
            return true
        }
    }

    package func cancelConsent(_ id: String, institution: String, now: Int64) async throws -> ConsentCancelOutcome {
        try await pool.write { db in
            guard var consent = try Self.consents(db, where: "id = ?", [id]).first, consent.institution == institution
            else { return .unknown }
            switch consent.reported(at: now) {
            case .cancelled: return .cancelled(consent)
            case .expired: return .expired
            case .approved, .collected, .refused: return .answered
            case .pending: break
            }
            consent.state = .cancelled
            consent.answeredAt = now
            try db.execute(
                sql: "UPDATE consent SET state = 'cancelled', answered_at = ? WHERE id = ?", arguments: [now, id])
            try AuditChain.append(
                db, at: now, kind: .consentCancelled, subject: id,
                detail: ["institution": institution, "patient": TaiwanID.masked(consent.patientID)])
            return .cancelled(consent)
        }
    }

    static func consents(
        _ db: Database, where condition: String, _ arguments: StatementArguments
    ) throws
        -> [StoredConsent]
    {
        try Row.fetchAll(
            db,
            sql: """
                SELECT id, institution, patient_id, setting, requested_at, expires_at, state, answered_at, token_id
                FROM consent WHERE \(condition)
                """,
            arguments: arguments
        ).compactMap { row in
            guard let setting = CareSetting(rawValue: row["setting"]),
                let state = StoredConsent.State(rawValue: row["state"])
            else { return nil }
            return StoredConsent(
                id: row["id"], institution: row["institution"], patientID: row["patient_id"], setting: setting,
                requestedAt: row["requested_at"], expiresAt: row["expires_at"], state: state,
                answeredAt: row["answered_at"], tokenID: (row["token_id"] as Data?).map { Array($0) })
        }
    }
}
