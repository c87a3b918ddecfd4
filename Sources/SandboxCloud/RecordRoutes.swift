import AuditChain
import CloudProtocol
import Foundation
import Hummingbird
import VirtualCard

/// §4: a grant's records, page by page, and alerts for a proposed prescription. Every access is on
/// the audit chain with the grant's institution and practitioner, the patient (masked) and what was
/// read.
extension CloudRoutes {
    func records(_ request: Request, _ context: CloudRequestContext) async throws -> Response {
        let institution = try context.requireInstitution()
        let grant = try await cloud.usableGrant(try context.parameters.require("grant"), institution: institution)
        guard let category = RecordCategory(rawValue: try context.parameters.require("category")) else {
            throw CloudProblem(
                .categoryUnknown,
                "categories: " + RecordCategory.allCases.map(\.rawValue).joined(separator: ", "))
        }
        let paging = try Paging(request)
        let body = try await page(category.recordType, grant: grant, paging: paging)
        try await cloud.store.audit(
            at: cloud.clock(), kind: .recordsRead, subject: GrantToken.shortID(grant.grant),
            detail: accessDetail(grant).merging(
                ["category": category.rawValue, "page": String(paging.page)], uniquingKeysWith: { $1 }))
        return body
    }

    /// One page of a category, newest first, with what depends on the day brought to today.
    func page<Item: MedicalRecord>(_ type: Item.Type, grant: StoredGrant, paging: Paging) async throws -> Response {
        let (total, items) = try await stored(Item.self, grant: grant, offset: paging.offset, limit: paging.pageSize)
        let next = paging.offset + items.count < total ? paging.page + 1 : nil
        return try json(
            RecordPage(
                category: Item.category, page: paging.page, pageSize: paging.pageSize, total: total, nextPage: next,
                items: items))
    }

    /// Duplicate medication across institutions and interactions for what the clinician proposes.
    func alerts(_ request: Request, _ context: CloudRequestContext) async throws -> Response {
        let institution = try context.requireInstitution()
        let grant = try await cloud.usableGrant(try context.parameters.require("grant"), institution: institution)
        let proposal = try await decode(AlertRequest.self, request, limit: 16 * 1024)
        guard (1...AlertRequest.maximumCount).contains(proposal.prescriptions.count) else {
            throw CloudProblem(.requestMalformed, "propose 1 to \(AlertRequest.maximumCount) prescriptions")
        }
        guard proposal.prescriptions.allSatisfy({ ATCCode.isValid($0.atcCode) }) else {
            throw CloudProblem(.requestMalformed, "each atcCode must be a WHO ATC code such as M01AE01")
        }
        let (_, medications) = try await stored(MedicationRecord.self, grant: grant, offset: 0, limit: 1000)
        let answer = AlertAnswer(alerts: DrugInteractions.alerts(for: proposal, medications: medications))
        try await cloud.store.audit(
            at: cloud.clock(), kind: .alertsChecked, subject: GrantToken.shortID(grant.grant),
            detail: accessDetail(grant).merging(
                [
                    "category": RecordCategory.medications.rawValue,
                    "proposed": proposal.prescriptions.map(\.atcCode).joined(separator: ","),
                    "alerts": String(answer.alerts.count),
                ], uniquingKeysWith: { $1 }))
        return try json(answer)
    }

    /// The grant's patient's stored records of one category, newest first, brought to today; and the total.
    func stored<Item: MedicalRecord>(
        _ type: Item.Type, grant: StoredGrant, offset: Int, limit: Int
    ) async throws
        -> (total: Int, items: [Item])
    {
        let (total, payloads) = try await cloud.store.records(
            patientID: grant.patientID, category: Item.category, offset: offset, limit: limit)
        let today = CalendarDate(taipeiDateAt: cloud.clock())
        return (total, try payloads.map { try JSONDecoder().decode(Item.self, from: Data($0.utf8)).asOf(today) })
    }

    func accessDetail(_ grant: StoredGrant) -> [String: String] {
        [
            "institution": grant.institution, "practitioner": TaiwanID.masked(grant.practitioner),
            "patient": TaiwanID.masked(grant.patientID),
        ]
    }
}

/// `?page=N&pageSize=M`: pages count from 1; the size is 1 to 100, 20 when absent.
struct Paging {
    let page: Int
    let pageSize: Int
    var offset: Int { (page - 1) * pageSize }

    init(_ request: Request) throws {
        let query = request.uri.queryParameters
        func number(_ name: String, default value: Int, in range: ClosedRange<Int>) throws -> Int {
            guard let text = query[name[...]] else { return value }
            guard let number = Int(text), range.contains(number) else {
                throw CloudProblem(
                    .requestMalformed, "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            return number
        }
        page = try number("page", default: 1, in: 1...100_000)
        pageSize = try number("pageSize", default: 20, in: 1...100)
    }
}
