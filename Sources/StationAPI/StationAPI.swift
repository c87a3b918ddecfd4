import CloudProtocol
import ConnectionGuards
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RecordsFHIR
import Station
import StationModels
import VirtualCard

/// The station's local HTTP API (docs/openapi.yaml): JSON in and out, errors as problem+json,
/// live events as server-sent events. The same routes serve the Unix socket and, with a bearer
/// token, the optional loopback TCP listener.
public enum StationAPI {
    /// The routes over `service`. `bearerToken` set: the TCP listener, where every request must present
    /// it, or the page's sign-in cookie when `web` is given (and the page is served there too). On the
    /// Unix socket `web` lets `vhc web` ask for a sign-in link.
    public static func router(
        service: StationService, camera: any CameraStatusProviding, bearerToken: String? = nil,
        web: WebSignIns? = nil, keepAliveSeconds: Double = 15
    ) -> Router<StationRequestContext> {
        let router = Router(context: StationRequestContext.self)
        let methods = RouteMethods()
        if bearerToken != nil { router.add(middleware: SecurityHeadersMiddleware()) }
        router.add(middleware: ProblemMiddleware(methods: methods))
        if let bearerToken { router.add(middleware: TCPAccessMiddleware(token: bearerToken, web: web)) }
        let routes = Routes(service: service, camera: camera, keepAlive: keepAliveSeconds)
        router.get("/v1/status") { _, _ in try await Blocking.run { try routes.status() } }
        router.post("/v1/scans") { request, context in try await routes.submit(request, context) }
        router.post("/v1/scans/image") { request, context in try await routes.submitImage(request, context) }
        router.get("/v1/sessions") { request, context in try await Blocking.run { try routes.list(request, context) } }
        router.get("/v1/sessions/{id}") { _, context in try await Blocking.run { try routes.show(context) } }
        router.post("/v1/sessions/{id}/id-check") { request, context in try await routes.idCheck(request, context) }
        router.post("/v1/sessions/{id}/close") { _, context in try await Blocking.run { try routes.close(context) } }
        router.get("/v1/sessions/{id}/records/{category}") { request, context in
            try await routes.records(request, context)
        }
        router.post("/v1/sessions/{id}/alerts") { request, context in try await routes.alerts(request, context) }
        router.post("/v1/sessions/{id}/reveal") { _, context in try await Blocking.run { try routes.reveal(context) } }
        router.post("/v1/consents") { request, context in try await routes.requestConsent(request, context) }
        router.get("/v1/stats/day") { _, _ in try await Blocking.run { try routes.day() } }
        router.get("/v1/events") { request, context in
            routes.events(request, closed: context.connectionClosed, stillSignedIn: context.stillSignedIn)
        }
        // Only on the Unix socket (no bearer token): resetting the clock needs the socket's privileges.
        if bearerToken == nil {
            router.post("/v1/clock/reset") { request, context in try await routes.resetClock(request, context) }
            // The practitioner card's key crosses the socket only, never the TCP listener.
            router.post("/v1/practitioner/login") { request, context in try await routes.login(request, context) }
            router.post("/v1/practitioner/logout") { _, _ in try await routes.logout() }
            // Sign-in links for the page: whoever may use the socket may hand out the page.
            router.post("/v1/web/links") { _, context in try await Blocking.run { try routes.webLink(web, context) } }
        } else if let web {
            WebPage.add(to: router, signIns: web, audit: service.audit)
        }
        methods.record(router.routes.map { ($0.path.description, $0.method.rawValue) })
        return router
    }
}

/// The route handlers, apart from the routing table so each reads on its own.
struct Routes: Sendable {
    let service: StationService
    let camera: any CameraStatusProviding
    let keepAlive: Double
    /// One image read at a time (`POST /v1/scans/image`).
    let imageGate = ImageGate()

    /// A JSON body. A body declared as something else (a form, plain text) is 415, not parsed as JSON;
    /// one sent without a Content-Type is read as JSON, as the API always has.
    static func decodeJSON<T: Decodable>(
        _ type: T.Type, _ request: Request, _ context: StationRequestContext
    )
        async throws -> T
    {
        if let media = mediaType(request) {
            guard media == "application/json" || (media.hasPrefix("application/") && media.hasSuffix("+json"))
            else { throw Problem.unsupportedMediaType }
        }
        return try await request.decode(as: type, context: context)
    }

