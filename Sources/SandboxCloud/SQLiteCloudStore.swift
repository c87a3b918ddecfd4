import AuditChain
import CloudProtocol
import Crypto
import Foundation
import GRDB
import VirtualCard

/// `CloudStore` on one SQLite file in the sandbox directory (GRDB, WAL, a pool for concurrent reads).
/// Writes are serialised by SQLite; every opening is one transaction, so a crash keeps all of it or
/// none of it, and a restart loses nothing that was answered.
public final class SQLiteCloudStore: CloudStore {
    let pool: DatabasePool
    /// Visit openings commit in groups (see `GroupCommit`).
    let openings: GroupCommit
    let checkpointer: Checkpointer

    public struct OpenError: Error, CustomStringConvertible {
        public let path: String
        public let underlying: any Error
        public var description: String { "cannot open the cloud database \(path): \(underlying)" }
    }

    /// Opens (creating with mode 0600) and migrates the database at `path`.
    public init(path: String) throws(OpenError) {
        do {
            let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if descriptor >= 0 {
                close(descriptor)
            } else if errno != EEXIST {
                throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
            }
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
        return migrator
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    public func precheck(
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

    public func commitOpening(_ opening: OpeningCommit) async throws -> OpeningOutcome {
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

    public func recordRefusal(_ refusal: RefusalRecord) async throws {
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

    public func grant(_ grant: String) async throws -> StoredGrant? {
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

    public func recordConsumed(
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

    public func recordAuditHead(_ head: AuditHeadUpload, institution: String, now: Int64) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO station_audit_head (institution, station, sequence, hash, received_at)
                    VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                    """,
                arguments: [institution, head.station, head.sequence, head.hash.lowercased(), now])
        }
    }

    public func auditHeads(station: String, institution: String) async throws -> [AuditHeadList.Head] {
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

    public func currentList(_ kind: ListKind) async throws -> PublishedList? {
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

    public func publish(_ list: PublishedList, now: Int64) async throws -> Bool {
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

    public func audit(at: Int64, kind: AuditKind, subject: String, detail: [String: String]) async throws {
        _ = try await pool.write { db in try AuditChain.append(db, at: at, kind: kind, subject: subject, detail: detail)
        }
    }

    public func verifyAudit() async throws -> (rows: Int, intact: Bool, firstBroken: String?) {
        let result = try await pool.read { db in try AuditChain.verify(db) }
        return (result.rows, result.isIntact, result.firstBroken?.description)
    }
}

// MARK: - Records

extension SQLiteCloudStore {
    public func storeRecords(_ records: [StoredRecord], patientID: String) async throws {
        try await pool.write { db in
            for record in records {
                try db.execute(
                    sql: "INSERT INTO medical_record (patient_id, category, date, payload) VALUES (?, ?, ?, ?)",
                    arguments: [patientID, record.category.rawValue, record.date, record.json])
            }
        }
    }

    /// Replaces a patient's records of one category: for arranging a known history (tests,
    /// demonstrations); the served cloud only ever adds records.
    public func replaceRecords(_ records: [StoredRecord], category: RecordCategory, patientID: String) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "DELETE FROM medical_record WHERE patient_id = ? AND category = ?",
                arguments: [patientID, category.rawValue])
            for record in records where record.category == category {
                try db.execute(
                    sql: "INSERT INTO medical_record (patient_id, category, date, payload) VALUES (?, ?, ?, ?)",
                    arguments: [patientID, record.category.rawValue, record.date, record.json])
            }
        }
    }

    /// Audit rows after `sequence`, oldest first (`vhc-cloud audit`, tests).
    public func auditEntries(after sequence: Int64 = 0, limit: Int = 1000) async throws -> [AuditChain.Entry] {
        try await pool.read { db in try AuditChain.entries(db, after: sequence, limit: limit) }
    }

    public func records(
        patientID: String, category: RecordCategory, offset: Int, limit: Int
    ) async throws
        -> (total: Int, payloads: [String])
    {
        try await pool.read { db in
            let total =
                try Int.fetchOne(
                    db, sql: "SELECT count(*) FROM medical_record WHERE patient_id = ? AND category = ?",
                    arguments: [patientID, category.rawValue]) ?? 0
            let payloads = try String.fetchAll(
                db,
                sql: """
                    SELECT payload FROM medical_record WHERE patient_id = ? AND category = ?
                    ORDER BY date DESC, id DESC LIMIT ? OFFSET ?
                    """,
                arguments: [patientID, category.rawValue, limit, offset])
            return (total, payloads)
        }
    }
}

/// Grants: 32 random bytes as 64 hex digits (256 bits), and a short id for audit rows that does
/// not reveal the grant itself.
enum GrantToken {
    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        return Hex.encode((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    static func shortID(_ grant: String) -> String {
        String(Hex.encode(SHA256.hash(data: Array(grant.utf8))).prefix(16))
    }
}
