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
        let paging = try RecordPaging(request)
        let body = try await page(category.recordType, grant: grant, paging: paging)
        try await cloud.store.audit(
            at: cloud.clock(), kind: .recordsRead, subject: GrantToken.shortID(grant.grant),
            detail: accessDetail(grant).merging(
                ["category": category.rawValue, "page": String(paging.page)], uniquingKeysWith: { $1 }))
        return body
    }

    /// One page of a category, newest first, with what depends on the day brought to today.
    func page<Item: MedicalRecord>(_ type: Item.Type, grant: StoredGrant, paging: RecordPaging) async throws -> Response
    {
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
        if let malformation = proposal.malformation { throw CloudProblem(.requestMalformed, malformation) }
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

extension RecordPaging {
    /// The request's paging; a bad value is `request_malformed`.
    init(_ request: Request) throws {
        let query = request.uri.queryParameters
        do { try self.init { query[$0[...]].map(String.init) } } catch {
            throw CloudProblem(.requestMalformed, error.description)
        }
    }
}
