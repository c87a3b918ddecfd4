import Foundation
import GRDB
import StationModels
import TestSupport
import Testing

@testable import Station

@Suite("Station database migrations")
struct MigrationTests {
    let folder = try! TemporaryFolder(prefix: "vhc-station-migration")

    @Test("v7 rebuilds visit_session from its own definition: rows, grant and indexes kept, undeliverable allowed")
    func undeliverableState() throws {
        let path = folder.path("station.sqlite")
        // A station as the previous release left it: migrated up to v6, with a forwarded session.
        let old = try DatabaseQueue(path: path)
        try StationDatabase.migrator.migrate(old, upTo: "v6: front-desk page sign-ins")
        try old.write { db in
            try db.execute(
                sql: """
                    INSERT INTO visit_session (id, holder_id, holder_name, holder_birth_date, photo, institution,
                        source, opened_at, expires_at, state, cloud_state, visit_sequence, cloud_grant)
                    VALUES ('s1', 'A123456789', '王小明', '1980-01-02', 'verified', '0123456789', 'camera',
                        100, 3700, 'active', 'forwarded', '0001', 'grant-of-s1')
                    """)
            // Before v7 the new state is refused by the table itself.
            #expect(throws: DatabaseError.self) {
                try db.execute(sql: "UPDATE visit_session SET cloud_state = 'undeliverable' WHERE id = 's1'")
            }
        }
        try old.close()

        let database = try StationDatabase(path: path)
        let sessions = VisitSessions(database: database)
        let (session, grant) = try #require(try sessions.cloudGrant(sessionID: "s1"))
        #expect(session.holderName == "王小明" && session.cloud?.state == .forwarded && grant == "grant-of-s1")
        var given = session
        given.cloud?.state = .undeliverable
        try database.writer.write { db in try VisitSessions.save(db, given) }
        #expect(try sessions.session(id: "s1")?.cloud?.state == .undeliverable)
        try database.writer.write { db in
            let indexes = try String.fetchAll(
                db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'visit_session'")
            #expect(Set(indexes).isSuperset(of: ["visit_session_one_open_per_holder", "visit_session_open_by_expiry"]))
            // Any other cloud state is still refused.
            #expect(throws: DatabaseError.self) {
                try db.execute(sql: "UPDATE visit_session SET cloud_state = 'lost' WHERE id = 's1'")
            }
        }
    }
}
