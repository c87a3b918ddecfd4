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

/// The page's routes on the TCP listener: its files, the sign-in by link and the sign-out.
struct WebPage: Sendable {
    let signIns: WebSignIns
    let station: StationService

    /// Paths anyone may GET: the page, its files by exact name, and the sign-in (which checks its link
    /// itself). An allow-list, not a prefix: `/web/../v1/status` must not slip past the access check.
    static func isOpen(_ path: String) -> Bool {
        if path == "/" || path == "/web/signin" { return true }
        guard path.hasPrefix("/web/") else { return false }
        let name = path.dropFirst("/web/".count)
        return !name.contains("/") && PageFiles.named(String(name)) != nil
    }

    var routes: RouteCollection<StationRequestContext> {
        _ = CompressedPageFiles.gzipped  // compressed now, not during the first browser's cold load
        let router = RouteCollection(context: StationRequestContext.self)
        let (signIns, station) = (signIns, station)
        router.get("/") { request, _ in try Self.file("index.html", acceptEncoding: request.headers[.acceptEncoding]) }
        // Database work (the sign-in's row, the audit) runs off the event loop, as the API's does.
        router.get("/web/signin") { request, context in
            try await Blocking.run { try Self.signIn(request, context: context, signIns: signIns, station: station) }
        }
        router.get("/web/{file}") { request, context in
            try Self.file(try context.parameters.require("file"), acceptEncoding: request.headers[.acceptEncoding])
        }
        router.get("/v1/web/settings") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: try Routes.encoder.encode(signIns.page))))
        }
        router.post("/v1/web/signout") { request, context in
            // The access check let only a signed-in page here.
            let cookie = request.cookies[signIns.cookieName]?.value
            try await Blocking.run {
                if let cookie { signIns.signOut(cookie: cookie) }
                _ = try? station.recordWebSignIn(.webSignedOut, detail: ["client": context.client])
            }
            var response = Response(status: .noContent)
            response.setCookie(
                Cookie(
                    name: signIns.cookieName, value: "", maxAge: 0, path: "/", httpOnly: true, sameSite: .strict))
            return response
        }
        return router
    }

    /// A page file, gzip-compressed when the browser accepts it (`CompressedPageFiles`).
    static func file(_ name: String, acceptEncoding: String?) throws -> Response {
        guard let file = PageFiles.named(name) else {
            throw Problem(
                status: .notFound, code: .routeNotFound, title: "No such page file", detail: "no page file \(name)")
        }
        var headers: HTTPFields = [.contentType: file.contentType, .cacheControl: "no-cache", .vary: "Accept-Encoding"]
        if CompressedPageFiles.acceptsGzip(acceptEncoding), let packed = CompressedPageFiles.gzipped[name] {
            headers[.contentEncoding] = "gzip"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: packed))
        }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(staticString: file.body)))
    }

    /// `GET /web/signin?link=…`: a valid, unused link sets the session cookie and sends the browser to
    /// the page, so the secret leaves the address bar; anything else is a page that says what to do.
    static func signIn(
        _ request: Request, context: StationRequestContext, signIns: WebSignIns, station: StationService
    ) throws -> Response {
        let link = request.uri.queryParameters["link"].map(String.init) ?? ""
        // Refusals are not audited: anyone on loopback could otherwise fill the append-only log.
        guard link.count <= 128, let signIn = signIns.redeem(link: link) else {
            station.metrics.signIn(accepted: false)  // counted, not audited: a number cannot fill a disk
            return Response(
                status: .forbidden, headers: [.contentType: "text/html; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: refusedPage)))
        }
        try station.recordWebSignIn(.webSignedIn, detail: ["client": context.client])
        station.metrics.signIn(accepted: true)
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
