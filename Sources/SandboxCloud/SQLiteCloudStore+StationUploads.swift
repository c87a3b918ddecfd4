import AuditChain
import CloudProtocol
import Foundation
import GRDB
import VirtualCard

// What stations upload: consumed token ids (double use across institutions) and audit-log heads.
extension SQLiteCloudStore {
    package func recordConsumed(
        _ ids: [(tokenID: [UInt8], at: Int64)], institution: String, now: Int64
    ) async throws
        -> [ConsumedAnswer.DoubleUse]
    {
        try await pool.write { db in
            var doubleUse: [ConsumedAnswer.DoubleUse] = []
            var recorded = 0
            for (tokenID, at) in ids {
                try db.execute(
                    sql: """
                        INSERT INTO consumed_token (token_id, institution, consumed_at, how) VALUES (?, ?, ?, 'upload')
                        ON CONFLICT (token_id) DO NOTHING
                        """,
                    arguments: [Data(tokenID), institution, at])
                if db.changesCount == 1 {
                    recorded += 1
                    continue
                }
                let first = try Row.fetchOne(
                    db, sql: "SELECT institution, consumed_at FROM consumed_token WHERE token_id = ?",
                    arguments: [Data(tokenID)])
                // §7 answers ids consumed elsewhere: this institution's own (a repeated upload, an id
                // also forwarded as its visit opening) is not double use.
                if first?["institution"] == institution { continue }
                doubleUse.append(
                    .init(
                        tokenId: Hex.encode(tokenID), firstInstitution: first?["institution"] ?? "",
                        firstAt: first?["consumed_at"] ?? 0))
            }
            try AuditChain.append(
                db, at: now, kind: .consumedUploaded, subject: institution,
                detail: ["recorded": String(recorded), "doubleUse": String(doubleUse.count)])
            return doubleUse
        }
    }

    package func recordAuditHead(_ head: AuditHeadUpload, institution: String, now: Int64) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO station_audit_head (institution, station, sequence, hash, received_at)
                    VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                    """,
                arguments: [institution, head.station, head.sequence, head.hash.lowercased(), now])
        }
    }

    package func auditHeads(station: String, institution: String) async throws -> [AuditHeadList.Head] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT station, sequence, hash, received_at FROM station_audit_head
                    WHERE institution = ? AND station = ? ORDER BY sequence DESC LIMIT 100
                    """,
                arguments: [institution, station]
            ).map {
                AuditHeadList.Head(
                    station: $0["station"], sequence: $0["sequence"], hash: $0["hash"], receivedAt: $0["received_at"])
            }
        }
    }
}
