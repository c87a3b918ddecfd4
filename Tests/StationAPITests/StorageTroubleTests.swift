import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import Station
import StationAPI
import StationModels
import Testing

/// A full disk (issue 21: every scan answered 500 `internal_error` while the status said `ok`), made
/// real on the station's own SQLite connection: `max_page_count` stops the file growing, and SQLite
/// answers SQLITE_FULL exactly as it does when the disk is full.
@Suite("Disk trouble: a full disk is named in the answer and the status, and nothing is lost")
struct StorageTroubleTests {
    func limitGrowth(_ fixture: APIFixture, toPagesBeyond extra: Int?) throws {
        try fixture.service.policy.database.writer.writeWithoutTransaction { db in
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            try db.execute(sql: "PRAGMA max_page_count = \(extra.map { pages + $0 } ?? 1_073_741_823)")
        }
    }

    @Test("scans on a full disk answer 507 storage_full, the status is degraded with storage_full, and the refused token is accepted once space returns")
    func fullDisk() async throws {
        let fixture = try APIFixture()
        try limitGrowth(fixture, toPagesBeyond: 8)
        try await fixture.app().test(.router) { client in
            var refused: [UInt8]?
            for _ in 0..<400 where refused == nil {
                let token = try fixture.authority.token()
                try await client.execute(uri: "/v1/scans", method: .post, body: fixture.scanBody(token)) { response in
                    if response.status.code == 507 {
                        let body = try json(response)
                        #expect(body["code"] as? String == "storage_full")
                        #expect((body["detail"] as? String)?.contains("nothing was recorded") == true)
                        refused = token
                    } else {
                        #expect(response.status == .ok, "\(String(buffer: response.body))")
                    }
                }
            }
            let token = try #require(refused, "the disk never filled")
            try await client.execute(uri: "/v1/status", method: .get) { response in
                let status = try JSONDecoder().decode(StationStatus.self, from: Data(buffer: response.body))
                #expect(status.state == .degraded && status.problems.contains(.storageFull))
                #expect(status.database.state == .degraded && status.database.storage?.problem == .storageFull)
                #expect(status.database.storage?.detail.contains("is full") == true)
            }
            // Space again: the maintenance loop's check writes once and clears the trouble.
            try limitGrowth(fixture, toPagesBeyond: nil)
            let database = fixture.service.policy.database
            database.storage.check { try database.probeWrite() }
            try await client.execute(uri: "/v1/status", method: .get) { response in
                let status = try JSONDecoder().decode(StationStatus.self, from: Data(buffer: response.body))
                #expect(!status.problems.contains(.storageFull) && status.database.storage == nil)
            }
            try await client.execute(uri: "/v1/scans", method: .post, body: fixture.scanBody(token)) { response in
                let body = try json(response)
                #expect(body["accepted"] as? Bool == true, "the refused scan was half recorded: \(body)")
            }
        }
    }

    @Test("a read-only database answers 503 storage_unavailable naming SQLite's reason")
    func readOnlyDatabase() async throws {
        let fixture = try APIFixture()
        try await fixture.service.policy.database.writer.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA query_only = ON")
        }
        try await fixture.app().test(.router) { client in
            try await client.execute(
                uri: "/v1/scans", method: .post, body: fixture.scanBody(try fixture.authority.token())
            ) { response in
                #expect(response.status == .serviceUnavailable)
                let body = try json(response)
                #expect(body["code"] as? String == "storage_unavailable", "\(body)")
                #expect((body["detail"] as? String)?.contains("readonly") == true, "\(body)")
            }
            try await client.execute(uri: "/v1/status", method: .get) { response in
                let status = try JSONDecoder().decode(StationStatus.self, from: Data(buffer: response.body))
                #expect(status.problems.contains(.storageUnavailable))
            }
        }
    }

    @Test("free space below storage.min_free_mib is storage_low before anything fails")
    func lowSpace() throws {
        let folder = NSTemporaryDirectory()
        let free = try #require(StorageWatch.freeBytes(folder))
        let watch = StorageWatch(databasePath: folder + "/station.sqlite", minimumFreeMiB: free / 1_048_576 + 1024)
        #expect(watch.trouble() == nil, "nothing measured yet")
        #expect(watch.check(probe: {}), "the first fall below the floor is reported for a warning")
        #expect(!watch.check(probe: {}), "and only once")
        #expect(watch.trouble()?.problem == .storageLow)
        let roomy = StorageWatch(databasePath: folder + "/station.sqlite", minimumFreeMiB: 0)
        #expect(!roomy.check(probe: {}) && roomy.trouble() == nil)
    }

    @Test("a failure recorded while the probe write ran is not cleared by that probe's success")
    func failureDuringProbe() throws {
        let watch = StorageWatch(databasePath: NSTemporaryDirectory() + "/station.sqlite", minimumFreeMiB: 0)
        watch.record(DatabaseError(resultCode: .SQLITE_FULL), at: 100)
        watch.check { watch.record(DatabaseError(resultCode: .SQLITE_FULL), at: 101) }
        #expect(watch.trouble()?.problem == .storageFull)
        watch.check {}
        #expect(watch.trouble() == nil, "a probe with no failure meanwhile clears it")
    }

}
