import AuditChain
import CloudProtocol
import Foundation
import GRDB
import VirtualCard

// Visit openings on SQLite: the read-only prechecks, then one group-committed write that decides
// one-time use, numbers the visit and records the grant with its audit row.
extension SQLiteCloudStore {
    package func precheck(
        _ requestID: [UInt8], payloadDigest: [UInt8], nonce: [UInt8], practitioner: String
    )
        async throws -> (prior: PriorRequest, nonceUsed: Bool)
    {
        try await pool.read { db in
            (try Self.priorRequest(db, requestID, payloadDigest), try Self.isNonceUsed(db, nonce, practitioner))
        }
    }

    static func priorRequest(_ db: Database, _ requestID: [UInt8], _ digest: [UInt8]) throws -> PriorRequest {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: "SELECT payload_digest, answer, refusal FROM visit_request WHERE request_id = ?"),
                arguments: [Data(requestID)])
        else { return .none }
        guard (row["payload_digest"] as Data) == Data(digest) else { return .otherPayload }
        if let refusal: String = row["refusal"] {
            return .refused(try JSONDecoder().decode(CloudProblem.self, from: Data(refusal.utf8)))
        }
        let answer: String = row["answer"]
        return .same(try JSONDecoder().decode(VisitGrant.self, from: Data(answer.utf8)))
    }

    static func isNonceUsed(_ db: Database, _ nonce: [UInt8], _ practitioner: String) throws -> Bool {
        try Bool.fetchOne(
            db.cachedStatement(sql: "SELECT 1 FROM practitioner_nonce WHERE practitioner = ? AND nonce = ?"),
            arguments: [practitioner, Data(nonce)]) ?? false
    }

    package func commitOpening(_ opening: OpeningCommit) async throws -> OpeningOutcome {
        try await openings.write { db in
            // The earlier read-only checks may have lost a race with a concurrent request: check again.
            switch try Self.priorRequest(db, opening.requestID, opening.payloadDigest) {
            case .same(let answer): return .repeated(answer)
            case .refused, .otherPayload: return .otherPayload
            case .none: break
            }
            if try Self.isNonceUsed(db, opening.nonce, opening.practitioner) { return .nonceReused }
            // One statement decides one-time use: exactly one of any number of concurrent openings wins.
            try db.cachedStatement(
                sql: """
                    INSERT INTO consumed_token (token_id, institution, consumed_at, how) VALUES (?, ?, ?, 'visit')
                    ON CONFLICT (token_id) DO NOTHING
                    """
            ).execute(
                arguments: [Data(opening.tokenID), opening.institution, opening.scannedAt])
            guard db.changesCount == 1 else { return .tokenReplayed }

            let day = CalendarDate(taipeiDateAt: opening.scannedAt).iso
            let sequence =
                try Int.fetchOne(
                    db.cachedStatement(
                        sql: """
                            INSERT INTO visit_sequence (institution, day, last) VALUES (?, ?, 1)
                            ON CONFLICT (institution, day) DO UPDATE SET last = last + 1
                            RETURNING last
                            """),
                    arguments: [opening.institution, day]) ?? 1
            let grant = GrantToken.make()
            let answer = opening.answer(sequence, grant)
            let answerJSON = String(decoding: try Self.encoder.encode(answer), as: UTF8.self)
            try db.cachedStatement(
                sql: "INSERT INTO visit_request (request_id, payload_digest, answer, received_at) VALUES (?, ?, ?, ?)"
            ).execute(
                arguments: [Data(opening.requestID), Data(opening.payloadDigest), answerJSON, opening.now])
            try db.cachedStatement(
                sql: "INSERT INTO practitioner_nonce (practitioner, nonce, used_at) VALUES (?, ?, ?)"
            ).execute(
                arguments: [opening.practitioner, Data(opening.nonce), opening.now])
            try db.cachedStatement(
                sql: """
                    INSERT INTO visit_grant
                        (grant, institution, practitioner, patient_id, setting, opened_at, expires_at, request_id)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(
                arguments: [
                    grant, opening.institution, opening.practitioner, opening.patientID, opening.setting.rawValue,
                    opening.scannedAt, opening.expiresAt, Data(opening.requestID),
                ])
            try AuditChain.append(
                db, at: opening.now, kind: .visitOpened, subject: GrantToken.shortID(grant),
                detail: [
                    "institution": opening.institution, "practitioner": TaiwanID.masked(opening.practitioner),
                    "patient": TaiwanID.masked(opening.patientID), "setting": opening.setting.rawValue,
                    "visitSequence": answer.visitSequence, "deferred": String(answer.deferred),
                    "tokenId": Hex.encode(opening.tokenID),
                ])
            return .opened(answer)
        }
    }

    package func recordRefusal(_ refusal: RefusalRecord) async throws {
        let problem = String(decoding: try Self.encoder.encode(refusal.problem), as: UTF8.self)
        try await openings.write { db in
            try db.cachedStatement(
                sql: """
                    INSERT INTO visit_request (request_id, payload_digest, answer, refusal, received_at)
                    VALUES (?, ?, '', ?, ?) ON CONFLICT (request_id) DO NOTHING
                    """
            ).execute(arguments: [Data(refusal.requestID), Data(refusal.payloadDigest), problem, refusal.now])
            try db.cachedStatement(
                sql: """
                    INSERT INTO practitioner_nonce (practitioner, nonce, used_at) VALUES (?, ?, ?)
                    ON CONFLICT DO NOTHING
                    """
            ).execute(arguments: [refusal.practitioner, Data(refusal.nonce), refusal.now])
        }
    }

    package func grant(_ grant: String) async throws -> StoredGrant? {
        try await pool.read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT grant, institution, practitioner, patient_id, setting, opened_at, expires_at
                    FROM visit_grant WHERE grant = ?
                    """,
                arguments: [grant]
            ).map {
                StoredGrant(
                    grant: $0["grant"], institution: $0["institution"], practitioner: $0["practitioner"],
                    patientID: $0["patient_id"], setting: CareSetting(rawValue: $0["setting"]) ?? .outpatient,
                    openedAt: $0["opened_at"], expiresAt: $0["expires_at"])
            }
        }
    }
}
