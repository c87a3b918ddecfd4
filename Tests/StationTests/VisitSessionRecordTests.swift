import Foundation
import GRDB
@testable import Station
import StationModels
import TestSupport
import Testing

@Suite("Visit session rows: the GRDB record and its saves")
struct VisitSessionRecordTests {
    let folder = try! TemporaryFolder(prefix: "vhc-station-session-record")

    /// Every field set, each text and each number different from the others, so a value written to
    /// another column of its type shows.
    static let full = VisitSession(
        id: "session-full", holderID: "A123456789", holderName: "王小明", holderBirthDate: "1980-01-02",
        photo: "none", delegateID: "B234567890", institution: "0123456789", source: "api",
        openedAt: 1_700_000_000, expiresAt: 1_700_003_600, state: .closed, closedAt: 1_700_001_000,
        closeReason: CloseReason(rawValue: "cloud_refused"),
        idCheck: .init(document: .passport, lastFour: "7890", operatorName: "林護理師", at: 1_700_000_100),
        cloud: CloudVisit(
            state: .refused, practitioner: "陳**", visitSequence: "0042", deferred: true, refusal: "token_replayed",
            tokenCode: "expired", cardNumber: "000012345678", insuranceStatus: "insured", sex: "F",
            grantExpiresAt: 1_700_090_000, treatmentNumber: "01234567892612070042"),
        setting: "telemedicine")

    /// Only what a session cannot be without.
    static let bare = VisitSession(
        id: "session-bare", holderID: "C123456789", holderName: "李大華", holderBirthDate: "1990-03-04",
        photo: "verified", delegateID: nil, institution: "0123456789", source: "camera",
        openedAt: 1_700_000_000, expiresAt: 1_700_003_600, state: .active)

    func database() throws -> StationDatabase { try StationDatabase(path: folder.path("station.sqlite")) }

    func save(_ session: VisitSession, in database: StationDatabase) throws {
        try database.writer.write { db in try VisitSessions.save(db, session) }
    }

    func fetch(_ id: String, in database: StationDatabase) throws -> VisitSession? {
        try database.writer.read { db in try VisitSessions.fetch(db, id: id) }
    }

    func rowCount(_ database: StationDatabase) throws -> Int {
        try database.writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM visit_session") ?? 0 }
    }

    @Test("the record has one property per column of the table but cloud_grant, in the table's order")
    func columns() throws {
        let columns = try database().writer.read { db in try db.columns(in: "visit_session").map(\.name) }
        // cloud_grant came with v4's columns, setting with v8: the record keeps the table's order around it.
        var recorded = VisitSessionRecord.CodingKeys.allCases.map(\.stringValue)
        recorded.insert("cloud_grant", at: recorded.firstIndex(of: "grant_expires_at")! + 1)
        #expect(columns == recorded)
        #expect(VisitSessionRecord.databaseTableName == "visit_session")
    }

