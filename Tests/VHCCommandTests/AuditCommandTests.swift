import Foundation
import GRDB
import Station
import StationTestSupport
import TestSupport
import Testing

@Suite("vhc audit verify")
struct AuditCommandTests {
    let folder = try! TemporaryFolder(prefix: "vhc-audit-command")

    @Test("exit 0 on an intact chain, 1 naming the first broken row, 2 for a missing database")
    func verify() throws {
        let path = folder.path("station.sqlite")
        let log = AuditLog(database: try StationDatabase(path: path))
        for index in 1...4 { try log.append(at: Int64(index), kind: .scanRejected, detail: ["code": "expired"]) }

        let intact = try Command.vhc("audit", "verify", "--database", path, in: folder.url)
        #expect(intact.status == 0)
        #expect(intact.stdout == "audit log intact: 4 rows\n")

        // Someone edits row 2 in the file, with the append-only triggers out of the way.
        try DatabaseQueue(path: path).write { db in
            try db.execute(sql: "DROP TRIGGER audit_log_no_update")
            try db.execute(sql: "UPDATE audit_log SET kind = 'scan.accepted' WHERE sequence = 2")
        }
        let broken = try Command.vhc("audit", "verify", "--database", path, in: folder.url)
        #expect(broken.status == 1)
        #expect(broken.stdout.hasPrefix("audit log broken at row 2: its content does not match its hash"))

        let missing = try Command.vhc("audit", "verify", "--database", folder.path("nope.sqlite"), in: folder.url)
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("no station database"))
    }

    @Test("read-only: a foreign SQLite file is refused and left as it was")
    func foreignFile() throws {
        let path = folder.path("other.sqlite")
        try DatabaseQueue(path: path).write { db in try db.execute(sql: "CREATE TABLE notes (text TEXT)") }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let result = try Command.vhc("audit", "verify", "--database", path, in: folder.url)
        #expect(result.status == 2 && result.stderr.contains("not a station database"), "\(result.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        let tables = try DatabaseQueue(path: path).read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master")
        }
        #expect(tables == ["notes"])
    }

    @Test(
        "a wiped log, and a log cut back to an earlier head, are caught: by the sessions it no longer accounts for, and by the anchors"
    )
    func wipedAndCut() throws {
        let authority = TestAuthority()
        let station = try authority.station(in: folder)
        for id in ["A123456789", "B123456780", "C123456781"] {
            #expect(
                try station.submit(try authority.token(holderID: id), source: "camera", now: TestAuthority.now).accepted
            )
        }
        let path = folder.path("station.sqlite")
        let anchor = try #require(try station.audit.head())
        let anchors = folder.path("journal.txt")
        try "Dec 03 vhc-stationd[1]: some other line\nDec 03 vhc-stationd[1]: \(anchor.line)\n".write(
            toFile: anchors, atomically: false, encoding: .utf8)
        let intact = try Command.vhc("audit", "verify", "--database", path, "--anchors", anchors, in: folder.url)
        #expect(
            intact.status == 0 && intact.stdout.contains("consistent with 1 anchors"),
            "\(intact.stdout)\(intact.stderr)")

        // Cut the last two rows off and make the head agree: the chain alone checks out, the anchor does not.
        let cutCopy = folder.path("cut.sqlite")
        try DatabaseQueue(path: path).writeWithoutTransaction { db in
            try db.execute(sql: "VACUUM INTO ?", arguments: [cutCopy])
        }
        try DatabaseQueue(path: cutCopy).write { db in
            try db.execute(sql: "DROP TRIGGER audit_log_no_delete")
            let last = try Int64.fetchOne(db, sql: "SELECT max(sequence) FROM audit_log")!
            try db.execute(sql: "DELETE FROM audit_log WHERE sequence > ?", arguments: [last - 2])
            try db.execute(
                sql: "UPDATE audit_head SET sequence = ?, hash = (SELECT hash FROM audit_log WHERE sequence = ?)",
                arguments: [last - 2, last - 2])
        }
        let cut = try Command.vhc("audit", "verify", "--database", cutCopy, "--anchors", anchors, in: folder.url)
        #expect(cut.status == 1 && cut.stdout.contains("cut: an anchor records row"), "\(cut.stdout)")
        #expect(cut.stdout.contains("audit_log_no_delete was removed"))

        // Wipe every row and the head: without an anchor the sessions left unaccounted for show it.
        try DatabaseQueue(path: path).write { db in
            try db.execute(sql: "DROP TRIGGER audit_log_no_delete")
            try db.execute(sql: "DELETE FROM audit_log")
            try db.execute(sql: "DELETE FROM audit_head")
            try db.execute(
                sql: """
                    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
                    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END
                    """)
        }
        let wiped = try Command.vhc("audit", "verify", "--database", path, in: folder.url)
        #expect(
            wiped.status == 1 && wiped.stdout.contains("3 visit sessions have no session.opened row"), "\(wiped.stdout)"
        )
        let noAnchors = try Command.vhc("audit", "verify", "--database", path, "--anchors", path, in: folder.url)
        #expect(noAnchors.status == 2)
    }
}
