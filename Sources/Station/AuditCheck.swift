import AuditChain
import Foundation
import GRDB
import VirtualCard

/// `vhc audit verify`: checks a station database's audit log from outside the daemon, opening the file
/// read-only. Beyond the hash chain it looks for what a chain cannot show by itself: the append-only
/// triggers removed, visit sessions with no audit row to account for them (a log wiped or cut and
/// rebuilt), and anchors (chain heads the daemon wrote to its journal) that the log no longer reaches
/// or no longer matches.
package enum AuditCheck {
    /// A chain head recorded outside the database: row `sequence` had `hash`.
    package struct Anchor: Sendable, Equatable {
        package var sequence: Int64
        package var hash: [UInt8]
        package init(sequence: Int64, hash: [UInt8]) {
            self.sequence = sequence
            self.hash = hash
        }

        /// The line the daemon writes to its journal, and `anchors(in:)` reads back.
        package var line: String { "audit-head sequence=\(sequence) hash=\(Hex.encode(hash))" }

        /// Every anchor line in `text` (a journal export, a file of lines); other lines are ignored.
        package static func anchors(in text: String) -> [Anchor] {
            text.split(whereSeparator: \.isNewline).compactMap { line in
                guard let start = line.range(of: "audit-head sequence=") else { return nil }
                let rest = line[start.upperBound...].split(separator: " ")
                guard rest.count >= 2, let sequence = Int64(rest[0]), rest[1].hasPrefix("hash="),
                    let hash = Hex.decode(String(rest[1].dropFirst(5))), hash.count == 32
                else { return nil }
                return Anchor(sequence: sequence, hash: hash)
            }
        }
    }

    package struct Report: Sendable, Equatable {
        package var rows: Int
        /// What does not check out, the chain's first break first; empty when intact.
        package var findings: [String]
        package var isIntact: Bool { findings.isEmpty }
    }

    package struct OpenError: Error, CustomStringConvertible {
        package let description: String
    }

    /// The tables a station database has; a file without them is not one (and is never changed).
    static let stationTables = ["audit_log", "audit_head", "visit_session", "consumed_token", "clock_state"]

    /// Opens `path` read-only and runs `body` on it once it is known to be a station database.
    static func readStationDatabase<T>(_ path: String, _ body: (Database) throws -> T) throws(OpenError) -> T {
        var configuration = Configuration()
        configuration.readonly = true
        let queue: DatabaseQueue
        do { queue = try DatabaseQueue(path: path, configuration: configuration) } catch {
            throw OpenError(description: "cannot open '\(path)' read-only: \(error)")
        }
        do {
            return try queue.read { db in
                let missing = try stationTables.filter { try !db.tableExists($0) }
                guard missing.isEmpty else {
                    throw OpenError(
                        description: "'\(path)' is not a station database (no \(missing.joined(separator: ", ")))")
                }
                return try body(db)
            }
        } catch let error as OpenError {
            throw error
        } catch {
            throw OpenError(description: "cannot read the audit log in '\(path)': \(error)")
        }
    }

    /// The chain's head in the database at `path`, read-only (`vhc audit push`).
    package static func head(path: String) throws(OpenError) -> Anchor? {
        try readStationDatabase(path) { db in
            try Row.fetchOne(db, sql: "SELECT sequence, hash FROM audit_head WHERE id = 1").map {
                Anchor(sequence: $0["sequence"], hash: Array($0["hash"] as Data))
            }
        }
    }

    package static func verify(path: String, anchors: [Anchor] = []) throws(OpenError) -> Report {
        try readStationDatabase(path) { db throws -> Report in
            let chain = try AuditChain.verify(db)
            var findings = chain.firstBroken.map { ["\($0)"] } ?? []
            for trigger in ["audit_log_no_update", "audit_log_no_delete"] where !(try db.triggerExists(trigger)) {
                findings.append("the append-only trigger \(trigger) was removed")
            }
            let unaccounted =
                try Int.fetchOne(
                    db,
                    sql: """
                        SELECT count(*) FROM visit_session s WHERE NOT EXISTS
                            (SELECT 1 FROM audit_log a WHERE a.kind = 'session.opened' AND a.subject = s.id)
                        """) ?? 0
            if unaccounted > 0 {
                findings.append(
                    "\(unaccounted) visit sessions have no session.opened row: audit rows were removed")
            }
            let last = try Int64.fetchOne(db, sql: "SELECT max(sequence) FROM audit_log") ?? 0
            for anchor in anchors {
                guard anchor.sequence <= last else {
                    findings.append(
                        "cut: an anchor records row \(anchor.sequence), but the log ends at row \(last)")
                    continue
                }
                let hash = try Data.fetchOne(
                    db, sql: "SELECT hash FROM audit_log WHERE sequence = ?", arguments: [anchor.sequence])
                if hash.map(Array.init) != anchor.hash {
                    findings.append("row \(anchor.sequence) does not match its anchor: the log was rewritten")
                }
            }
            return Report(rows: chain.rows, findings: findings)
        }
    }
}

extension AuditLog {
    /// The chain's head now, as an anchor to write outside the database.
    package func head() throws -> AuditCheck.Anchor? {
        try database.writer.read { db in
            try Row.fetchOne(db, sql: "SELECT sequence, hash FROM audit_head WHERE id = 1").map {
                AuditCheck.Anchor(sequence: $0["sequence"], hash: Array($0["hash"] as Data))
            }
        }
    }
}
