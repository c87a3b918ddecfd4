import Foundation
import GRDB
import Station
import TestSupport
import Testing

@Suite("Audit log: append-only, hash-chained")
struct AuditLogTests {
    let folder = try! TemporaryFolder(prefix: "vhc-station-audit")

    func log(rows: Int) throws -> (AuditLog, String) {
        let path = folder.path("station.sqlite")
        let log = AuditLog(database: try StationDatabase(path: path))
        for index in 1...rows {
            try log.append(
                at: 1000 + Int64(index), kind: .scanRejected, subject: "",
                detail: ["code": "expired", "n": "\(index)"])
        }
        return (log, path)
    }

    /// Edits the file as an attacker would: with the triggers out of the way.
    func tamper(_ path: String, _ sql: String) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(
                sql: "DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete")
            try db.execute(sql: sql)
        }
    }

    @Test("an untouched chain verifies; the database refuses updates and deletes")
    func intact() throws {
        let (log, path) = try log(rows: 5)
        let result = try log.verify()
        #expect(result.isIntact && result.rows == 5)
        let queue = try DatabaseQueue(path: path)
        #expect(throws: DatabaseError.self) {
            try queue.write { try $0.execute(sql: "UPDATE audit_log SET kind = 'x'") }
        }
        #expect(throws: DatabaseError.self) { try queue.write { try $0.execute(sql: "DELETE FROM audit_log") } }
        #expect(try log.entries().map(\.sequence) == [1, 2, 3, 4, 5])
        #expect(try log.entries(after: 3).map(\.sequence) == [4, 5])
    }

    @Test("an edited row is reported as the first broken one")
    func edited() throws {
        let (log, path) = try log(rows: 6)
        try tamper(path, #"UPDATE audit_log SET detail = '{"code":"valid","n":"3"}' WHERE sequence = 3"#)
        let result = try log.verify()
        #expect(result.firstBroken?.sequence == 3)
        #expect(result.firstBroken?.reason.contains("edited") == true)
        #expect(result.rows == 2)
    }

    @Test("a deleted row, the first row, or rows cut off the end are reported")
    func deleted() throws {
        let (log, path) = try log(rows: 6)
        try tamper(path, "DELETE FROM audit_log WHERE sequence = 4")
        #expect(try log.verify().firstBroken?.sequence == 4)
        try tamper(path, "DELETE FROM audit_log WHERE sequence = 1")
        #expect(try log.verify().firstBroken?.sequence == 1)
    }

    @Test("cutting rows off the end is reported against the head")
    func truncated() throws {
        let (log, path) = try log(rows: 6)
        try tamper(path, "DELETE FROM audit_log WHERE sequence >= 5")
        let result = try log.verify()
        #expect(result.firstBroken?.sequence == 5)
        #expect(result.rows == 4)
    }

    @Test("a rewritten row with a recomputed hash still breaks the next row's link")
    func rewrittenChain() throws {
        let (log, path) = try log(rows: 4)
        // Replace row 2 wholesale with a row whose own hash is consistent but whose content changed.
        try tamper(path, "UPDATE audit_log SET hash = zeroblob(32) WHERE sequence = 2")
        #expect(try log.verify().firstBroken?.sequence == 2)
    }
}
