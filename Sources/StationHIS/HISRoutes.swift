import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Station
import StationModels
import VirtualCard

/// The compatibility listener's calls (issue 24, docs/his-compatibility.md): the paths and JSON shapes of
/// NHIA's card control software as public HIS code uses them, answered by the station. Every request may
/// carry a JSON body, `GET` and `DELETE` included; every answer is HTTP 200 with a `statusCode`.
package struct HISRoutes: Sendable {
    /// Where a visit the HIS registered with a token came from, as the audit and the sessions say.
    package static let source = "his"
    /// A body larger than this is refused unread (a token is 250–320 characters).
    static let maximumBody = 256 << 10
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    let desk: HISDesk
    /// The institution's credential, when the station has one (it forwards to a cloud).
    let signer: HISInstitutionSigner?
    var service: StationService { desk.service }

    /// The listener's router: its calls, behind the middleware that answers every failure as a `statusCode`.
    package static func router(
        desk: HISDesk, signer: HISInstitutionSigner? = nil, bearerToken: String?, logger: Logger
    ) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: HISAnswerMiddleware(bearerToken: bearerToken, logger: logger))
        let routes = HISRoutes(desk: desk, signer: signer)
        router.get("/api/common/v1/Status") { _, _ in try await Blocking.run { try routes.status() } }
        router.post("/api/common/v1/Initial") { _, _ in
            try answer(HISPlainAnswer(desk.initialise() ? .success : .alreadyInitialised))
        }
        router.post("/api/common/v1/Finalize") { _, _ in
            desk.finalise()
            return try answer(HISPlainAnswer(.success))
        }
        // Called before every card read: the console forgets the card it read; the station holds none.
        router.delete("/api/hc/v1/Logout") { _, _ in try answer(HISPlainAnswer(.success)) }
        router.post("/api/hc/v1/VirtualHc/ReadBasic") { request, _ in try await routes.readBasic(request) }
        router.post("/api/hc/v1/Verification/VirtualHc") { request, _ in try await routes.verification(request) }
        router.post("/api/sam/v1/Signature") { request, _ in try await routes.samSignature(request) }
        router.post("/api/hc/v1/Signature/Hc") { request, _ in try await routes.cardSignature(request) }
        router.post("/api/v1/SequelNumber/Next") { request, _ in try await routes.nextSequence(request) }
        router.post("/api/v1/SequelNumber/Rollback") { request, _ in try await routes.rollback(request) }
        router.post("/api/v1/TeleMedicine/RequestToken") { request, _ in try await routes.requestToken(request) }
        router.post("/api/v1/TeleMedicine/ResponseToken") { request, _ in try await routes.responseToken(request) }
        return router
    }

    static func answer(_ body: some Encodable) throws -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: try encoder.encode(body))))
    }

    func status() throws -> Response {
        let now = service.clock()
        let status = HISStatusAnswer.Status(
            initialized: desk.initialized, sam: .init(status: service.uplink == nil ? 0 : 2),
            hpc: .init(status: service.desk.credential(at: now) == nil ? 0 : 3),
            hc: .init(status: try desk.cardInReader() == nil ? 0 : 1))
        return try Self.answer(HISStatusAnswer(statusCode: .success, status: status))
    }

    /// Reads the token's holder without consuming it, or the card in the reader with `{}`. Audited: the
    /// HIS learns a holder's full identity.
    func readBasic(_ request: Request) async throws -> Response {
        let asked = try await Self.tokenRequest(request)
        let (service, routes) = (service, self)
        let answer: any Encodable & Sendable = try await Blocking.run {
            let basic: HISBasicAnswer
            if let token = asked.token, let named = try routes.consentVisit(token) {
                switch named {
                case .failure(let refusal): return refusal
                case .success(let session):
                    guard let read = HISBasicAnswer(session: session) else { return HISPlainAnswer(.internalError) }
                    basic = read
                }
            } else if let token = asked.token {
                let (code, claims) = try service.policy.inspect(Array(token.utf8), now: service.clock())
                guard let claims else {
                    return HISPlainAnswer(HISStatusCode(code), StationReason(code: code).en)
                }
                basic = HISBasicAnswer(
                    holderID: claims.holder.id, name: claims.holder.name, birthDate: claims.holder.birthDate,
                    cardNumber: claims.cardNumber, identityStatus: nil)
            } else {
                guard let session = try desk.cardInReader(), let read = HISBasicAnswer(session: session) else {
                    return HISPlainAnswer(.tokenMissing, "no token, and no card in the reader")
                }
                basic = read
            }
            try service.audit.append(
                at: service.clock(), kind: .hisCardRead, subject: "-",
                detail: ["holder": VisitSession.masked(id: basic.idNo, name: basic.name)])
            return basic
        }
        return try Self.answer(answer)
    }

    /// The scan: a token verified, consumed and its visit opened (and forwarded) as any scan is, with source
    /// `his`; or, with `{}`, the card in the reader taken by the HIS (its visit is already open).
    func verification(_ request: Request) async throws -> Response {
        let asked = try await Self.tokenRequest(request)
        let desk = desk
        if let token = asked.token, let named = try await Blocking.run({ try self.consentVisit(token) }) {
            switch named {
            case .failure(let refusal): return try Self.answer(refusal)
            case .success(let session):
                try await Blocking.run { try desk.take(session) }
                return try Self.answer(HISPlainAnswer(.success))
            }
        }
        if let token = asked.token {
            let outcome = try await service.submitGrouped(Array(token.utf8), source: Self.source)
            if let session = outcome.session { desk.registering(session) }
            return try Self.answer(HISPlainAnswer(HISStatusCode(outcome.code), outcome.reason.en))
        }
        return try Self.answer(
            try await Blocking.run {
                guard let session = try desk.cardInReader() else {
                    return HISPlainAnswer(.tokenMissing, "no token, and no card in the reader")
                }
                try desk.take(session)
                return HISPlainAnswer(.success)
            })
    }

    /// The body as `type`; nil for an empty body. Not JSON of that shape, or over `maximumBody`, is refused
    /// (thrown) with its `statusCode`.
    static func body<T: Decodable>(_ request: Request, as type: T.Type) async throws(HISPlainAnswer) -> T? {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maximumBody)
        } catch {
            throw HISPlainAnswer(.requestMalformed, "the body is over \(maximumBody) bytes")
        }
        guard body.readableBytes > 0 else { return nil }
        guard let decoded = try? JSONDecoder().decode(type, from: Data(buffer: body)) else {
            throw HISPlainAnswer(.requestMalformed, "the body is not the JSON object this call takes")
        }
        return decoded
    }

    /// The body a call cannot do without: an empty one is refused, `missing` saying what to send.
    static func requiredBody<T: Decodable>(_ request: Request, as type: T.Type, missing: String) async throws(HISPlainAnswer)
        -> T
    {
        guard let decoded = try await body(request, as: type) else { throw HISPlainAnswer(.requestMalformed, missing) }
        return decoded
    }

    /// The body as a token request: empty or `{}` (no token), `{"token": "…"}`; anything else, or a token
    /// over the API's 4 KiB, is refused with its `statusCode`.
    static func tokenRequest(_ request: Request) async throws(HISPlainAnswer) -> HISTokenRequest {
        guard let token = try await body(request, as: HISTokenRequest.self)?.token, !token.isEmpty else {
            return HISTokenRequest(token: nil)
        }
        guard token.utf8.count <= 4096 else { throw HISPlainAnswer(.tokenFormat, "the token is longer than 4096 bytes") }
        return HISTokenRequest(token: token)
    }
}
