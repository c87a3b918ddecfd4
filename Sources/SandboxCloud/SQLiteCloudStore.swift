import AuditChain
import Foundation
import GRDB
import SQLiteGroupCommit
import SafeFiles

/// `CloudStore` on one SQLite file in the sandbox directory (GRDB, WAL, a pool for concurrent reads).
/// Writes are serialised by SQLite; every opening is one transaction, so a crash keeps all of it or
/// none of it, and a restart loses nothing that was answered.
package final class SQLiteCloudStore: CloudStore {
    let pool: DatabasePool
    /// Visit openings commit in groups (see `GroupCommit`).
    let openings: GroupCommit
    let checkpointer: Checkpointer

    package struct OpenError: Error, CustomStringConvertible {
        package let path: String
        package let underlying: any Error
        package var description: String { "cannot open the cloud database \(path): \(underlying)" }
    }

    /// Opens (creating with mode 0600) and migrates the database at `path`.
    package init(path: String) throws(OpenError) {
        do {
            try SafeFile.createPrivate(path)
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            configuration.prepareDatabase { db in
                // Every commit is on disk before it is answered (FULL syncs the WAL at each commit;
                // group commit makes that one sync for many openings), so not even a power cut can
                // give a consumed token back. Checkpoints run apart (`Checkpointer`).
                try db.execute(sql: "PRAGMA synchronous = FULL")
                try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
            }
            pool = try DatabasePool(path: path, configuration: configuration)
            openings = GroupCommit(pool: pool)
            try Self.migrator.migrate(pool)
            checkpointer = try Checkpointer(path: path, configuration: configuration)
        } catch {
            throw OpenError(path: path, underlying: error)
        }
        Checkpointer.start(for: self, checkpointer: checkpointer)
    }

    /// Migrations are immutable once released: add new ones, never edit these.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: consumed ids, requests, nonces, grants, sequences, lists, audit") { db in
            try db.execute(
                sql: """
                    CREATE TABLE consumed_token (
                        token_id BLOB PRIMARY KEY NOT NULL,
                        institution TEXT NOT NULL,
                        consumed_at INTEGER NOT NULL,
                        how TEXT NOT NULL CHECK (how IN ('visit', 'upload'))) WITHOUT ROWID;
                    CREATE TABLE visit_request (
                        request_id BLOB PRIMARY KEY NOT NULL,
                        payload_digest BLOB NOT NULL,
                        answer TEXT NOT NULL,
                        received_at INTEGER NOT NULL) WITHOUT ROWID;
                    CREATE TABLE practitioner_nonce (
                        practitioner TEXT NOT NULL,
                        nonce BLOB NOT NULL,
                        used_at INTEGER NOT NULL,
                        PRIMARY KEY (practitioner, nonce)) WITHOUT ROWID;
                    CREATE TABLE visit_sequence (
                        institution TEXT NOT NULL,
                        day TEXT NOT NULL,
                        last INTEGER NOT NULL,
                        PRIMARY KEY (institution, day)) WITHOUT ROWID;
                    CREATE TABLE visit_grant (
                        grant TEXT PRIMARY KEY NOT NULL,
                        institution TEXT NOT NULL,
                        practitioner TEXT NOT NULL,
                        patient_id TEXT NOT NULL,
                        setting TEXT NOT NULL,
                        opened_at INTEGER NOT NULL,
                        expires_at INTEGER NOT NULL,
                        request_id BLOB NOT NULL) WITHOUT ROWID;
                    CREATE TABLE signed_list (
                        kind TEXT PRIMARY KEY NOT NULL CHECK (kind IN ('trust', 'revocation')),
                        sequence INTEGER NOT NULL,
                        issued_at INTEGER NOT NULL,
                        expires_at INTEGER NOT NULL,
                        cose BLOB NOT NULL,
                        published_at INTEGER NOT NULL);
                    CREATE TABLE station_audit_head (
                        institution TEXT NOT NULL,
                        station TEXT NOT NULL,
                        sequence INTEGER NOT NULL,
                        hash TEXT NOT NULL,
                        received_at INTEGER NOT NULL,
                        PRIMARY KEY (institution, station, sequence)) WITHOUT ROWID;
                    """)
            try db.execute(sql: AuditChain.schema)
        }
        migrator.registerMigration("v2: records, app credentials, delegations, consents") { db in
            try db.execute(
                sql: """
                    CREATE TABLE medical_record (
                        id INTEGER PRIMARY KEY,
                        patient_id TEXT NOT NULL,
                        category TEXT NOT NULL,
                        date TEXT NOT NULL,
                        payload TEXT NOT NULL);
                    CREATE INDEX medical_record_by_patient ON medical_record (patient_id, category, date DESC, id DESC);
                    CREATE TABLE app_credential (
                        secret_hash BLOB PRIMARY KEY NOT NULL,
                        patient_id TEXT NOT NULL UNIQUE) WITHOUT ROWID;
                    CREATE TABLE delegation (
                        id BLOB PRIMARY KEY NOT NULL,
                        holder_id TEXT NOT NULL,
                        delegate_id TEXT NOT NULL,
                        valid_from TEXT NOT NULL,
                        valid_to TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        cancelled_at INTEGER) WITHOUT ROWID;
                    CREATE INDEX delegation_by_holder ON delegation (holder_id);
                    CREATE INDEX delegation_by_delegate ON delegation (delegate_id);
                    CREATE TABLE consent (
                        id TEXT PRIMARY KEY NOT NULL,
                        institution TEXT NOT NULL,
                        patient_id TEXT NOT NULL,
                        setting TEXT NOT NULL,
                        requested_at INTEGER NOT NULL,
                        expires_at INTEGER NOT NULL,
                        state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'collected', 'refused')),
                        answered_at INTEGER,
                        token_id BLOB) WITHOUT ROWID;
                    CREATE INDEX consent_by_patient ON consent (patient_id, state);
                    """)
        }
        migrator.registerMigration("v3: refusals kept as a request id's answer") { db in
            try db.execute(sql: "ALTER TABLE visit_request ADD COLUMN refusal TEXT")
        }
        migrator.registerMigration("v4: consent requests an institution withdrew") { db in
            // SQLite cannot widen a CHECK in place: the table is made again with `cancelled` allowed.
            try db.execute(
                sql: """
                    CREATE TABLE consent_v4 (
                        id TEXT PRIMARY KEY NOT NULL,
                        institution TEXT NOT NULL,
                        patient_id TEXT NOT NULL,
                        setting TEXT NOT NULL,
                        requested_at INTEGER NOT NULL,
                        expires_at INTEGER NOT NULL,
                        state TEXT NOT NULL
                            CHECK (state IN ('pending', 'approved', 'collected', 'refused', 'cancelled')),
                        answered_at INTEGER,
                        token_id BLOB) WITHOUT ROWID;
                    INSERT INTO consent_v4 SELECT id, institution, patient_id, setting, requested_at, expires_at, state,
                        answered_at, token_id FROM consent;
                    DROP TABLE consent;
                    ALTER TABLE consent_v4 RENAME TO consent;
                    CREATE INDEX consent_by_patient ON consent (patient_id, state);
                    """)
        }
        return migrator
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}
