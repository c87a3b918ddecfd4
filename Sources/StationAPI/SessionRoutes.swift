import CloudProtocol
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RecordsFHIR
import Station
import StationModels
import VirtualCard

/// A visit session's routes: list, read, the ID-document check, close, reveal, and its records and
/// alerts through the cloud.
extension Routes {
    var sessionRoutes: RouteCollection<StationRequestContext> {
        let routes = RouteCollection(context: StationRequestContext.self)
        routes.get("/v1/sessions") { request, context in try await Blocking.run { try self.list(request, context) } }
        routes.get("/v1/sessions/{id}") { _, context in try await Blocking.run { try self.show(context) } }
        routes.post("/v1/sessions/{id}/id-check") { request, context in try await self.idCheck(request, context) }
        routes.post("/v1/sessions/{id}/close") { _, context in try await Blocking.run { try self.close(context) } }
        routes.get("/v1/sessions/{id}/records/{category}") { request, context in
            try await self.records(request, context)
        }
        routes.post("/v1/sessions/{id}/alerts") { request, context in try await self.alerts(request, context) }
        routes.post("/v1/sessions/{id}/reveal") { _, context in try await Blocking.run { try self.reveal(context) } }
        return routes
    }

    /// `GET /v1/sessions/{id}/records/{category}?page=&pageSize=`: the cloud's records for an open,
    /// forwarded visit, through the station (its grant never leaves it). Audited here and at the cloud.
    func records(_ request: Request, _ context: StationRequestContext) async throws -> Response {
        let id = try sessionID(context)
        let categoryName = try context.parameters.require("category")
        guard let category = RecordCategory(rawValue: categoryName) else {
            throw Problem(
                status: .notFound, code: .categoryUnknown, title: "No such record category",
                detail: "categories: " + RecordCategory.allCases.map(\.rawValue).joined(separator: ", "))
        }
        let query = request.uri.queryParameters
        let paging: RecordPaging
        do { paging = try RecordPaging { query[$0[...]].map(String.init) } } catch {
            throw Problem.badRequest(error.description)
        }
        let format = query["format"].map(String.init) ?? "json"
        guard format == "json" || format == "fhir" else { throw Problem.badRequest("format must be json or fhir") }
        // A FHIR bundle names the patient by ID number and birth date; a masked one would not be valid
        // FHIR, and the page shows records, not patients. It is the HIS's.
        guard format == "json" || context.access != .browser else {
            throw Problem.badRequest("format=fhir is for the HIS (bearer token or the socket), not the page")
        }
        let (session, grant) = try await grant(
            id, ["category": category.rawValue, "page": String(paging.page), "format": format], context)
        let records = try await uplink().records(
            grant: grant, category: category, page: paging.page, pageSize: paging.pageSize)
        guard format == "fhir" else { return try json(records) }
        let patient = FHIRBundle.Patient(
            id: session.holderID, name: session.holderName, birthDate: session.holderBirthDate, sex: session.cloud?.sex)
        return try json(
            FHIRBundle.make(records, patient: patient, institution: service.settings.institution),
            contentType: "application/fhir+json")
    }

    /// `POST /v1/sessions/{id}/alerts`: duplicate-medication and interaction alerts for what the
    /// clinician proposes, from the cloud with the visit's grant.
    func alerts(_ request: Request, _ context: StationRequestContext) async throws -> Response {
        let id = try sessionID(context)
        let proposal = try await Self.decodeJSON(AlertRequest.self, request, context)
        if let malformation = proposal.malformation { throw Problem.badRequest(malformation) }
        let (_, grant) = try await grant(
            id, ["alerts": proposal.prescriptions.map(\.atcCode).joined(separator: ",")], context)
        return try json(try await uplink().alerts(grant: grant, proposal: proposal))
    }


    private func grant(
        _ id: String, _ what: [String: String], _ context: StationRequestContext
    ) async throws -> (session: VisitSession, grant: String) {
        let service = service
        let client = context.client
        return try await Blocking.run { try service.recordsGrant(sessionID: id, reading: what, by: client) }
    }

    private func uplink() throws -> any CloudUplink {
        guard let uplink = service.uplink else { throw Problem.cloudNotConfigured }
        return uplink
    }

    func list(_ request: Request, _ context: StationRequestContext) throws -> Response {
        let query = request.uri.queryParameters
        var state: VisitSession.State?
        if let text = query["state"].map(String.init) {
            guard let parsed = VisitSession.State(rawValue: text) else {
                throw Problem.badRequest(
                    "state must be one of \(VisitSession.State.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            state = parsed
        }
        let holder = query["holder"].map(String.init)
        if let holder, !TaiwanID.isValid(holder) { throw Problem.badRequest("holder must be a valid ID number") }
        let sessions = try service.listSessions(state: state, holderID: holder, readBy: context.client)
        return try json(SessionList(sessions: sessions.map { context.shown($0) }))
    }

    func show(_ context: StationRequestContext) throws -> Response {
        let id = try sessionID(context)
        guard let session = try service.session(id: id, readBy: context.client) else {
            throw SessionError(.sessionNotFound, "no session \(id)")
        }
        return try json(context.shown(session))
    }

    /// `POST /v1/sessions/{id}/reveal`: the holder in full, for a screen that masks them; audited.
    func reveal(_ context: StationRequestContext) throws -> Response {
        let id = try sessionID(context)
        guard let session = try service.revealHolder(sessionID: id, to: context.client) else {
            throw SessionError(.sessionNotFound, "no session \(id)")
        }
        return try json(HolderIdentity(session))
    }


    func idCheck(_ request: Request, _ context: StationRequestContext) async throws -> Response {
        let id = try sessionID(context)
        let check = try await Self.decodeJSON(IDCheckRequest.self, request, context)
        let service = service
        let checked = try await Blocking.run {
            try service.recordIDCheck(
                sessionID: id, document: check.document, lastFour: check.lastFour, operatorName: check.operator)
        }
        return try json(context.shown(checked))
    }

    func close(_ context: StationRequestContext) throws -> Response {
        try json(context.shown(service.close(sessionID: try sessionID(context))))
    }

}
