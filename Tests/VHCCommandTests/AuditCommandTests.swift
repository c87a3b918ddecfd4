import Foundation
import GRDB
import Station
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
}
