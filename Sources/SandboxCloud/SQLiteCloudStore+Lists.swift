import AuditChain
import Foundation
import GRDB
import VirtualCard

// The signed trust and revocation lists as published, one current list of each kind.
extension SQLiteCloudStore {
    package func currentList(_ kind: ListKind) async throws -> PublishedList? {
        try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT sequence, issued_at, expires_at, cose FROM signed_list WHERE kind = ?",
                arguments: [kind.rawValue]
            ).map {
                PublishedList(
                    kind: kind, sequence: $0["sequence"], issuedAt: $0["issued_at"], expiresAt: $0["expires_at"],
                    cose: Array($0["cose"] as Data))
            }
        }
    }

    package func publish(_ list: PublishedList, now: Int64) async throws -> Bool {
        try await pool.write { db in
            // Sequence numbers only rise, whatever the caller does.
            try db.execute(
                sql: """
                    INSERT INTO signed_list (kind, sequence, issued_at, expires_at, cose, published_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (kind) DO UPDATE SET sequence = excluded.sequence, issued_at = excluded.issued_at,
                        expires_at = excluded.expires_at, cose = excluded.cose, published_at = excluded.published_at
                    WHERE excluded.sequence > signed_list.sequence
                    """,
                arguments: [list.kind.rawValue, list.sequence, list.issuedAt, list.expiresAt, Data(list.cose), now])
            guard db.changesCount == 1 else { return false }
            try AuditChain.append(
                db, at: now, kind: .listPublished, subject: list.kind.rawValue,
                detail: ["sequence": String(list.sequence), "expiresAt": UTCTimestamp.iso8601(list.expiresAt)])
            return true
        }
    }
}
