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

/// Who may use the front-desk page. `vhc web` asks over the Unix socket (whose group already decides
/// who runs the station) for a one-time link; the browser that opens it gets two secrets for the shift:
/// an HttpOnly, SameSite=Strict session cookie (which the page's scripts cannot read) and a page key the
/// page keeps in its origin's storage and sends as `X-VHC-Page-Key`. Browsers send a host's cookies to
/// every port of it, so the cookie alone would reach any other listener on loopback the clerk's browser
/// visits; origin storage is per port, so the key binds the sign-in to this station. Only SHA-256
/// digests are kept: links in memory, sign-ins also in the station's database (`WebSessionStore`), so a
/// screen stays signed in across a restart and nothing on disk can be replayed.
public final class WebSignIns: Sendable {
    /// The page's own origin (`http://127.0.0.1:8787`): links point there, state-changing requests
    /// must come from there (or its `localhost` spelling).
    public let origin: String
    public let allowedOrigins: Set<String>
    /// Port-specific, so two stations on one machine keep apart cookies.
    public let cookieName: String
    public static let pageKeyHeader = HTTPField.Name("X-VHC-Page-Key")!
    public let linkSeconds: Int64
    public let sessionSeconds: Int64
    let clock: @Sendable () -> Int64
    private let state = Mutex(State())
    /// Where sign-ins outlive a restart (the station's database); nil keeps them in memory only.
    private let store: WebSessionStore?

    private struct State {
        /// By digest: links not used yet, and signed-in browsers (by their cookie's digest).
        var links: [Data: Kept] = [:]
        var sessions: [Data: Kept] = [:]
        /// Counts up with each link or session: the oldest goes first when the table is full, and a
        /// session's number tells the audit log which sign-in did what.
        var serial = 0
    }

    private struct Kept {
        var expiry: Int64
        var serial: Int
        /// A session's page key, hashed.
        var pageKey = Data()
    }

    /// A browser's sign-in: the cookie's value, the page key, and when both end.
    struct SignIn {
        var cookie: String
        var pageKey: String
        var expiresAt: Int64
    }

    /// Outstanding links and sessions are bounded: a script asking for links in a loop cannot grow
    /// the daemon's memory. The oldest go first.
    static let maximumKept = 64

    public init(
        host: String, port: Int, sessionSeconds: Int64, linkSeconds: Int64 = 300, store: WebSessionStore? = nil,
        clock: @escaping @Sendable () -> Int64
    ) {
        self.store = store
        state.withLock { $0.serial = (try? store?.highestSerial()) ?? 0 }
        let hostInURL = host.contains(":") ? "[\(host)]" : host
        origin = "http://\(hostInURL):\(port)"
        var origins: Set<String> = [origin]
        if ["127.0.0.1", "::1", "localhost"].contains(host) { origins.insert("http://localhost:\(port)") }
        allowedOrigins = origins
        cookieName = "vhc_desk_\(port)"
        self.linkSeconds = linkSeconds
        self.sessionSeconds = sessionSeconds
        self.clock = clock
    }

    /// A fresh one-time link.
    public func issueLink() -> WebLink {
        let secret = Self.secret()
        let now = clock()
        let expiresAt = now + linkSeconds
        state.withLock { state in
            state.serial += 1
            Self.keep(&state.links, Self.digest(secret), Kept(expiry: expiresAt, serial: state.serial), now: now)
        }
        return WebLink(
            url: "\(origin)/web/signin?link=\(secret)", expiresAt: expiresAt, sessionSeconds: sessionSeconds)
    }

    /// The link's secret turned into a sign-in, once; nil when unknown, used or expired.
    func redeem(link: String) -> SignIn? {
        let now = clock()
        let key = Self.digest(link)
        let made: (SignIn, Kept)? = state.withLock { state in
            guard let link = state.links.removeValue(forKey: key), link.expiry > now else { return nil }
            let signIn = SignIn(cookie: Self.secret(), pageKey: Self.secret(), expiresAt: now + sessionSeconds)
            state.serial += 1
            let kept = Kept(expiry: signIn.expiresAt, serial: state.serial, pageKey: Self.digest(signIn.pageKey))
            Self.keep(&state.sessions, Self.digest(signIn.cookie), kept, now: now)
            return (signIn, kept)
        }
        guard let (signIn, kept) = made else { return nil }
        // On disk too (outside the lock), so the screen survives a restart; if the write fails, the
        // sign-in lasts until one.
        try? store?.save(
            .init(
                cookieDigest: Self.digest(signIn.cookie), keyDigest: kept.pageKey, serial: kept.serial,
                expiresAt: kept.expiry), now: now, keep: Self.maximumKept)
        return signIn
    }

    /// The sign-in's number when the cookie and the page key are one live sign-in's; nil otherwise.
    func session(cookie: String, pageKey: String) -> Int? {
        let now = clock()
        let key = Self.digest(cookie)
        // Both digests are compared whole (Data's ==), and only after the lookup by the cookie's.
        let presentedKey = Self.digest(pageKey)
        var session = state.withLock { $0.sessions[key] }
        if session == nil, let stored = try? store?.find(cookieDigest: key, now: now) {
            // Signed in before the daemon last started: known again from the database.
            let kept = Kept(expiry: stored.expiresAt, serial: stored.serial, pageKey: stored.keyDigest)
            state.withLock { Self.keep(&$0.sessions, key, kept, now: now) }
            session = kept
        }
        guard let session else { return nil }
        if session.expiry <= now { _ = state.withLock { $0.sessions.removeValue(forKey: key) } }
        return session.expiry > now && session.pageKey == presentedKey ? session.serial : nil
    }

