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
package final class WebSignIns: Sendable {
    /// The page's own origin (`http://127.0.0.1:8787`): links point there, state-changing requests
    /// must come from there (or its `localhost` spelling).
    package let origin: String
    package let allowedOrigins: Set<String>
    /// Port-specific, so two stations on one machine keep apart cookies.
    package let cookieName: String
    package static let pageKeyHeader = HTTPField.Name("X-VHC-Page-Key")!
    package let linkSeconds: Int64
    package let sessionSeconds: Int64
    /// What the signed-in page is told of its own behaviour (`GET /v1/web/settings`).
    package let page: PageSettings
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

    package init(
        host: String, port: Int, sessionSeconds: Int64, linkSeconds: Int64 = 300, store: WebSessionStore? = nil,
        page: PageSettings = PageSettings(), clock: @escaping @Sendable () -> Int64
    ) {
        self.page = page
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
    package func issueLink() -> WebLink {
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
