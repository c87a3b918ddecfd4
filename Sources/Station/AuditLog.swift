import Crypto
import Foundation
import GRDB

/// The append-only audit log: every scan verdict, session transition, ID-document check, API access
/// to a session, and configuration or list change. Each row stores the SHA-256 of the previous row's
/// hash and its own content, so an edited row breaks its own hash and a deleted one breaks the chain;
/// the head (last sequence and hash) is kept apart, so cutting rows off the end shows too. SQLite
/// triggers refuse updates and deletes; the chain catches whoever goes around them (editing the file).
/// Details are masked before they get here: no raw token, no full ID number or name.
public struct AuditLog: Sendable {
    let database: StationDatabase

    public init(database: StationDatabase) { self.database = database }

    public struct Entry: Sendable, Equatable, Codable {
        public var sequence: Int64
        public var at: Int64
        /// `scan.accepted`, `scan.rejected`, `session.opened`, `session.id_checked`, `session.closed`,
        /// `session.expired`, `session.read`, `list.installed`, `config.loaded`, …
        public var kind: String
        /// What it concerns: a session id, a list kind; empty when nothing in particular.
        public var subject: String
        /// Masked details as a JSON object.
        public var detail: String
    }

    /// Appends an entry inside the caller's transaction, so the entry and the change it records
    /// commit together or not at all.
    @discardableResult
    static func append(
        _ db: Database, at: Int64, kind: String, subject: String = "", detail: [String: String] = [:]
    ) throws -> Entry {
        let head = try Row.fetchOne(db, sql: "SELECT sequence, hash FROM audit_head WHERE id = 1")
        let previousHash: Data = head?["hash"] ?? Data(count: 32)
        let sequence: Int64 = (head?["sequence"] ?? 0) + 1
        let entry = Entry(sequence: sequence, at: at, kind: kind, subject: subject, detail: encode(detail))
        let hash = Self.hash(entry, previous: previousHash)
        try db.execute(
            sql: """
                INSERT INTO audit_log (sequence, at, kind, subject, detail, previous_hash, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [sequence, at, kind, subject, entry.detail, previousHash, hash])
        try db.execute(
            sql: """
                INSERT INTO audit_head (id, sequence, hash) VALUES (1, ?, ?)
                ON CONFLICT (id) DO UPDATE SET sequence = excluded.sequence, hash = excluded.hash
                """,
            arguments: [sequence, hash])
        return entry
    }

    /// Appends one entry in a transaction of its own (API reads, configuration loads).
    @discardableResult
    public func append(at: Int64, kind: String, subject: String = "", detail: [String: String] = [:]) throws -> Entry {
        try database.writer.write { db in try Self.append(db, at: at, kind: kind, subject: subject, detail: detail) }
    }

    /// Entries after `sequence`, oldest first, at most `limit`.
    public func entries(after sequence: Int64 = 0, limit: Int = 1000) throws -> [Entry] {
        try database.writer.read { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT sequence, at, kind, subject, detail FROM audit_log WHERE sequence > ? ORDER BY sequence LIMIT ?",
                arguments: [sequence, limit]
            ).map {
                Entry(
                    sequence: $0["sequence"], at: $0["at"], kind: $0["kind"], subject: $0["subject"],
                    detail: $0["detail"])
            }
        }
    }

    /// How many rows the log holds.
    public func count() throws -> Int64 {
        try database.writer.read { db in try Int64.fetchOne(db, sql: "SELECT count(*) FROM audit_log") ?? 0 }
    }

    /// The outcome of checking the chain: how many rows were checked and the first broken one.
    public struct Verification: Sendable, Equatable {
        public var rows: Int
        public var firstBroken: Broken?
        public var isIntact: Bool { firstBroken == nil }

        public struct Broken: Sendable, Equatable, CustomStringConvertible {
            /// The sequence number of the first row that does not check out.
            public var sequence: Int64
            public var reason: String
            public var description: String { "row \(sequence): \(reason)" }
        }
    }

    /// Walks the whole chain from the first row and reports the first row that does not check out.
    public func verify() throws -> Verification {
        try database.writer.read { db in
            var previousHash = Data(count: 32)
            var expected: Int64 = 1
            var rows = 0
            let cursor = try Row.fetchCursor(
                db,
                sql: "SELECT sequence, at, kind, subject, detail, previous_hash, hash FROM audit_log ORDER BY sequence")
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
                    return broken(
                        "its link to the previous row does not match (a row before it was changed or removed)")
                }
                let hash: Data = row["hash"]
                guard hash == Self.hash(entry, previous: previousHash) else {
                    return broken("its content does not match its hash (the row was edited)")
                }
                previousHash = hash
                expected += 1
                rows += 1
            }
            let head = try Row.fetchOne(db, sql: "SELECT sequence, hash FROM audit_head WHERE id = 1")
            let headSequence: Int64 = head?["sequence"] ?? 0
            if headSequence != expected - 1 || (head.map { ($0["hash"] as Data) != previousHash } ?? false) {
                return Verification(
                    rows: rows,
                    firstBroken: .init(
                        sequence: expected,
                        reason: "missing: the log ends at row \(expected - 1) but its head records row \(headSequence)")
                )
            }
            return Verification(rows: rows, firstBroken: nil)
        }
    }

    /// SHA-256 over the previous hash and the entry's fields, each length-prefixed so that no two
    /// different entries share an encoding.
    static func hash(_ entry: Entry, previous: Data) -> Data {
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