    func signOut(cookie: String) {
        let key = Self.digest(cookie)
        _ = state.withLock { $0.sessions.removeValue(forKey: key) }
        try? store?.remove(cookieDigest: key)
    }

    private static func keep(_ table: inout [Data: Kept], _ key: Data, _ kept: Kept, now: Int64) {
        table = table.filter { $0.value.expiry > now }
        while table.count >= maximumKept, let oldest = table.min(by: { $0.value.serial < $1.value.serial }) {
            table[oldest.key] = nil
        }
        table[key] = kept
    }

    /// 256 random bits as hex: URL- and cookie-safe, from the project's one source of random ids.
    private static func secret() -> String { Hex.encode(VisitOpening.random(count: 32)) }

    private static func digest(_ text: String) -> Data { Data(SHA256.hash(data: Data(text.utf8))) }
}

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

/// The headers every answer on the TCP listener carries: a strict Content-Security-Policy (the page's
/// own scripts and styles only, no inline code, no other origin, no framing), no MIME sniffing, no
/// Referer, and no caching of answers that hold patients' data.
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = StationRequestContext
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        + "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        var response = try await next(request, context)
        response.headers[HTTPField.Name("Content-Security-Policy")!] = Self.contentSecurityPolicy
        response.headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        response.headers[HTTPField.Name("Cross-Origin-Opener-Policy")!] = "same-origin"
        response.headers[HTTPField.Name("Cross-Origin-Resource-Policy")!] = "same-origin"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}

/// The page's routes on the TCP listener: its files, the sign-in by link and the sign-out.
enum WebPage {
    /// Paths anyone may GET: the page, its files by exact name, and the sign-in (which checks its link
    /// itself). An allow-list, not a prefix: `/web/../v1/status` must not slip past the access check.
    static func isOpen(_ path: String) -> Bool {
        if path == "/" || path == "/web/signin" { return true }
        guard path.hasPrefix("/web/") else { return false }
        let name = path.dropFirst("/web/".count)
        return !name.contains("/") && PageFiles.named(String(name)) != nil
    }

    static func add(to router: Router<StationRequestContext>, signIns: WebSignIns, audit: AuditLog) {
        router.get("/") { _, _ in try file("index.html") }
        // Database work (the sign-in's row, the audit) runs off the event loop, as the API's does.
        router.get("/web/signin") { request, context in
            try await Blocking.run { try signIn(request, context: context, signIns: signIns, audit: audit) }
        }
        router.get("/web/{file}") { _, context in try file(try context.parameters.require("file")) }
        router.post("/v1/web/signout") { request, context in
            // The access check let only a signed-in page here.
            let cookie = request.cookies[signIns.cookieName]?.value
            try await Blocking.run {
                if let cookie { signIns.signOut(cookie: cookie) }
                _ = try? audit.append(at: signIns.clock(), kind: .webSignedOut, detail: ["client": context.client])
            }
            var response = Response(status: .noContent)
            response.setCookie(
                Cookie(
                    name: signIns.cookieName, value: "", maxAge: 0, path: "/", httpOnly: true, sameSite: .strict))
            return response
        }
    }

    static func file(_ name: String) throws -> Response {
        guard let file = PageFiles.named(name) else {
            throw Problem(
                status: .notFound, code: .routeNotFound, title: "No such page file", detail: "no page file \(name)")
        }
        return Response(
            status: .ok, headers: [.contentType: file.contentType, .cacheControl: "no-cache"],
            body: ResponseBody(byteBuffer: ByteBuffer(staticString: file.body)))
    }

    /// `GET /web/signin?link=…`: a valid, unused link sets the session cookie and sends the browser to
    /// the page, so the secret leaves the address bar; anything else is a page that says what to do.
    static func signIn(
        _ request: Request, context: StationRequestContext, signIns: WebSignIns, audit: AuditLog
    ) throws -> Response {
        let link = request.uri.queryParameters["link"].map(String.init) ?? ""
        // Refusals are not audited: anyone on loopback could otherwise fill the append-only log.
        guard link.count <= 128, let signIn = signIns.redeem(link: link) else {
            return Response(
                status: .forbidden, headers: [.contentType: "text/html; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: refusedPage)))
        }
        try audit.append(at: signIns.clock(), kind: .webSignedIn, detail: ["client": context.client])
        // The page key rides in the fragment, which the browser never sends on: the page stores it.
        var response = Response(status: .seeOther, headers: [.location: "/#key=\(signIn.pageKey)"])
        response.setCookie(
            Cookie(
                name: signIns.cookieName, value: signIn.cookie, maxAge: Int(signIns.sessionSeconds), path: "/",
                httpOnly: true, sameSite: .strict))
        return response
    }

    /// Static, no script: what a used or expired link shows.
    static let refusedPage = """
        <!doctype html>
        <html lang="zh-Hant"><head><meta charset="utf-8"><title>連結無效 · Link refused</title>
        <link rel="stylesheet" href="/web/style.css"></head>
        <body><div class="signin" id="link-refused" data-code="web_link_invalid">
        <h1>此登入連結已使用過或已過期</h1>
        <p lang="en">This sign-in link was used already or has expired.</p>
        <p>請在本機重新執行 <code>vhc web</code> 取得新的連結。</p>
        <p lang="en">Run <code>vhc web</code> on the station for a new one.</p>
        <p><code>web_link_invalid</code></p></div></body></html>
        """
}