    @Test("every field of a full session survives a save and a fetch, each in its own column")
    func fullSession() throws {
        let database = try database()
        try save(Self.full, in: database)
        #expect(try fetch(Self.full.id, in: database) == Self.full)
        #expect(try VisitSessions(database: database).session(id: Self.full.id) == Self.full)
        let expected: [(String, DatabaseValue)] = [
            ("id", "session-full".databaseValue), ("holder_id", "A123456789".databaseValue),
            ("holder_name", "王小明".databaseValue), ("holder_birth_date", "1980-01-02".databaseValue),
            ("photo", "none".databaseValue), ("delegate_id", "B234567890".databaseValue),
            ("institution", "0123456789".databaseValue), ("source", "api".databaseValue),
            ("opened_at", 1_700_000_000.databaseValue), ("expires_at", 1_700_003_600.databaseValue),
            ("state", "closed".databaseValue), ("closed_at", 1_700_001_000.databaseValue),
            ("close_reason", "cloud_refused".databaseValue), ("id_check_document", "passport".databaseValue),
            ("id_check_last_four", "7890".databaseValue), ("id_check_operator", "林護理師".databaseValue),
            ("id_check_at", 1_700_000_100.databaseValue), ("cloud_state", "refused".databaseValue),
            ("cloud_practitioner", "陳**".databaseValue), ("visit_sequence", "0042".databaseValue),
            ("cloud_deferred", 1.databaseValue), ("cloud_refusal", "token_replayed".databaseValue),
            ("cloud_token_code", "expired".databaseValue), ("card_number", "000012345678".databaseValue),
            ("insurance_status", "insured".databaseValue), ("patient_sex", "F".databaseValue),
            ("grant_expires_at", 1_700_090_000.databaseValue), ("cloud_grant", .null),
            ("setting", "telemedicine".databaseValue), ("treatment_number", "01234567892612070042".databaseValue),
        ]
        let row = try #require(
            try database.writer.read { db in
                try Row.fetchOne(db, sql: "SELECT * FROM visit_session WHERE id = ?", arguments: [Self.full.id])
            })
        #expect(row.count == expected.count)
        for (column, value) in expected {
            #expect(row[column] as DatabaseValue == value, "column \(column)")
        }
    }

    @Test("a session without its optional fields survives a save and a fetch with them nil")
    func bareSession() throws {
        let database = try database()
        try save(Self.bare, in: database)
        let fetched = try #require(try fetch(Self.bare.id, in: database))
        #expect(fetched == Self.bare)
        #expect(fetched.delegateID == nil && fetched.closedAt == nil && fetched.closeReason == nil)
        #expect(fetched.idCheck == nil && fetched.cloud == nil)

        // A cloud visit with nothing but its state: its optionals stay nil too (not false, not "").
        var pending = Self.bare
        pending.cloud = CloudVisit(state: .pendingCloud)
        try save(pending, in: database)
        #expect(try fetch(Self.bare.id, in: database) == pending)
        #expect(try rowCount(database) == 1)
    }

    @Test("saving a changed session updates its row: one row, the changes read back, the opening fields kept")
    func update() throws {
        let database = try database()
        try save(Self.bare, in: database)
        var changed = Self.bare
        changed.state = .closed
        changed.closedAt = 1_700_002_000
        changed.closeReason = .operator
        changed.idCheck = .init(document: .nationalIDCard, lastFour: "6789", operatorName: "林", at: 1_700_000_500)
        changed.cloud = CloudVisit(state: .forwarded, visitSequence: "0007", deferred: false)
        try save(changed, in: database)
        #expect(try rowCount(database) == 1)
        #expect(try fetch(Self.bare.id, in: database) == changed)

        // As before: what is set at opening is never rewritten by a save.
        var rewritten = changed
        rewritten.holderName = "別人"
        rewritten.expiresAt += 600
        rewritten.state = .expired
        try save(rewritten, in: database)
        var expected = changed
        expected.state = .expired
        #expect(try fetch(Self.bare.id, in: database) == expected)

        // And a change back to nil clears the columns.
        var cleared = expected
        cleared.closedAt = nil
        cleared.closeReason = nil
        cleared.idCheck = nil
        cleared.cloud = nil
        try save(cleared, in: database)
        #expect(try fetch(Self.bare.id, in: database) == cleared)
        #expect(try rowCount(database) == 1)
    }

    @Test("a later save of the session keeps the cloud's grant")
    func grantSurvives() throws {
        let database = try database()
        try save(Self.bare, in: database)
        // As Outbox.apply writes it, apart from the session.
        try database.writer.write { db in
            try db.execute(
                sql: "UPDATE visit_session SET cloud_grant = ? WHERE id = ?", arguments: ["grant-text", Self.bare.id])
        }
        var forwarded = Self.bare
        forwarded.cloud = CloudVisit(state: .forwarded, visitSequence: "0001", grantExpiresAt: 1_700_090_000)
        try save(forwarded, in: database)
        var closed = forwarded
        closed.state = .closed
        closed.closedAt = 1_700_001_000
        closed.closeReason = .operator
        try save(closed, in: database)
        let (session, grant) = try #require(try VisitSessions(database: database).cloudGrant(sessionID: Self.bare.id))
        #expect(session == closed)
        #expect(grant == "grant-text")
    }

    @Test("a new session of a holder with an open one is refused, not written over the open one")
    func oneOpenPerHolder() throws {
        let database = try database()
        try save(Self.bare, in: database)
        var other = Self.bare
        other.id = "session-other"
        other.openedAt += 60
        #expect(throws: DatabaseError.self) { try save(other, in: database) }
        #expect(try fetch(Self.bare.id, in: database) == Self.bare)
        #expect(try fetch(other.id, in: database) == nil)
    }

    @Test("a row with an unknown state, cloud state or document reads as closed, without cloud visit or ID check")
    func unknownValues() throws {
        let database = try database()
        // The table's CHECKs refuse such values: a row written by a newer station, or by hand.
        let queue = try DatabaseQueue(path: folder.path("station.sqlite"))
        try queue.inDatabase { db in
            try db.execute(sql: "PRAGMA ignore_check_constraints = ON")
            try db.execute(
                sql: """
                    INSERT INTO visit_session (id, holder_id, holder_name, holder_birth_date, photo, institution,
                        source, opened_at, expires_at, state, close_reason, id_check_document, id_check_last_four,
                        id_check_operator, id_check_at, cloud_state, visit_sequence, cloud_grant)
                    VALUES ('session-odd', 'A123456789', '王小明', '1980-01-02', 'verified', '0123456789', 'api',
                        1700000000, 1700003600, 'paused', 'some_new_reason', 'library_card', '1234', '林',
                        1700000100, 'archived', '0009', 'grant-text')
                    """)
        }
        let session = try #require(try fetch("session-odd", in: database))
        #expect(session.state == .closed)
        #expect(session.closeReason == CloseReason(rawValue: "some_new_reason"))
        #expect(session.idCheck == nil)
        #expect(session.cloud == nil)
        #expect(session.holderName == "王小明" && session.expiresAt == 1_700_003_600)
    }

    @Test("the record converts both ways; unknown raw values read as before")
    func conversion() {
        #expect(VisitSessionRecord(Self.full).session == Self.full)
        #expect(VisitSessionRecord(Self.bare).session == Self.bare)
        var record = VisitSessionRecord(Self.full)
        #expect(record.state == "closed" && record.cloudState == "refused" && record.idCheckDocument == "passport")
        record.state = "awaiting_id_check"
        #expect(record.session.state == .awaitingIDCheck)
        record.state = "paused"
        #expect(record.session.state == .closed)
        record.cloudState = "undeliverable"
        #expect(record.session.cloud?.state == .undeliverable)
        #expect(record.session.cloud?.visitSequence == "0042")
        record.cloudState = "archived"
        #expect(record.session.cloud == nil)
        record.idCheckDocument = "nhi_card"
        #expect(record.session.idCheck?.document == .healthInsuranceCard)
        record.idCheckDocument = "library_card"
        #expect(record.session.idCheck == nil)
        // A known document without the check's other columns (only a hand edit writes one) is no check.
        record.idCheckDocument = "passport"
        record.idCheckLastFour = nil
        #expect(record.session.idCheck == nil)
    }
}
