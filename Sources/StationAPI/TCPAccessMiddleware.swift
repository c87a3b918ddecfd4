import CloudProtocol
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Station
import StationModels
import StationWeb
import Synchronization
import VirtualCard

/// Access on the loopback TCP listener. Machines (the HIS) send the bearer token; browsers send the
/// page's session cookie and page key, and then every request that changes something must carry the
/// page's own `Origin` (a forged cross-site form or fetch cannot). The page's files and its sign-in are
/// open: they hold no data.
struct TCPAccessMiddleware: RouterMiddleware {
    typealias Context = StationRequestContext
    let expectedDigest: SHA256.Digest
    let web: WebSignIns?

    init(token: String, web: WebSignIns?) {
        expectedDigest = SHA256.hash(data: Data(token.utf8))
        self.web = web
    }

    static var safeMethods: Set<HTTPRequest.Method> { [.get, .head, .options] }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        var context = context
        if web != nil, request.method == .get || request.method == .head, WebPage.isOpen(request.uri.path) {
            return try await next(request, context)
        }
        if let header = request.headers[.authorization] {
            let presented = header.hasPrefix("Bearer ") ? String(header.dropFirst("Bearer ".count)) : ""
            // Comparing fixed-length digests: the time does not depend on where the strings differ.
            guard !presented.isEmpty, SHA256.hash(data: Data(presented.utf8)) == expectedDigest else {
                return Self.unauthorized()
            }
            context.access = .machine
            return try await next(request, context)
        }
        // An EventSource cannot send headers: the event stream takes the page key as `?key=`.
        let pageKey =
            request.headers[WebSignIns.pageKeyHeader] ?? request.uri.queryParameters["key"].map(String.init) ?? ""
        guard let web, let cookie = request.cookies[web.cookieName]?.value,
            let serial = web.session(cookie: cookie, pageKey: pageKey)
        else { return Self.unauthorized() }
        if !Self.safeMethods.contains(request.method) {
            let origin = request.headers[.origin]
            guard let origin, web.allowedOrigins.contains(origin) else {
                return Problem(
                    status: .forbidden, code: .originRefused, title: "The request does not come from the page",
                    detail: "a browser's state-changing request must carry the station page's Origin"
                ).response()
            }
        }
        context.access = .browser
        context.client += " page \(serial)"
        // A long answer (the event stream) ends when the sign-in does: signed out, or the shift over.
        context.stillSignedIn = { web.session(cookie: cookie, pageKey: pageKey) != nil }
        return try await next(request, context)
    }

    static func unauthorized() -> Response {
        var response = Problem(
            status: .unauthorized, code: .unauthorized, title: "A valid bearer token or page sign-in is required",
            detail:
                "send Authorization: Bearer with the token from the station's api.token_file, or sign the page in with `vhc web`"
        ).response()
        response.headers[.wwwAuthenticate] = #"Bearer realm="vhc-station""#
        return response
    }
}
