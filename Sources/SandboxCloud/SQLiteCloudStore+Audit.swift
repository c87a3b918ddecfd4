import AuditChain
import GRDB

// The cloud's own audit chain: appending, verifying and reading it.
extension SQLiteCloudStore {
    package func audit(at: Int64, kind: AuditKind, subject: String, detail: [String: String]) async throws {
        _ = try await pool.write { db in try AuditChain.append(db, at: at, kind: kind, subject: subject, detail: detail)
        }
    }

    package func verifyAudit() async throws -> (rows: Int, intact: Bool, firstBroken: String?) {
        let result = try await pool.read { db in try AuditChain.verify(db) }
        return (result.rows, result.isIntact, result.firstBroken?.description)
    }

    /// Audit rows after `sequence`, oldest first (`vhc-cloud audit`, tests).
    package func auditEntries(after sequence: Int64 = 0, limit: Int = 1000) async throws -> [AuditChain.Entry] {
        try await pool.read { db in try AuditChain.entries(db, after: sequence, limit: limit) }
    }
}