    /// The declared Content-Type without its parameters, lower-cased; nil when none is declared.
    static func mediaType(_ request: Request) -> String? {
        request.headers[.contentType].map {
            ($0.split(separator: ";").first.map(String.init) ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        }
    }

    func status() throws -> Response {
        try json(StationStatus.read(service, camera: camera.cameraStatus()))
    }

    func submit(_ request: Request, _ context: StationRequestContext) async throws -> Response {
        let scan = try await Self.decodeJSON(ScanRequest.self, request, context)
        guard scan.token.utf8.count <= 4096 else { throw Problem.badRequest("token is longer than 4096 bytes") }
        return try json(await verdict(on: Array(scan.token.utf8), source: try Self.source(scan.source ?? "api")))
    }

    /// Where a scan came from, as the audit records it: 1 to 32 letters, digits or hyphens.
    static func source(_ source: String) throws -> String {
        guard (1...32).contains(source.count),
            source.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
        else { throw Problem.badRequest("source must be 1 to 32 letters, digits or hyphens") }
        return source
    }

    /// A token text through the station's policy, as every scan goes: the verdict, and online the
    /// visit opened at the cloud within the same request (offline it stays pending).
    func verdict(on token: [UInt8], source: String) async throws -> ScanResponse {
        try await verdicts(on: [token], source: source)[0]
    }

    /// Several token texts (the codes of one picture): each submitted, then one wait for the cloud for
    /// all of them, not one wait each.
    func verdicts(on tokens: [[UInt8]], source: String) async throws -> [ScanResponse] {
        let service = service
        var outcomes: [StationPolicy.Outcome] = []
        for token in tokens { outcomes.append(try await Blocking.run { try service.submit(token, source: source) }) }
        if outcomes.contains(where: { $0.session?.cloud?.state == .pendingCloud }), let uplink = service.uplink {
            await uplink.flush(timeout: Self.cloudWait)
            for index in outcomes.indices {
                guard let session = outcomes[index].session, session.cloud?.state == .pendingCloud else { continue }
                outcomes[index].session =
                    try await Blocking.run { try service.sessions.session(id: session.id) } ?? session
            }
        }
        return outcomes.map { outcome in
            ScanResponse(
                accepted: outcome.accepted, code: outcome.code, reason: outcome.reason, holder: outcome.maskedHolder,
                session: outcome.session.map(SessionSummary.init),
                superseded: outcome.superseded.map(SessionSummary.init))
        }
    }

    /// How long a scan's answer waits for the cloud's grant before it says `pending_cloud`.
    static let cloudWait: Duration = .seconds(3)

    /// `POST /v1/practitioner/login`: the certificate is checked against the cloud's CA and the key
    /// against the certificate; the credential stays in memory for the shift.
    func login(_ request: Request, _ context: StationRequestContext) async throws -> Response {
        guard let rules = service.logins else { throw Problem.cloudNotConfigured }
        let asked = try await Self.decodeJSON(LoginRequest.self, request, context)
        let shift =
            try asked.shiftHours.map { hours -> Int64 in
                guard hours.isFinite, hours > 0, hours <= 24 else {
                    throw Problem.badRequest("shiftHours must be from 0 to 24")
                }
                return Int64(hours * 3600)
            } ?? rules.shiftSeconds
        let now = service.clock()
        let credential: PractitionerCredential
        do {
            credential = try await PractitionerCredential(
                certificatePEM: asked.certificate, keyPEM: asked.key, authority: rules.authority, now: now,
                until: now + shift)
        } catch {
            throw Problem(
                status: .unprocessableContent, code: .credentialInvalid,
                title: "The practitioner credential is refused",
                detail: error.description)
        }
        // Asked before the desk is taken, so a practitioner the cloud would refuse signs nothing.
        let affiliation =
            await service.uplink?.checkAffiliation(certificate: credential.certificate)
            ?? .unchecked("the station forwards to no cloud")
        let service = service
        if case .refused(let code, let detail) = affiliation {
            try await Blocking.run { try service.loginRefused(credential, code: code) }
            throw Problem(
                status: .forbidden, code: APIErrorCode(rawValue: code),
                title: "The cloud refuses this practitioner for this institution",
                detail: "\(credential.status.name) (\(credential.status.id)): \(detail.isEmpty ? code : detail)")
        }
        let signed = try await Blocking.run { try service.login(credential) }
        if signed > 0, let uplink = service.uplink { await uplink.flush(timeout: Self.cloudWait) }
        var answer = LoginResponse(practitioner: credential.status, signed: signed, affiliation: .confirmed)
        if case .unchecked(let why) = affiliation {
            answer.affiliation = .unchecked
            answer.affiliationNote = why
        }
        return try json(answer)
    }

    func logout() async throws -> Response {
        let service = service
        _ = try await Blocking.run { try service.logout() }
        return try json(LoginResponse(practitioner: nil, signed: 0))
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

    /// `POST /v1/consents`: asks the patient, through the cloud, to consent to a remote visit. The
    /// answer is the request (patient masked); approval opens a session as a scan, and refusal or
    /// timeout are events.
    func requestConsent(_ request: Request, _ context: StationRequestContext) async throws -> Response {
        let asked = try await Self.decodeJSON(StationConsentRequest.self, request, context)
        guard TaiwanID.isValid(asked.patientId) else { throw Problem.badRequest("patientId must be a valid ID number") }
        let setting: CareSetting
        if let text = asked.setting {
            guard let named = CareSetting(rawValue: text), ConsentRequest.remoteSettings.contains(named) else {
                throw Problem.badRequest("setting must be telemedicine or video_consultation")
            }
            setting = named
        } else if let station = service.settings.forwarding?.setting, ConsentRequest.remoteSettings.contains(station) {
            setting = station
        } else {
            setting = .telemedicine
        }
        let consent = try await uplink().requestConsent(patientID: asked.patientId, setting: setting)
        return try json(consent)
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

    /// `GET /v1/stats/day`: today's scans per hour and refusals by code (Asia/Taipei's day).
    func day() throws -> Response {
        try json(service.audit.dayStatistics(now: service.clock()))
    }

    /// `POST /v1/web/links` (Unix socket): a one-time sign-in link for the page; audited.
    func webLink(_ web: WebSignIns?, _ context: StationRequestContext) throws -> Response {
        guard let web else {
            throw Problem(
                status: .conflict, code: .webNotConfigured, title: "The station serves no page",
                detail: "the page is served on the loopback TCP listener: set api.tcp and api.token_file")
        }
        let link = web.issueLink()
        try service.audit.append(
            at: service.clock(), kind: .webLinkIssued,
            detail: ["client": context.client, "expires_at": "\(link.expiresAt)"])
        return try json(link)
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

    /// The operator's way out of a wrong clock mark (docs/openapi.yaml); audited with their name.
    func resetClock(_ request: Request, _ context: StationRequestContext) async throws -> Response {
        let asked = try await Self.decodeJSON(ClockResetRequest.self, request, context)
        let name = asked.operator.trimmingCharacters(in: .whitespaces)
        guard (1...64).contains(name.count),
            !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else { throw Problem.badRequest("operator must be 1 to 64 characters, no control characters") }
        let now = service.clock()
        let trust = service.trust
        let previous = try await Blocking.run { try trust.resetHighWater(now: now, operator: name) }
        return try json(ClockResetResponse(previousHighWater: previous, highWater: now))
    }

    func close(_ context: StationRequestContext) throws -> Response {
        try json(context.shown(service.close(sessionID: try sessionID(context))))
    }

    /// Server-sent events: one `event:`/`id:`/`data:` block per station event, and a comment line
    /// every `keepAlive` seconds so proxies and clients see the stream is alive. `Last-Event-ID`
    /// replays the kept events after that id first.
    func events(
        _ request: Request, closed: EventLoopFuture<Void>, stillSignedIn: @escaping @Sendable () -> Bool = { true }
    ) -> Response {
        // A reconnecting client names the last event it saw and gets the kept ones after it.
        // `?after=` says the same for a first connection, which an EventSource cannot give headers (a page
        // reloaded picks up where it was).
        let lastEventID =
            request.headers[HTTPField.Name("Last-Event-ID")!].flatMap { Int64($0) }
            ?? request.uri.queryParameters["after"].flatMap { Int64($0) }
        let stream = service.events.subscribe(after: lastEventID)
        let keepAlive = keepAlive
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                // Events and keep-alive comments meet in one stream with one writer.
                let (output, sink) = AsyncStream.makeStream(of: ByteBuffer.self, bufferingPolicy: .bufferingNewest(512))
                // A client that hangs up ends its stream now, and with it the subscription; waiting for
                // the next write to fail would keep every closed stream until the next keep-alive.
                closed.whenComplete { _ in sink.finish() }
                sink.yield(ByteBuffer(string: ": vhc-station events\n\n"))
                let producers = Task {
                    await withTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for await event in stream { sink.yield(Self.serverSentEvent(event)) }
                            sink.finish()  // the bus finished: the daemon is stopping
                        }
                        group.addTask {
                            // Each beat also checks the sign-in: a page signed out stops receiving.
                            while (try? await Task.sleep(for: .seconds(keepAlive))) != nil, stillSignedIn() {
                                sink.yield(ByteBuffer(string: ": keep-alive\n\n"))
                            }
                            sink.finish()
                        }
                        await group.next()
                        group.cancelAll()
                    }
                }
                // A client that goes away makes a write throw: stop feeding it (and unsubscribe).
                defer { producers.cancel() }
                for await buffer in output { try await writer.write(buffer) }
                // After a hang-up there is nothing left to finish.
                try? await writer.finish(nil)
            })
    }

    static func serverSentEvent(_ event: StationEvent) -> ByteBuffer {
        let data = (try? Self.encoder.encode(event)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return ByteBuffer(string: "id: \(event.id)\nevent: \(event.type)\ndata: \(data)\n\n")
    }

    func sessionID(_ context: StationRequestContext) throws -> String {
        let id = try context.parameters.require("id")
        guard id.count <= 64, id.allSatisfy({ $0.isASCII && ($0.isHexDigit || $0 == "-") }) else {
            throw SessionError(.sessionNotFound, "no session \(id.prefix(64))")
        }
        return id
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    func json(_ value: some Encodable, contentType: String = "application/json") throws -> Response {
        Response(
            status: .ok, headers: [.contentType: contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: try Self.encoder.encode(value))))
    }
}
