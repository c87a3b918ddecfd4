import Crypto
import Foundation
import GRDB

/// A hash-chained, append-only audit log in the tables `audit_log` and `audit_head` of a GRDB database:
/// the station's and the cloud's, one mechanism for both. Each row stores the SHA-256 of the previous
/// row's hash and its own content, so an edited row breaks its own hash and a deleted one breaks the
/// chain; the head (last sequence and hash) is kept apart, so cutting rows off the end shows too.
/// Triggers refuse updates and deletes; the chain catches whoever goes around them.
package enum AuditChain {
    package struct Entry: Sendable, Equatable, Codable {
        package var sequence: Int64
        package var at: Int64
        /// What happened, as a dotted kind (`scan.accepted`, `visit.opened`, …).
        package var kind: String
        /// What it concerns: a session id, a grant's short id; empty when nothing in particular.
        package var subject: String
        /// Masked details as a JSON object.
        package var detail: String
    }

    /// The tables and triggers, for a database that does not have them yet (the station's own
    /// migration created the same before this type existed, and migrations are never edited).
    package static let schema = """
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
        CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        """

    /// Appends an entry inside the caller's transaction, so the entry and the change it records
    /// commit together or not at all.
    @discardableResult
    package static func append(
        _ db: Database, at: Int64, kind: AuditKind, subject: String = "", detail: [String: String] = [:]
    ) throws -> Entry {
        let head = try Row.fetchOne(db.cachedStatement(sql: "SELECT sequence, hash FROM audit_head WHERE id = 1"))
        let previousHash: Data = head?["hash"] ?? Data(count: 32)
        let sequence: Int64 = (head?["sequence"] ?? 0) + 1
        let entry = Entry(sequence: sequence, at: at, kind: kind.rawValue, subject: subject, detail: encode(detail))
        let hash = Self.hash(entry, previous: previousHash)
        try db.cachedStatement(
            sql: """
                INSERT INTO audit_log (sequence, at, kind, subject, detail, previous_hash, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(
            arguments: [sequence, at, kind.rawValue, subject, entry.detail, previousHash, hash])
        try db.cachedStatement(
            sql: """
                INSERT INTO audit_head (id, sequence, hash) VALUES (1, ?, ?)
                ON CONFLICT (id) DO UPDATE SET sequence = excluded.sequence, hash = excluded.hash
                """
        ).execute(
            arguments: [sequence, hash])
        return entry
    }

    /// Entries after `sequence`, oldest first, at most `limit`.
    package static func entries(_ db: Database, after sequence: Int64 = 0, limit: Int = 1000) throws -> [Entry] {
        try Row.fetchAll(
            db,
            sql:
                "SELECT sequence, at, kind, subject, detail FROM audit_log WHERE sequence > ? ORDER BY sequence LIMIT ?",
            arguments: [sequence, limit]
        ).map {
            Entry(
                sequence: $0["sequence"], at: $0["at"], kind: $0["kind"], subject: $0["subject"], detail: $0["detail"])
        }
    }

    /// How many rows the log holds.
    package static func count(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT count(*) FROM audit_log") ?? 0
    }

    /// The head: the last row's sequence and hash (a zero hash and 0 for an empty log).
    package static func head(_ db: Database) throws -> (sequence: Int64, hash: Data) {
        let row = try Row.fetchOne(db, sql: "SELECT sequence, hash FROM audit_head WHERE id = 1")
        return (row?["sequence"] ?? 0, row?["hash"] ?? Data(count: 32))
    }

    /// The outcome of checking the chain: how many rows were checked and the first broken one.
    package struct Verification: Sendable, Equatable {
        package var rows: Int
        package var firstBroken: Broken?
        package var isIntact: Bool { firstBroken == nil }

        package struct Broken: Sendable, Equatable, CustomStringConvertible {
            /// The sequence number of the first row that does not check out.
            package var sequence: Int64
            package var reason: String
            package var description: String { "row \(sequence): \(reason)" }
        }
    }

    /// Walks the whole chain from the first row and reports the first row that does not check out.
    package static func verify(_ db: Database) throws -> Verification {
        var previousHash = Data(count: 32)
        var expected: Int64 = 1
        var rows = 0
        let cursor = try Row.fetchCursor(
            db, sql: "SELECT sequence, at, kind, subject, detail, previous_hash, hash FROM audit_log ORDER BY sequence")
        while let row = try cursor.next() {
            let entry = Entry(
                sequence: row["sequence"], at: row["at"], kind: row["kind"], subject: row["subject"],
                detail: row["detail"])
            func broken(_ reason: String) -> Verification {
                Verification(rows: rows, firstBroken: .init(sequence: entry.sequence, reason: reason))
            }
            if entry.sequence != expected {
                return Verification(
                    rows: rows,
                    firstBroken: .init(
                        sequence: expected, reason: "missing (the next row present is \(entry.sequence))"))
            }
            guard (row["previous_hash"] as Data) == previousHash else {
                return broken("its link to the previous row does not match (a row before it was changed or removed)")
            }
            let hash: Data = row["hash"]
            guard hash == Self.hash(entry, previous: previousHash) else {
                return broken("its content does not match its hash (the row was edited)")
            }
            previousHash = hash
            expected += 1
            rows += 1
        }
        let head = try Row.fetchOne(db.cachedStatement(sql: "SELECT sequence, hash FROM audit_head WHERE id = 1"))
        let headSequence: Int64 = head?["sequence"] ?? 0
        if headSequence != expected - 1 || (head.map { ($0["hash"] as Data) != previousHash } ?? false) {
            return Verification(
                rows: rows,
                firstBroken: .init(
                    sequence: expected,
                    reason: "missing: the log ends at row \(expected - 1) but its head records row \(headSequence)"))
        }
        return Verification(rows: rows, firstBroken: nil)
    }

    /// SHA-256 over the previous hash and the entry's fields, each length-prefixed so that no two
    /// different entries share an encoding.
    package static func hash(_ entry: Entry, previous: Data) -> Data {
        var hasher = SHA256()
        hasher.update(data: previous)
        for field in ["\(entry.sequence)", "\(entry.at)", entry.kind, entry.subject, entry.detail] {
            let bytes = Array(field.utf8)
            var length = UInt32(bytes.count).bigEndian
            withUnsafeBytes(of: &length) { hasher.update(bufferPointer: $0) }
            hasher.update(data: bytes)
        }
        return Data(hasher.finalize())
    }

    /// A JSON object with sorted keys: the same detail always hashes the same.
    static func encode(_ detail: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(detail)) ?? Data("{}".utf8), as: UTF8.self)
    }
}
