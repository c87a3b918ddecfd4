import CloudProtocol
import ConnectionGuards
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import VirtualCard

/// The cloud's HTTP routes (docs/cloud-openapi.yaml). Lists need no certificate and the app's routes
/// (`/v1/app/…`) an app secret instead; everything under `/v1/visits`, `/v1/consents`, `/v1/consumed`
/// and `/v1/audit-heads` goes through `InstitutionGate` first.
struct CloudRoutes: Sendable {
    let cloud: SandboxCloud
    let connections: ConnectionLedger?

    func register(on router: Router<CloudRequestContext>) {
        let methods = RouteMethods()
        router.add(middleware: CloudProblemMiddleware(methods: methods))
        router.get("/v1/health") { _, _ in try await health() }
        router.get("/v1/trust-list") { request, _ in try await list(.trust, request) }
        router.get("/v1/revocations") { request, _ in try await list(.revocation, request) }
        // §2: every path under these needs the institution's certificate, routed or not, so an unknown
        // path or method there is also refused without one.
        router.add(
            middleware: InstitutionGate(
                cloud: cloud,
                prefixes: ["/v1/visits", "/v1/consents", "/v1/consumed", "/v1/audit-heads", "/v1/affiliations"]))
        router.post("/v1/visits") { request, context in try await openVisit(request, context) }
        router.get("/v1/visits/{grant}") { _, context in try await grantStatus(context) }
        router.post("/v1/consumed") { request, context in try await consumed(request, context) }
        router.post("/v1/affiliations") { request, context in try await affiliation(request, context) }
        router.post("/v1/audit-heads") { request, context in try await auditHead(request, context) }
        router.get("/v1/audit-heads") { request, context in try await auditHeads(request, context) }
        router.get("/v1/visits/{grant}/records/{category}") { request, context in try await records(request, context) }
        router.post("/v1/visits/{grant}/alerts") { request, context in try await alerts(request, context) }
        router.post("/v1/consents") { request, context in try await askConsent(request, context) }
        router.get("/v1/consents/{id}") { _, context in try await pollConsent(context) }
        router.delete("/v1/consents/{id}") { _, context in try await cancelConsent(context) }
        registerApp(on: router)
        methods.record(router.routes.map { ($0.path.description, $0.method.rawValue) })
    }

    func health() async throws -> Response {
        let served = cloud.lists.served()
        return try json(
            CloudHealth(
                status: served == nil ? "degraded" : "ok", trustListSequence: served?.trust.sequence,
                revocationListSequence: served?.revocation.sequence,
                connections: connections.map { ledger in
                    let counts = ledger.counts()
                    return .init(
                        handshaking: counts.handshaking, anonymous: counts.anonymous,
                        authenticated: counts.authenticated, limit: ledger.limits.maximumConnections,
                        reservedForAuthenticated: ledger.limits.reservedForAuthenticated, evicted: counts.evicted,
                        refused: counts.refused, handshakesTimedOut: counts.handshakesTimedOut,
                        requestsTooSlow: counts.requestsTooSlow)
                }))
    }

