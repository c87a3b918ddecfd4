import AuditChain
import CloudProtocol
import Foundation
import SandboxCloud
import Testing
import VirtualCard

/// §4: records for a grant, paged newest first, bound to the grant's institution and life; alerts
/// for a proposed prescription; every access on the audit chain.
@Suite(.serialized) struct RecordsAndAlertsTests {
    /// A medication record dispensed `daysAgo` days before today, encoded as the cloud stores it.
    func medication(
        _ atc: String, _ name: String, daysAgo: Int64, supply: Int, today: CalendarDate, at institution: String
    ) throws -> StoredRecord {
        let date = CalendarDate(taipeiDateAt: today.taipeiMidnight - daysAgo * 86_400).iso
        let record = MedicationRecord(
            date: date, institution: institution, atcCode: atc, name: name, dose: "1 tab QD", daysSupply: supply,
            daysRemaining: supply, chronic: supply >= 28, refillsRemaining: 0)
        return StoredRecord(
            category: .medications, date: date, json: String(decoding: try JSONEncoder().encode(record), as: UTF8.self))
    }

    @Test func everyCategoryPagesNewestFirstWithinTheGrant() async throws {
        let cloud = try await CloudHarness()
        let institution = cloud.everySetting
        let patient = cloud.patient()
        try await withClient(try cloud.client(identity: try cloud.credential(institution: institution.code))) {
            client in
            let grant = try await cloud.openVisit(client, patient: patient, institution: institution.code).grant
            var seen = 0
            for category in RecordCategory.allCases {
                var dates: [String] = []
                var bodies = Set<String>()
                var page = 1
                var total = -1
                while true {
                    let reply = try await cloud.request(
                        client, .GET, "/v1/visits/\(grant)/records/\(category.rawValue)?page=\(page)&pageSize=2")
                    #expect(reply.status == 200)
                    let object = try #require(
                        try JSONSerialization.jsonObject(with: reply.body) as? [String: Any])
                    #expect(object["category"] as? String == category.rawValue)
                    total = object["total"] as? Int ?? -1
                    let items = try #require(object["items"] as? [[String: Any]])
                    #expect(items.count <= 2)
                    for item in items {
                        dates.append(try #require(item["date"] as? String))
                        bodies.insert(
                            String(
                                decoding: try JSONSerialization.data(withJSONObject: item, options: .sortedKeys),
                                as: UTF8.self))
                    }
                    guard let next = object["nextPage"] as? Int else { break }
                    #expect(next == page + 1)
                    page = next
                }
                #expect(dates.count == total)
                #expect(bodies.count == total)
                #expect(dates == dates.sorted(by: >))
                seen += total
            }
            // Synthetic patients have labs and medications at least.
            #expect(seen >= 5)

            let labs = try await cloud.request(client, .GET, "/v1/visits/\(grant)/records/labs?pageSize=100")
            let page = try labs.decode(RecordPage<LabRecord>.self)
            #expect(!page.items.isEmpty)
            for lab in page.items {
                let expected =
                    lab.referenceLow.map { lab.value < $0 } == true
                    ? "low" : lab.referenceHigh.map { lab.value > $0 } == true ? "high" : "normal"
                #expect(lab.flag == expected)
            }

            // Bad paging and categories.
            for query in ["?page=0", "?pageSize=101", "?page=x", "?pageSize=-1"] {
                let bad = try await cloud.request(client, .GET, "/v1/visits/\(grant)/records/labs\(query)")
                #expect(bad.status == 400 && bad.code == "request_malformed")
            }
            let unknown = try await cloud.request(client, .GET, "/v1/visits/\(grant)/records/xrays")
            #expect(unknown.status == 404 && unknown.code == "category_unknown")
        }

        // Another institution's grant, an unknown grant, and after expiry.
        let grant = try await withClient(
            try cloud.client(identity: try cloud.credential(institution: institution.code))
        ) { client in
            try await cloud.openVisit(client, patient: cloud.patient(photo: .none), institution: institution.code)
        }
        let other = cloud.homeCareOnly
        try await withClient(try cloud.client(identity: try cloud.credential(institution: other.code))) { client in
            let foreign = try await cloud.request(client, .GET, "/v1/visits/\(grant.grant)/records/labs")
            #expect(foreign.status == 403 && foreign.code == "grant_not_yours")
            let alerts = try await cloud.post(
                client, "/v1/visits/\(grant.grant)/alerts",
                json: AlertRequest(prescriptions: [.init(atcCode: "M01AE01")]))
            #expect(alerts.status == 403 && alerts.code == "grant_not_yours")
        }
        try await withClient(try cloud.client(identity: try cloud.credential(institution: institution.code))) {
            client in
            let unknown = try await cloud.request(
                client, .GET, "/v1/visits/\(String(repeating: "0", count: 64))/records/labs")
            #expect(unknown.status == 404 && unknown.code == "grant_unknown")
            cloud.clock.advance(by: 3601)
            let expired = try await cloud.request(client, .GET, "/v1/visits/\(grant.grant)/records/labs")
            #expect(expired.status == 410 && expired.code == "grant_expired")
        }
        try await cloud.stop()

        // Each read is on the audit chain, masked, and the chain holds.
        let store = try cloud.store()
        let audit = try await store.verifyAudit()
        #expect(audit.intact)
        let rows = try await cloud.auditDetails(.recordsRead)
        #expect(rows.count >= RecordCategory.allCases.count)
        for row in rows {
            #expect(row.contains("\"institution\":\"\(institution.code)\""))
            #expect(row.contains("\"patient\":\"\(TaiwanID.masked(patient.id))\""))
            #expect(!row.contains(patient.id))
        }
    }

