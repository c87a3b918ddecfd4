import Foundation
import GRDB
import SQLiteGroupCommit
import SafeFiles
import VirtualCard

/// The station's SQLite database (GRDB, WAL): the replay store, the lists and their held sequence
/// numbers, the clock's high-water mark, visit sessions and the audit log. Raw tokens are never
/// stored: only the 16-byte token id (`cti`) a replay check needs.
package final class StationDatabase: Sendable {
    /// WAL with separate reader connections: reads (the status, session lists) never wait behind a
    /// write, ours or another process's.
    let writer: DatabasePool
    /// The API's scans commit in groups: under load many share one transaction and one fsync.
    let groupCommit: GroupCommit
    /// The disk under the database: failed writes recorded, free space measured.
    package let storage: StorageWatch

    package struct OpenError: Error, CustomStringConvertible {
        package let path: String
        package let underlying: any Error
        package var description: String { "cannot open the station database \(path): \(underlying)" }
    }

    /// Opens (creating with mode 0600) and migrates the database at `path`; `storage.min_free_mib` is
    /// `minimumFreeMiB`.
    package init(path: String, minimumFreeMiB: Int64 = 100) throws(OpenError) {
        storage = StorageWatch(databasePath: path, minimumFreeMiB: minimumFreeMiB)
        do {
            // Readable by the daemon alone.
            try SafeFile.createPrivate(path)
            var configuration = Configuration()
            // Another process holding the write lock makes a write wait this long, then fail as busy
            // (the API answers 503 with Retry-After); well under the watchdog's 10 s.
            configuration.busyMode = .timeout(Self.busyTimeout)
            // Two readers are plenty for a station. Each connection's page cache is capped at 512 KiB
            // (SQLite's default is 2 MiB), so three connections stay within the daemon's memory target.
            configuration.maximumReaderCount = 2
            // secure_delete: a row deleted (an outbox item once the cloud answered, with its token text)
            // is overwritten in the file, not left in a free page.
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA cache_size = -512; PRAGMA secure_delete = ON")
            }
            writer = try DatabasePool(path: path, configuration: configuration)
            groupCommit = GroupCommit(pool: writer)
            try Self.migrator.migrate(writer)
        } catch {
            throw OpenError(path: path, underlying: error)
        }
    }

    package static let busyTimeout: TimeInterval = 3

    /// One small committed write, to learn whether the disk takes writes again after a failure
    /// (`StorageWatch.check`): the event-id row rewritten with its own value.
    package func probeWrite() throws {
        try writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO event_ids (id, reserved_until) VALUES (1, 0)
                    ON CONFLICT (id) DO UPDATE SET reserved_until = reserved_until
                    """)
        }
    }

    /// Whether `error` is the database's lock held by another process past the busy timeout (or a
    /// table locked): a passing condition the client should retry, not a failure. Callers outside this
    /// module ask here rather than read SQLite's codes themselves.
    package static func isBusy(_ error: any Error) -> Bool {
        guard let database = error as? DatabaseError else { return false }
        return database.resultCode == .SQLITE_BUSY || database.resultCode == .SQLITE_LOCKED
    }

    /// Reserves the next `count` event ids: ids keep rising across restarts (and crashes) at the
    /// cost of one write per block. Returns the block.
    package func reserveEventIDs(_ count: Int64) throws -> ClosedRange<Int64> {
        try writer.write { db in
            let last = try Int64.fetchOne(db, sql: "SELECT reserved_until FROM event_ids WHERE id = 1") ?? 0
            try db.execute(
                sql: """
                    INSERT INTO event_ids (id, reserved_until) VALUES (1, ?)
                    ON CONFLICT (id) DO UPDATE SET reserved_until = excluded.reserved_until
                    """,
                arguments: [last + count])
            return (last + 1)...(last + count)
        }
    }

    /// Migrations are immutable once released: add new ones, never edit these.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: consumed tokens and held list sequences") { db in
            try db.create(table: "consumed_token", options: [.withoutRowID]) { t in
                t.primaryKey("token_id", .blob)
                t.column("keep_until", .integer).notNull().indexed()
            }
            try db.create(table: "held_list") { t in
                t.primaryKey("kind", .text)
                t.column("sequence", .integer).notNull()
            }
        }
        migrator.registerMigration("v2: installed lists, clock, visit sessions, audit log") { db in
            try db.execute(
                sql: """
                    CREATE TABLE installed_list (
                        kind TEXT PRIMARY KEY NOT NULL CHECK (kind IN ('trust', 'revocation')),
                        sequence INTEGER NOT NULL,
                        issued_at INTEGER NOT NULL,
                        expires_at INTEGER NOT NULL,
                        installed_at INTEGER NOT NULL,
                        cose BLOB NOT NULL);
                    CREATE TABLE clock_state (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        high_water INTEGER NOT NULL);
                    CREATE TABLE visit_session (
                        id TEXT PRIMARY KEY NOT NULL,
                        holder_id TEXT NOT NULL,
                        holder_name TEXT NOT NULL,
                        holder_birth_date TEXT NOT NULL,
                        photo TEXT NOT NULL CHECK (photo IN ('verified', 'none')),
                        delegate_id TEXT,
                        institution TEXT NOT NULL,
                        source TEXT NOT NULL,
                        opened_at INTEGER NOT NULL,
                        expires_at INTEGER NOT NULL,
                        state TEXT NOT NULL CHECK (state IN ('awaiting_id_check', 'active', 'closed', 'expired')),
                        closed_at INTEGER,
                        close_reason TEXT,
                        id_check_document TEXT,
                        id_check_last_four TEXT,
                        id_check_operator TEXT,
                        id_check_at INTEGER);
                    -- At most one open session per holder, whatever the code does.
                    CREATE UNIQUE INDEX visit_session_one_open_per_holder ON visit_session (holder_id)
                        WHERE state IN ('awaiting_id_check', 'active');
                    CREATE INDEX visit_session_open_by_expiry ON visit_session (expires_at)
                        WHERE state IN ('awaiting_id_check', 'active');
                    CREATE TABLE audit_log (
                        sequence INTEGER PRIMARY KEY NOT NULL,
                        at INTEGER NOT NULL,
                        kind TEXT NOT NULL,
                        subject TEXT NOT NULL,
                        detail TEXT NOT NULL,
                        previous_hash BLOB NOT NULL,
                        hash BLOB NOT NULL);
                    CREATE TABLE audit_head (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        sequence INTEGER NOT NULL,
                        hash BLOB NOT NULL);
                    -- Append-only: the chain detects whoever edits the file directly.
                    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
                        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
                        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                    """)
        }
        migrator.registerMigration("v3: event id blocks") { db in
            try db.execute(
                sql: """
                    CREATE TABLE event_ids (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        reserved_until INTEGER NOT NULL)
                    """)
        }
        migrator.registerMigration("v4: forwarding to the cloud") { db in
            try db.execute(
                sql: """
                    ALTER TABLE visit_session ADD COLUMN cloud_state TEXT
                        CHECK (cloud_state IN ('awaiting_practitioner', 'pending_cloud', 'forwarded', 'refused'));
                    ALTER TABLE visit_session ADD COLUMN cloud_practitioner TEXT;
                    ALTER TABLE visit_session ADD COLUMN visit_sequence TEXT;
                    ALTER TABLE visit_session ADD COLUMN cloud_deferred INTEGER;
                    ALTER TABLE visit_session ADD COLUMN cloud_refusal TEXT;
                    ALTER TABLE visit_session ADD COLUMN cloud_token_code TEXT;
                    ALTER TABLE visit_session ADD COLUMN card_number TEXT;
                    ALTER TABLE visit_session ADD COLUMN insurance_status TEXT;
                    ALTER TABLE visit_session ADD COLUMN patient_sex TEXT;
                    ALTER TABLE visit_session ADD COLUMN grant_expires_at INTEGER;
                    -- The grant for records: bound to this institution's certificate at the cloud.
                    ALTER TABLE visit_session ADD COLUMN cloud_grant TEXT;
                    -- A scan no practitioner has signed yet. The token rests here until one logs in.
                    CREATE TABLE awaiting_practitioner (
                        session_id TEXT PRIMARY KEY NOT NULL,
                        token TEXT NOT NULL,
                        token_id BLOB NOT NULL,
                        scanned_at INTEGER NOT NULL,
                        setting TEXT NOT NULL);
                    -- Signed openings the cloud has not answered; each row goes with the answer.
                    CREATE TABLE outbox (
                        request_id BLOB PRIMARY KEY NOT NULL,
                        session_id TEXT NOT NULL,
                        token_id BLOB NOT NULL,
                        body BLOB NOT NULL,
                        scanned_at INTEGER NOT NULL,
                        signed_at INTEGER NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at INTEGER NOT NULL);
                    CREATE INDEX outbox_due ON outbox (next_attempt_at, scanned_at);
                    -- Token ids used here whose visit the cloud refused: told to the cloud (POST /v1/consumed)
                    -- so the token cannot be used elsewhere, and so a use elsewhere comes to light.
                    CREATE TABLE consumed_upload (
                        token_id BLOB PRIMARY KEY NOT NULL,
                        consumed_at INTEGER NOT NULL);
                    """)
        }
        migrator.registerMigration("v5: audit rows by time (the day's scan counts)") { db in
            try db.execute(sql: "CREATE INDEX audit_log_by_time ON audit_log (at, kind)")
        }
        migrator.registerMigration("v6: front-desk page sign-ins") { db in
            // Digests only: a row cannot be turned back into the cookie or the key it checks.
            try db.execute(
                sql: """
                    CREATE TABLE web_session (
                        cookie_digest BLOB PRIMARY KEY NOT NULL,
                        key_digest BLOB NOT NULL,
                        serial INTEGER NOT NULL,
                        expires_at INTEGER NOT NULL);
                    """)
        }
        migrator.registerMigration("v7: openings given up as undeliverable") { db in
            // The cloud state gains `undeliverable`: SQLite cannot change a CHECK in place, so the table
            // is rebuilt from its own stored definition (v2's columns with v4's, in their order) with the
            // one CHECK widened, then its rows and indexes. The definition is read, not written again
            // here, so the two cannot drift apart.
            let stored = try String.fetchOne(
                db, sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'visit_session'") ?? ""
            let states = "'awaiting_practitioner', 'pending_cloud', 'forwarded', 'refused'"
            let rebuilt = stored.replacingOccurrences(of: "CREATE TABLE visit_session", with: "CREATE TABLE visit_session_v7")
                .replacingOccurrences(of: "(\(states))", with: "(\(states), 'undeliverable')")
            guard rebuilt.contains("'undeliverable'"), rebuilt.hasPrefix("CREATE TABLE visit_session_v7") else {
                throw StationDatabaseMigrationError(description: "visit_session is not the table v4 left: \(stored)")
            }
            try db.execute(sql: rebuilt)
            try db.execute(
                sql: """
                    INSERT INTO visit_session_v7 SELECT * FROM visit_session;
                    DROP TABLE visit_session;
                    ALTER TABLE visit_session_v7 RENAME TO visit_session;
                    CREATE UNIQUE INDEX visit_session_one_open_per_holder ON visit_session (holder_id)
                        WHERE state IN ('awaiting_id_check', 'active');
                    CREATE INDEX visit_session_open_by_expiry ON visit_session (expires_at)
                        WHERE state IN ('awaiting_id_check', 'active');
                    -- Why the last try failed, for the status and for the row given up.
                    ALTER TABLE outbox ADD COLUMN last_error TEXT;
                    -- Openings (and scans that waited for a practitioner) given up after cloud.give_up_hours:
                    -- what the clinic needs to follow the visit up, never the token.
                    CREATE TABLE undeliverable_visit (
                        session_id TEXT PRIMARY KEY NOT NULL,
                        token_id BLOB NOT NULL,
                        scanned_at INTEGER NOT NULL,
                        signed_at INTEGER,
                        attempts INTEGER NOT NULL,
                        last_error TEXT,
                        given_up_at INTEGER NOT NULL);
                    """)
        }
        migrator.registerMigration("v8: visit settings and remote consents kept") { db in
            try db.execute(
                sql: """
                    -- The care setting a visit opened in (a remote visit's own, or the station's).
                    ALTER TABLE visit_session ADD COLUMN setting TEXT;
                    -- Consents the station asked the cloud for: a pending one is followed again after a
                    -- restart. The patient only masked, as everywhere the station shows a consent.
                    CREATE TABLE consent_request (
                        id TEXT PRIMARY KEY NOT NULL,
                        patient TEXT NOT NULL,
                        setting TEXT NOT NULL,
                        state TEXT NOT NULL
                            CHECK (state IN ('pending', 'approved', 'refused', 'expired', 'cancelled')),
                        requested_at INTEGER NOT NULL,
                        expires_at INTEGER NOT NULL,
                        ended_at INTEGER,
                        code TEXT,
                        session_id TEXT);
                    CREATE INDEX consent_request_pending ON consent_request (state) WHERE state = 'pending';
                    CREATE INDEX consent_request_by_time ON consent_request (requested_at);
                    """)
        }
        migrator.registerMigration("v9: the cloud's 就醫識別碼") { db in
            try db.execute(sql: "ALTER TABLE visit_session ADD COLUMN treatment_number TEXT")
        }
        return migrator
    }
}

/// The replay store of §6.4 on SQLite: a unique row per consumed token id.
package struct SQLiteConsumedTokenStore: ConsumedTokenStore {
    let database: StationDatabase

    package init(database: StationDatabase) { self.database = database }

    package func consume(tokenID: [UInt8], keepUntil: Int64, now: Int64) throws -> Bool {
        try database.writer.write { db in try Self.consume(db, tokenID: tokenID, keepUntil: keepUntil, now: now) }
    }

    /// The check-and-record in the caller's transaction: one statement, so exactly one of any number
    /// of concurrent consumers of a token id sees `true`.
    static func consume(_ db: Database, tokenID: [UInt8], keepUntil: Int64, now: Int64) throws -> Bool {
        try db.execute(sql: "DELETE FROM consumed_token WHERE keep_until < ?", arguments: [now])
        try db.execute(
            sql: "INSERT INTO consumed_token (token_id, keep_until) VALUES (?, ?) ON CONFLICT (token_id) DO NOTHING",
            arguments: [Data(tokenID), keepUntil])
        return db.changesCount == 1
    }

    /// How many token ids are held (for tests and status).
    package func count() throws -> Int {
        try database.writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM consumed_token") ?? 0 }
    }
}

/// The highest sequence numbers of the lists the station has used: a lower one is a rollback.
package struct HeldListStore: Sendable {
    let database: StationDatabase

    package init(database: StationDatabase) { self.database = database }

    package func held() throws -> HeldSequences {
        try database.writer.read { db in try Self.held(db) }
    }

    /// Raises the held sequences to those of the lists just used; never lowers them.
    package func record(trustList: Int64, revocationList: Int64?) throws {
        try database.writer.write { db in
            try Self.raise(db, kind: "trust", to: trustList)
            if let revocationList { try Self.raise(db, kind: "revocation", to: revocationList) }
        }
    }

    /// The held sequences, inside the caller's transaction.
    static func held(_ db: Database) throws -> HeldSequences {
        var held = HeldSequences()
        for row in try Row.fetchAll(db, sql: "SELECT kind, sequence FROM held_list") {
            switch row["kind"] as String {
            case "trust": held.trustList = row["sequence"]
            case "revocation": held.revocationList = row["sequence"]
            default: break
            }
        }
        return held
    }

    /// Raises one list kind's held sequence to `sequence`, inside the caller's transaction.
    static func raise(_ db: Database, kind: String, to sequence: Int64) throws {
        try db.execute(
            sql: """
                INSERT INTO held_list (kind, sequence) VALUES (?, ?)
                ON CONFLICT (kind) DO UPDATE SET sequence = max(sequence, excluded.sequence)
                """,
            arguments: [kind, sequence])
    }
}

/// A database whose schema is not the one a migration expects (edited by hand): it is not migrated.
struct StationDatabaseMigrationError: Error, CustomStringConvertible {
    let description: String
}