    /// §7: the current signed list, with a strong ETag and 304 on `If-None-Match`.
    func list(_ kind: ListKind, _ request: Request) async throws -> Response {
        guard let list = try await cloud.store.currentList(kind) else {
            throw CloudProblem(.serviceBusy, "the cloud has not published a \(kind.rawValue) list yet")
        }
        var headers: HTTPFields = [.eTag: list.etag, .cacheControl: "no-cache"]
        if let condition = request.headers[.ifNoneMatch], Self.matches(condition, etag: list.etag) {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = VisitOpening.mediaType
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: list.cose)))
    }

    /// RFC 9110 §13.1.2: `*` or a comma-separated list of tags (weak comparison).
    static func matches(_ condition: String, etag: String) -> Bool {
        let bare = { (tag: Substring) in
            tag.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "W/", with: "")
        }
        return condition.split(separator: ",").contains { bare($0) == "*" || bare($0) == etag }
    }

    /// §3: a visit opening. 201 the first time, 200 for the same request again.
    func openVisit(_ request: Request, _ context: CloudRequestContext) async throws -> Response {
        let institution = try context.requireInstitution()
        let body = try await collect(request, limit: VisitOpening.maximumSize)
        let answer = try await cloud.opener.open(body, institution: institution, now: cloud.clock())
        return try json(answer.grant, status: answer.isNew ? .created : .ok)
    }

    /// The grant's state, with the same checks every use of a grant gets (§3).
    func grantStatus(_ context: CloudRequestContext) async throws -> Response {
        let institution = try context.requireInstitution()
        let grant = try await cloud.usableGrant(try context.parameters.require("grant"), institution: institution)
        return try json(
            GrantStatus(
                grant: grant.grant, institution: grant.institution, setting: grant.setting,
                openedAt: UTCTimestamp.iso8601(grant.openedAt), expiresAt: UTCTimestamp.iso8601(grant.expiresAt)))
    }

    /// The project's extension: would this practitioner's openings pass for this institution?
    func affiliation(_ request: Request, _ context: CloudRequestContext) async throws -> Response {
        let institution = try context.requireInstitution()
        let check = try await decode(AffiliationCheck.self, request, limit: AffiliationCheck.maximumSize)
        guard let certificate = check.certificateDER, !certificate.isEmpty else {
            throw CloudProblem(.requestMalformed, "certificate must be a DER certificate in Base64")
        }
        let now = cloud.clock()
        let answer = try await cloud.opener.affiliation(certificate: certificate, institution: institution, now: now)
        try await cloud.store.audit(
            at: now, kind: .affiliationChecked, subject: answer.practitioner, detail: ["institution": institution.code])
        return try json(answer)
    }

    /// §7: token ids a station consumed offline.
    func consumed(_ request: Request, _ context: CloudRequestContext) async throws -> Response {
        let institution = try context.requireInstitution()
        let upload = try await decode(ConsumedUpload.self, request, limit: 128 * 1024)
        guard upload.tokenIds.count == upload.consumedAt.count else {
            throw CloudProblem(.requestMalformed, "tokenIds and consumedAt must have the same length")
        }
        guard upload.tokenIds.count <= ConsumedUpload.maximumCount else {
            throw CloudProblem(.requestMalformed, "at most \(ConsumedUpload.maximumCount) ids per upload")
        }
        var ids: [(tokenID: [UInt8], at: Int64)] = []
        for (text, at) in zip(upload.tokenIds, upload.consumedAt) {
            guard text.utf8.count == 32, let bytes = Hex.decode(text) else {
                throw CloudProblem(.requestMalformed, "each token id must be 32 hex digits")
            }
            guard at >= 0 else { throw CloudProblem(.requestMalformed, "consumedAt must be epoch seconds") }
            ids.append((bytes, at))
        }
        var doubleUse = try await cloud.store.recordConsumed(ids, institution: institution.code, now: cloud.clock())
        // Each id as the station wrote it (hex case included), so it can match its own records.
        let asSent = Dictionary(upload.tokenIds.map { ($0.lowercased(), $0) }, uniquingKeysWith: { first, _ in first })
        for index in doubleUse.indices {
            doubleUse[index].tokenId = asSent[doubleUse[index].tokenId] ?? doubleUse[index].tokenId
        }
        return try json(ConsumedAnswer(doubleUse: doubleUse))
    }

    func auditHead(_ request: Request, _ context: CloudRequestContext) async throws -> Response {
        let institution = try context.requireInstitution()
        let head = try await decode(AuditHeadUpload.self, request, limit: 4096)
        guard Self.isStationName(head.station) else {
            throw CloudProblem(.requestMalformed, "station must be 1 to 64 letters, digits, '.', '-' or '_'")
        }
        guard head.sequence >= 0, head.hash.utf8.count == 64, Hex.decode(head.hash) != nil else {
            throw CloudProblem(.requestMalformed, "sequence must be a count and hash 64 hex digits")
        }
        try await cloud.store.recordAuditHead(head, institution: institution.code, now: cloud.clock())
        return try json(head, status: .created)
    }

    func auditHeads(_ request: Request, _ context: CloudRequestContext) async throws -> Response {
        let institution = try context.requireInstitution()
        guard let station = request.uri.queryParameters["station"].map(String.init), Self.isStationName(station) else {
            throw CloudProblem(.requestMalformed, "name the station: ?station=NAME")
        }
        return try json(
            AuditHeadList(heads: try await cloud.store.auditHeads(station: station, institution: institution.code)))
    }

    static func isStationName(_ text: String) -> Bool {
        (1...64).contains(text.utf8.count)
            && text.unicodeScalars.allSatisfy {
                $0.isASCII
                    && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0))
            }
    }

    // MARK: - Bodies

    func collect(_ request: Request, limit: Int) async throws -> [UInt8] {
        do { return Array(buffer: try await request.body.collect(upTo: limit)) } catch is NIOTooManyBytesError {
            throw CloudProblem(.requestMalformed, "the body is larger than \(limit) bytes", status: 413)
        }
    }

    func decode<T: Decodable>(_ type: T.Type, _ request: Request, limit: Int) async throws -> T {
        let body = try await collect(request, limit: limit)
        do { return try JSONDecoder().decode(type, from: Data(body)) } catch {
            throw CloudProblem(.requestMalformed, "the body is not the JSON this route expects")
        }
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: try Self.encoder.encode(value))))
    }
}

/// Every error behind the routes as problem+json with its code; internal failures say only that
/// something failed (their detail goes to the log).
struct CloudProblemMiddleware: RouterMiddleware {
    typealias Context = CloudRequestContext
    /// A known path asked with another method is 405 with `Allow`.
    let methods: RouteMethods

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    )
        async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch let http as HTTPError where http.status == .notFound && methods.allowed(at: request.uri.path) != nil {
            let allowed = (methods.allowed(at: request.uri.path) ?? []).joined(separator: ", ")
            return Self.response(
                CloudProblem(.methodNotAllowed, "this route answers \(allowed)"), headers: [.allow: allowed])
        } catch {
            let problem = Self.problem(for: error)
            if problem.status >= 500 {
                context.logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            }
            return Self.response(problem)
        }
    }

    static func response(_ problem: CloudProblem, headers extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [.contentType: CloudProblem.mediaType]
        headers.append(contentsOf: extra)
        return Response(
            status: HTTPResponse.Status(code: problem.status), headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body(problem))))
    }

    static func body(_ problem: CloudProblem) -> [UInt8] {
        Array((try? CloudRoutes.encoder.encode(problem)) ?? Data(#"{"code":"internal_error"}"#.utf8))
    }

    static func problem(for error: any Error) -> CloudProblem {
        switch error {
        case let problem as CloudProblem: return problem
        case is NIOTooManyBytesError: return CloudProblem(.requestMalformed, "the body is too large", status: 413)
        case let http as HTTPError where http.status == .notFound:
            return CloudProblem(.routeNotFound, "see docs/cloud-openapi.yaml for the routes")
        case let http as HTTPError where http.status == .methodNotAllowed:
            return CloudProblem(.methodNotAllowed, "see docs/cloud-openapi.yaml for the methods of each route")
        case let http as HTTPError where http.status.code < 500:
            return CloudProblem(.requestMalformed, http.body ?? http.status.reasonPhrase, status: http.status.code)
        default:
            return CloudProblem(.internalError, "the cloud could not complete the request; see its log")
        }
    }
}