    @Test func alertsAnswerDuplicatesInSupplyAndDocumentedInteractions() async throws {
        let cloud = try await CloudHarness()
        let institution = cloud.everySetting
        let patient = cloud.patient()
        let today = CalendarDate(taipeiDateAt: cloud.clock.now)
        // Replace the synthetic medications with a known set: warfarin in supply (dispensed 3 days
        // ago, 28 days), ibuprofen used up (10 days ago, 7 days), sertraline dispensed today.
        let store = try cloud.store()
        try await store.replaceRecords(
            [
                try medication("B01AA03", "Warfarin 5 mg", daysAgo: 3, supply: 28, today: today, at: "沙盒區域醫院"),
                try medication("M01AE01", "Ibuprofen 400 mg", daysAgo: 10, supply: 7, today: today, at: "沙盒社區藥局"),
                try medication("N06AB06", "Sertraline 50 mg", daysAgo: 0, supply: 28, today: today, at: "沙盒家庭醫學診所"),
            ], category: .medications, patientID: patient.id)

        try await withClient(try cloud.client(identity: try cloud.credential(institution: institution.code))) {
            client in
            let grant = try await cloud.openVisit(client, patient: patient, institution: institution.code).grant
            let page = try await cloud.request(client, .GET, "/v1/visits/\(grant)/records/medications")
                .decode(RecordPage<MedicationRecord>.self)
            #expect(page.items.map(\.atcCode) == ["N06AB06", "B01AA03", "M01AE01"])
            #expect(page.items.map(\.daysRemaining) == [28, 25, 0])
            #expect(page.nextPage == nil && page.total == 3)

            // Diclofenac (an NSAID) with warfarin in supply: the documented major interaction.
            // Warfarin again: a duplicate from another institution. Ibuprofen: used up, so no
            // duplicate, but an NSAID with warfarin all the same. Tramadol with sertraline:
            // serotonin syndrome. Cetirizine: nothing.
            let reply = try await cloud.post(
                client, "/v1/visits/\(grant)/alerts",
                json: AlertRequest(prescriptions: [
                    .init(atcCode: "M01AB05"), .init(atcCode: "B01AA03"), .init(atcCode: "M01AE01"),
                    .init(atcCode: "N02AX02"), .init(atcCode: "R06AE07"),
                ]))
            #expect(reply.status == 200)
            let alerts = try reply.decode(AlertAnswer.self).alerts
            let summary = Set(alerts.map { "\($0.kind.rawValue) \($0.proposedAtcCode) \($0.existing.atcCode)" })
            #expect(
                summary == [
                    "interaction M01AB05 B01AA03", "duplicate_medication B01AA03 B01AA03",
                    "interaction M01AE01 B01AA03", "interaction N02AX02 N06AB06",
                ])
            for alert in alerts { #expect(!alert.source.isEmpty && !alert.message.isEmpty) }
            #expect(alerts.first { $0.proposedAtcCode == "M01AB05" }?.severity == "major")

            // Bad proposals.
            for body in [
                #"{"prescriptions":[]}"#, #"{"prescriptions":[{"atcCode":"aspirin"}]}"#, #"{"prescriptions":"#, "[]",
            ] {
                let bad = try await cloud.request(
                    client, .POST, "/v1/visits/\(grant)/alerts", body: Array(body.utf8), contentType: "application/json"
                )
                #expect(bad.status == 400 && bad.code == "request_malformed")
            }
            let many = AlertRequest(prescriptions: Array(repeating: .init(atcCode: "N02BE01"), count: 51))
            let tooMany = try await cloud.post(client, "/v1/visits/\(grant)/alerts", json: many)
            #expect(tooMany.status == 400 && tooMany.code == "request_malformed")
            let huge = try await cloud.request(
                client, .POST, "/v1/visits/\(grant)/alerts", body: Array(repeating: 0x20, count: 20_000),
                contentType: "application/json")
            #expect(huge.status == 413 && huge.code == "request_malformed")
        }
        try await cloud.stop()
        let rows = try await cloud.auditDetails(.alertsChecked)
        #expect(rows.count == 1)
        #expect(rows.first?.contains("\"alerts\":\"4\"") == true)
    }

    @Test func daysRemainingCountsTheDayOfDispensing() throws {
        let today = try #require(CalendarDate(iso: "2026-12-03"))
        func remaining(_ date: String, _ supply: Int) -> Int {
            MedicationRecord(
                date: date, institution: "x", atcCode: "A10BA02", name: "x", dose: "x", daysSupply: supply,
                daysRemaining: 99, chronic: true, refillsRemaining: 0
            ).asOf(today).daysRemaining
        }
        #expect(remaining("2026-12-03", 28) == 28)
        #expect(remaining("2026-11-06", 28) == 1)
        #expect(remaining("2026-11-05", 28) == 0)
        #expect(remaining("2025-01-01", 7) == 0)
        #expect(remaining("2026-12-10", 7) == 7)
        #expect(remaining("not a date", 7) == 0)
    }

    @Test func atcCodesFollowTheWHOShape() {
        for code in ["M01AE01", "B01A", "B01", "N", "C09AA"] { #expect(ATCCode.isValid(code)) }
        for code in ["", "m01ae01", "M01AE1", "M0AE01", "B0", "M01AE011", "1234567"] { #expect(!ATCCode.isValid(code)) }
    }
}
