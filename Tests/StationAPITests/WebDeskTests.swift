import CompressNIO
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Station
import StationAPI
import StationModels
import StationWeb
import Testing

/// The front-desk page's access rules on the router: one-time links, the session cookie, the Origin
/// check, the security headers, masking for browsers, the audited reveal and the day's figures. The
/// page itself is driven in a real browser by Tests/web/frontdesk_test.py.
@Suite("Front-desk page (router tests)")
struct WebDeskTests {
    static let bearer = "token-0123456789abcdef"
    static let origin = "http://127.0.0.1:8787"

    func signIns(
        _ fixture: APIFixture, sessionSeconds: Int64 = 8 * 3600, page: PageSettings = PageSettings()
    ) -> WebSignIns {
        let time = fixture.time
        return WebSignIns(host: "127.0.0.1", port: 8787, sessionSeconds: sessionSeconds, page: page, clock: { time.now })
    }

    @Test("GET /v1/web/settings tells a signed-in page the station's page.ready_seconds and page.capture_seconds")
    func pageSettings() async throws {
        let fixture = try APIFixture()
        let web = signIns(fixture, page: PageSettings(readySeconds: 7, captureSeconds: 45))
        try await fixture.app(bearerToken: Self.bearer, web: web).test(.router) { client in
            try await client.execute(uri: "/v1/web/settings", method: .get) { #expect($0.status == .unauthorized) }
            let browser = try await signIn(client, web.issueLink(), cookieName: web.cookieName)
            try await client.execute(uri: "/v1/web/settings", method: .get, headers: browser.headers) { response in
                #expect(response.status == .ok)
                let body = try json(response)
                #expect(body["readySeconds"] as? Int == 7 && body["captureSeconds"] as? Int == 45, "\(body)")
            }
        }
    }

    /// The link's path and query, as the browser asks for it.
    func path(of link: WebLink) throws -> String {
        let url = try #require(URL(string: link.url))
        return url.path + "?" + (url.query ?? "")
    }

    /// What a signed-in page sends: its cookie and its page key.
    struct Browser {
        var cookie: String
        var key: String
        var headers: HTTPFields { [.cookie: cookie, WebSignIns.pageKeyHeader: key] }
        /// For a state-changing request from the page itself.
        var posting: HTTPFields {
            var fields = headers
            fields[.origin] = WebDeskTests.origin
            fields[.contentType] = "application/json"
            return fields
        }
    }

    /// Signs in through `link` as a browser does: the cookie from `Set-Cookie`, the key from the redirect's
    /// fragment.
    func signIn(_ client: some TestClientProtocol, _ link: WebLink, cookieName: String) async throws -> Browser {
        try await client.execute(uri: try path(of: link), method: .get) { response in
            #expect(response.status == .seeOther)
            let location = try #require(response.headers[.location])
            #expect(location.hasPrefix("/#key="))
            let setCookie = try #require(response.headers[.setCookie])
            #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict"))
            #expect(setCookie.contains("Max-Age=28800") && setCookie.contains("Path=/"))
            let pair = try #require(setCookie.split(separator: ";").first)
            #expect(pair.hasPrefix(cookieName + "="))
            return Browser(cookie: String(pair), key: String(location.dropFirst("/#key=".count)))
        }
    }

    @Test("a link signs in once; used again or expired it is a 403 page; the cookie ends with the shift")
    func oneTimeLinks() async throws {
        let fixture = try APIFixture()
        let web = signIns(fixture)
        try await fixture.app(bearerToken: Self.bearer, web: web).test(.router) { client in
            let link = web.issueLink()
            #expect(link.url.hasPrefix(Self.origin + "/web/signin?link="))
            #expect(link.expiresAt == fixture.time.now + 300 && link.sessionSeconds == 8 * 3600)
            let browser = try await signIn(client, link, cookieName: web.cookieName)
            try await client.execute(uri: "/v1/status", method: .get, headers: browser.headers) { response in
                #expect(response.status == .ok)
            }
            // The cookie alone (what another port of the host would receive) or with another key is refused.
            for key in [nil, "", String(browser.key.reversed())] {
                var headers: HTTPFields = [.cookie: browser.cookie]
                if let key { headers[WebSignIns.pageKeyHeader] = key }
                try await client.execute(uri: "/v1/status", method: .get, headers: headers) {
                    #expect($0.status == .unauthorized)
                }
            }
            // The event stream takes the key as a query parameter (an EventSource sends no headers).
            try await client.execute(
                uri: "/v1/status?key=\(browser.key)", method: .get, headers: [.cookie: browser.cookie]
            ) { #expect($0.status == .ok) }
            try await client.execute(uri: try path(of: link), method: .get) { response in
                #expect(response.status == .forbidden)
                #expect(response.headers[.setCookie] == nil)
                #expect(String(buffer: response.body).contains("web_link_invalid"))
            }
            let late = web.issueLink()
            fixture.time.advance(301)
            try await client.execute(uri: try path(of: late), method: .get) { #expect($0.status == .forbidden) }
            for forged in ["/web/signin", "/web/signin?link=", "/web/signin?link=" + String(repeating: "A", count: 43)]
            {
                try await client.execute(uri: forged, method: .get) { #expect($0.status == .forbidden) }
            }
            // Links kept are bounded (a loop asking for links cannot grow the daemon): the oldest go first.
            let many = (0..<200).map { _ in web.issueLink() }
            #expect(Set(many.map(\.url)).count == 200)
            try await client.execute(uri: try path(of: many[0]), method: .get) { #expect($0.status == .forbidden) }
            _ = try await signIn(client, many[199], cookieName: web.cookieName)
            // The shift ends: the cookie no longer lets anything through.
            fixture.time.advance(8 * 3600)
            try await client.execute(uri: "/v1/status", method: .get, headers: browser.headers) { response in
                let body = try json(response)
                #expect(response.status == .unauthorized && body["code"] as? String == "unauthorized")
            }
        }
    }

    @Test("with the cookie, reads pass; state-changing requests need the page's Origin; sign-out ends the cookie")
    func originCheck() async throws {
        let fixture = try APIFixture()
        let web = signIns(fixture)
        try await fixture.app(bearerToken: Self.bearer, web: web).test(.router) { client in
            let browser = try await signIn(client, web.issueLink(), cookieName: web.cookieName)
            let scan = fixture.scanBody(try fixture.authority.token())
            for (origin, status) in [
                (nil, HTTPResponse.Status.forbidden), ("http://evil.example", .forbidden), ("null", .forbidden),
                ("http://127.0.0.1:8788", .forbidden), (Self.origin, .ok), ("http://localhost:8787", .ok),
            ] {
                var headers = browser.headers
                headers[.contentType] = "application/json"
                if let origin { headers[.origin] = origin }
                try await client.execute(uri: "/v1/scans", method: .post, headers: headers, body: scan) { response in
                    #expect(response.status == status, "Origin \(origin ?? "none")")
                    let body = try json(response)
                    if status == .forbidden { #expect(body["code"] as? String == "origin_refused") }
                }
            }
            // No cookie, no bearer: refused whatever the Origin.
            try await client.execute(
                uri: "/v1/scans", method: .post, headers: [.origin: Self.origin, .contentType: "application/json"],
                body: scan
            ) { #expect($0.status == .unauthorized) }
            // The machine's bearer token needs no Origin (the HIS is not a browser).
            try await client.execute(
                uri: "/v1/scans", method: .post,
                headers: [.authorization: "Bearer \(Self.bearer)", .contentType: "application/json"], body: scan
            ) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/web/signout", method: .post, headers: browser.posting) { response in
                #expect(response.status == .noContent)
                #expect(response.headers[.setCookie]?.contains("Max-Age=0") == true)
            }
            try await client.execute(uri: "/v1/status", method: .get, headers: browser.headers) {
                #expect($0.status == .unauthorized)
            }
        }
    }

    @Test("the page's files are served from the binary with a strict CSP; other paths under /web/ are not open")
    func pageFiles() async throws {
        let fixture = try APIFixture()
        try await fixture.app(bearerToken: Self.bearer, web: signIns(fixture)).test(.router) { client in
            for (path, type, marker) in [
                ("/", "text/html; charset=utf-8", #"<script type="module" src="/web/app.js">"#),
                ("/web/app.js", "text/javascript; charset=utf-8", "new EventSource"),
                ("/web/style.css", "text/css; charset=utf-8", "--green"),
                ("/web/text.js", "text/javascript; charset=utf-8", "請病人在 App 中重新產生條碼"),
            ] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .ok, "\(path)")
                    #expect(response.headers[.contentType] == type)
                    #expect(String(buffer: response.body).contains(marker), "\(path)")
                    let csp = try #require(response.headers[HTTPField.Name("Content-Security-Policy")!])
                    #expect(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"))
                    #expect(!csp.contains("unsafe"))
                    #expect(response.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
                    #expect(response.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
                }
            }
            // Every file is UTF-8 text the literal kept whole: the HTML ends as written.
            #expect(PageFiles.named("index.html").map { "\($0.body)".hasSuffix("</html>\n") } == true)
            try await client.execute(
                uri: "/web/nothing.js", method: .get, headers: [.authorization: "Bearer \(Self.bearer)"]
            ) { response in
                let body = try json(response)
                #expect(response.status == .notFound && body["code"] as? String == "route_not_found")
            }
            // Only the page's own files are open: paths that climb out of /web/ still need a credential.
            for sneaky in ["/web/../v1/status", "/web/%2e%2e/v1/status", "/web/app.js/../../v1/status", "/web/x"] {
                try await client.execute(uri: sneaky, method: .get) { response in
                    #expect(response.status == .unauthorized, "\(sneaky)")
                }
            }
            // The API's answers carry the headers too, and are not cached.
            try await client.execute(
                uri: "/v1/status", method: .get, headers: [.authorization: "Bearer \(Self.bearer)"]
            ) {
                response in
                #expect(response.headers[HTTPField.Name("Content-Security-Policy")!] != nil)
                #expect(response.headers[.cacheControl] == "no-store")
            }
        }
    }

    @Test("the page's files go gzip-compressed to a browser that accepts gzip, and as they are to one that does not")
    func compressedPageFiles() async throws {
        let fixture = try APIFixture()
        try await fixture.app(bearerToken: Self.bearer, web: signIns(fixture)).test(.router) { client in
            var plainBytes = 0, packedBytes = 0
            for name in PageFiles.names {
                let plain = try await client.execute(uri: "/web/\(name)", method: .get) { response in
                    #expect(response.headers[.contentEncoding] == nil && response.headers[.vary] == "Accept-Encoding")
                    return response.body
                }
                #expect(plain == ByteBuffer(staticString: PageFiles.named(name)!.body), "\(name)")
                try await client.execute(
                    uri: "/web/\(name)", method: .get, headers: [.acceptEncoding: "gzip, deflate, br, zstd"]
                ) { response in
                    #expect(response.status == .ok && response.headers[.vary] == "Accept-Encoding", "\(name)")
                    plainBytes += plain.readableBytes
                    packedBytes += response.body.readableBytes
                    // A file that would not shrink goes as it is; the total below says the rest did.
                    guard response.headers[.contentEncoding] == "gzip" else {
                        #expect(response.body == plain, "\(name)")
                        return
                    }
                    #expect(response.body.readableBytes < plain.readableBytes, "\(name) shrinks")
                    var packed = response.body
                    let unpacked = try packed.decompress(with: .gzip())
                    #expect(unpacked == plain, "\(name) unpacks to the file")
                }
            }
            #expect(packedBytes * 3 < plainBytes, "the page in all, \(plainBytes) bytes, goes as \(packedBytes)")
            // Refused with a weight of 0, or only other codings named: the file as it is.
            for header in [
                "gzip;q=0, identity", "br", "*;q=0", "deflate, *;q=0.5, gzip;q=0", "gzip ; q=0", "gzip;q=0.000",
                "gzip;q=abc", "",
            ] {
                try await client.execute(uri: "/", method: .get, headers: [.acceptEncoding: header]) { response in
                    #expect(response.headers[.contentEncoding] == nil, "\(header)")
                    #expect(String(buffer: response.body).hasSuffix("</html>\n"), "\(header)")
                }
            }
            for header in ["*", "x-gzip", "GZIP;Q=0.8", "identity;q=1, *;q=0.1"] {
                try await client.execute(uri: "/", method: .get, headers: [.acceptEncoding: header]) { response in
                    #expect(response.headers[.contentEncoding] == "gzip", "\(header)")
                }
            }
        }
    }

    @Test("a browser gets sessions masked; reveal gives the identity and is audited; the HIS still gets it in full")
    func maskingAndReveal() async throws {
        let fixture = try APIFixture()
        let web = signIns(fixture)
        try await fixture.app(bearerToken: Self.bearer, web: web).test(.router) { client in
            let browser = try await signIn(client, web.issueLink(), cookieName: web.cookieName).posting
            let id = try await client.execute(
                uri: "/v1/scans", method: .post, headers: browser, body: fixture.scanBody(try fixture.authority.token())
            ) { try #require((try json($0)["session"] as? [String: Any])?["id"] as? String) }
            try await client.execute(uri: "/v1/sessions", method: .get, headers: browser) { response in
                let session = try #require((try json(response)["sessions"] as? [[String: Any]])?.first)
                #expect(session["holderID"] as? String == "A12****789")
                #expect(session["holderName"] as? String == "王**")
                #expect(session["holderBirthDate"] as? String == "")
            }
            try await client.execute(uri: "/v1/sessions/\(id)", method: .get, headers: browser) { response in
                let body = try json(response)
                #expect(body["holderID"] as? String == "A12****789")
            }
            try await client.execute(
                uri: "/v1/sessions", method: .get, headers: [.authorization: "Bearer \(Self.bearer)"]
            ) { response in
                let session = try #require((try json(response)["sessions"] as? [[String: Any]])?.first)
                #expect(session["holderID"] as? String == "A123456789")
            }
            let before = try fixture.service.audit.entries().filter { $0.kind == "holder.revealed" }.count
            try await client.execute(uri: "/v1/sessions/\(id)/reveal", method: .post, headers: browser) { response in
                #expect(response.status == .ok)
                let holder = try JSONDecoder().decode(HolderIdentity.self, from: Data(buffer: response.body))
                #expect(holder.id == "A123456789" && holder.name == "王小明" && holder.birthDate == "1980-05-17")
            }
            let reveals = try fixture.service.audit.entries().filter { $0.kind == "holder.revealed" }
            #expect(reveals.count == before + 1)
            #expect(reveals.last?.subject == id && reveals.last?.detail.contains("page") == true)
            try await client.execute(uri: "/v1/sessions/nope/reveal", method: .post, headers: browser) { response in
                #expect(response.status == .notFound)
            }
            // What a page's actions answer comes masked too, and FHIR (which names the patient) is the HIS's.
            try await client.execute(
                uri: "/v1/sessions/\(id)/records/medications?format=fhir", method: .get, headers: browser
            ) {
                response in
                let body = try json(response)
                #expect(response.status == .badRequest && (body["detail"] as? String)?.contains("HIS") == true)
            }
            try await client.execute(uri: "/v1/sessions/\(id)/close", method: .post, headers: browser) { response in
                let body = try json(response)
                #expect(response.status == .ok && body["holderID"] as? String == "A12****789")
                #expect(body["holderName"] as? String == "王**" && body["state"] as? String == "closed")
            }
            let photoless = try await client.execute(
                uri: "/v1/scans", method: .post, headers: browser,
                body: fixture.scanBody(try fixture.authority.token(holderID: "B220000000", name: "林美玲", photo: .none))
            ) { try #require((try json($0)["session"] as? [String: Any])?["id"] as? String) }
            try await client.execute(
                uri: "/v1/sessions/\(photoless)/id-check", method: .post, headers: browser,
                body: ByteBuffer(string: #"{"document":"passport","lastFour":"0000","operator":"林護理師"}"#)
            ) { response in
                let body = try json(response)
                #expect(response.status == .ok && body["holderID"] as? String == "B22****000")
                #expect(body["state"] as? String == "active" && body["holderBirthDate"] as? String == "")
            }
        }
    }

    @Test("a sign-in outlives a daemon restart (kept as digests in the database); sign-out ends it there too")
    func signInSurvivesRestart() async throws {
        let fixture = try APIFixture()
        let store = WebSessionStore(database: fixture.service.policy.database)
        let time = fixture.time
        func daemon() -> WebSignIns {
            WebSignIns(host: "127.0.0.1", port: 8787, sessionSeconds: 8 * 3600, store: store, clock: { time.now })
        }
        let before = daemon()
        let browser = try await fixture.app(bearerToken: Self.bearer, web: before).test(.router) { client in
            try await signIn(client, before.issueLink(), cookieName: before.cookieName)
        }
        // Nothing on disk is the cookie or the key themselves.
        let stored = try #require(
            try store.find(
                cookieDigest: Data(SHA256.hash(data: Data(browser.cookie.split(separator: "=")[1].utf8))), now: time.now
            ))
        #expect(!String(decoding: stored.cookieDigest + stored.keyDigest, as: UTF8.self).contains(browser.key))
        let after = daemon()
        try await fixture.app(bearerToken: Self.bearer, web: after).test(.router) { client in
            try await client.execute(uri: "/v1/status", method: .get, headers: browser.headers) {
                #expect($0.status == .ok)
            }
            // Numbers keep rising: the next sign-in is told apart from the ones before the restart.
            let next = try await signIn(client, after.issueLink(), cookieName: after.cookieName)
            try await client.execute(uri: "/v1/sessions", method: .get, headers: next.headers) { _ in }
            #expect(try fixture.service.audit.entries().last?.detail.contains("page \(stored.serial + 2)") == true)
            try await client.execute(uri: "/v1/web/signout", method: .post, headers: browser.posting) {
                #expect($0.status == .noContent)
            }
        }
        try await fixture.app(bearerToken: Self.bearer, web: daemon()).test(.router) { client in
            try await client.execute(uri: "/v1/status", method: .get, headers: browser.headers) {
                #expect($0.status == .unauthorized)
            }
        }
        // The shift's end holds across restarts too.
        time.advance(8 * 3600 + 1)
        #expect(try store.find(cookieDigest: stored.cookieDigest, now: time.now) == nil)
    }

    @Test("a page's event stream ends when the page signs out, at the next keep-alive")
    func streamEndsWithSignIn() async throws {
        let fixture = try APIFixture()
        let web = signIns(fixture)
        let router = StationAPI.router(
            service: fixture.service, camera: FixedCameraStatus(.none), bearerToken: Self.bearer, web: web,
            keepAliveSeconds: 0.1)
        try await Application(router: router).test(.router) { client in
            let browser = try await signIn(client, web.issueLink(), cookieName: web.cookieName)
            try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    try await client.execute(
                        uri: "/v1/events?key=\(browser.key)", method: .get, headers: [.cookie: browser.cookie]
                    ) {
                        response in
                        #expect(response.status == .ok)
                        #expect(String(buffer: response.body).hasPrefix(": vhc-station events"))
                        return true
                    }
                }
                group.addTask {
                    try await Task.sleep(for: .milliseconds(300))
                    try await client.execute(uri: "/v1/web/signout", method: .post, headers: browser.posting) {
                        #expect($0.status == .noContent)
                    }
                    try await Task.sleep(for: .seconds(20))
                    return false
                }
                // The stream's answer completes (true) long before the 20 s the other task waits.
                let first = try await group.next()
                #expect(first == true)
                group.cancelAll()
            }
        }
    }

    @Test("GET /v1/stats/day counts the day's scans per Taipei hour and refusals by code")
    func dayStatistics() async throws {
        let fixture = try APIFixture()
        try await fixture.app().test(.router) { client in
            let token = try fixture.authority.token()
            for _ in 0..<3 {
                try await client.execute(uri: "/v1/scans", method: .post, body: fixture.scanBody(token)) { _ in }
            }
            try await client.execute(
                uri: "/v1/scans", method: .post, body: fixture.scanBody(Array("not a card".utf8))
            ) { _ in }
            try await client.execute(uri: "/v1/stats/day", method: .get) { response in
                #expect(response.status == .ok)
                let day = try JSONDecoder().decode(DayStatistics.self, from: Data(buffer: response.body))
                let hour = Int(((fixture.time.now + 8 * 3600) % 86_400) / 3600)
                #expect(day.hours.count == 24)
                #expect(day.hours[hour].accepted == 1 && day.hours[hour].refused == 3)
                #expect(day.accepted == 1 && day.refused == 3)
                #expect(day.refusals.map(\.code.rawValue) == ["replayed", "prefix_missing"])
                #expect(day.refusals.map(\.count) == [2, 1])
                #expect(day.start <= fixture.time.now && fixture.time.now < day.start + 86_400)
                #expect((day.start + 8 * 3600) % 86_400 == 0)
                let body = try json(response)
                #expect(body["accepted"] as? Int == 1 && body["refused"] as? Int == 3)
            }
            // The next day starts from nothing.
            fixture.time.advance(86_400)
            try await client.execute(uri: "/v1/stats/day", method: .get) { response in
                let day = try JSONDecoder().decode(DayStatistics.self, from: Data(buffer: response.body))
                #expect(day.accepted == 0 && day.refused == 0 && day.refusals.isEmpty)
            }
        }
    }

    @Test("on the Unix socket, POST /v1/web/links hands out links (audited), or says the page is not served")
    func links() async throws {
        let fixture = try APIFixture()
        let web = signIns(fixture)
        try await fixture.app(web: web).test(.router) { client in
            try await client.execute(uri: "/v1/web/links", method: .post) { response in
                #expect(response.status == .ok)
                let link = try JSONDecoder().decode(WebLink.self, from: Data(buffer: response.body))
                #expect(link.url.hasPrefix(Self.origin + "/web/signin?link="))
            }
            // The Unix socket never serves the page itself.
            try await client.execute(uri: "/", method: .get) { #expect($0.status == .notFound) }
        }
        #expect(try fixture.service.audit.entries().contains { $0.kind == "web.link_issued" })
        try await fixture.app().test(.router) { client in
            try await client.execute(uri: "/v1/web/links", method: .post) { response in
                let body = try json(response)
                #expect(response.status == .conflict && body["code"] as? String == "web_not_configured")
            }
        }
    }
}
