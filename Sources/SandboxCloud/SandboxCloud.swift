import CloudProtocol
import ConnectionGuards
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import VirtualCard

/// The sandbox cloud, assembled from a sandbox directory: its registry, database, lists, the visit
/// opener and the routes. `vhc-cloud serve` runs `application(...)` in a ServiceGroup; tests do the
/// same on port 0.
package struct SandboxCloud: Sendable {
    package let directory: SandboxDirectory
    package let registry: Registry
    package let store: any CloudStore
    package let lists: ListPublisher
    package let authority: CertificateAuthority
    package let opener: VisitOpener
    package let tokens: CardTokens
    package let clock: @Sendable () -> Int64
    package let logger: Logger

    /// Server limits: an unauthenticated client must not be able to hold the cloud.
    package struct Limits: Sendable {
        /// Concurrent connections; more wait in the kernel's backlog until one closes.
        package var maximumConnections = 512
        /// A connection with nothing to read for this long is closed (also covers a stalled handshake).
        package var idleTimeout: TimeAmount = .seconds(30)
        /// A request head must be complete this long after the connection opens or the last response.
        package var requestHeadTimeout: TimeAmount = .seconds(10)
        package init() {}
    }

    package static func open(
        _ directory: SandboxDirectory, settings: VisitOpener.Settings = .init(),
        listSchedule: ListPublisher.Schedule = .init(),
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) },
        logger: Logger = Logger(label: "vhc-cloud")
    ) async throws -> SandboxCloud {
        let manifest = try directory.loadManifest()
        let store = try SQLiteCloudStore(path: directory.database)
        let keys = try directory.loadIssuerKeys()
        let authority = CertificateAuthority(certificate: try directory.loadCertificate(directory.caCertificate))
        let lists = ListPublisher(
            keys: keys, issuer: manifest.issuer,
            keyValidity: SandboxMaker.keyValidity(createdAt: manifest.createdAt), store: store, schedule: listSchedule,
            // A cancelled delegation stays listed past its end for the deferral window, so an opening
            // forwarded late is still judged with it.
            revocations: {
                try await store.revokedDelegations(today: CalendarDate(taipeiDateAt: clock() - settings.deferralWindow))
            })
        try await lists.refresh(now: clock())
        let registry = Registry(manifest)
        return SandboxCloud(
            directory: directory, registry: registry, store: store, lists: lists, authority: authority,
            opener: VisitOpener(
                authority: authority, registry: registry, store: store, lists: lists, settings: settings),
            tokens: CardTokens(issuer: TokenIssuer(signingKey: keys.token, issuer: manifest.issuer)),
            clock: clock, logger: logger)
    }

    package func router() -> Router<CloudRequestContext> {
        let router = Router(context: CloudRequestContext.self)
        CloudRoutes(cloud: self).register(on: router)
        return router
    }

    /// The HTTPS application: TLS 1.2 or newer with the sandbox server certificate; a client
    /// certificate is asked for but judged by the routes, so each refusal gets its protocol code.
    package func application(
        host: String, port: Int, limits: Limits = .init(),
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(directory.serverCertificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: directory.serverKey, format: .pem)))
        tls.minimumTLSVersion = .tlsv12
        // Ask for a certificate without requiring one; the callback accepts what is presented (the
        // handshake still proves the client holds its key) and `InstitutionGate` validates it.
        tls.certificateVerification = .optionalVerification
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(directory.caCertificate))
        tls.sendCANameList = true
        let headTimeout = limits.requestHeadTimeout
        let server = try HTTPServerBuilder.tls(
            .http1(
                configuration: .init(
                    additionalChannelHandlers: [
                        RequestHeadTimeoutHandler(timeout: headTimeout),
                        MalformedRequestResponder(
                            problem: CloudProblemMiddleware.body(
                                CloudProblem(.requestMalformed, "the request is not HTTP/1.1 this server can read"))),
                    ],
                    idleTimeout: limits.idleTimeout)),
            configuration: TLSChannelConfiguration(
                tlsConfiguration: tls,
                customVerificationCallback: { _, promise in promise.succeed(.certificateVerified) }))
        return Application(
            router: router(), server: server,
            configuration: .init(
                address: .hostname(host, port: port), serverName: "vhc-cloud",
                availableConnectionsDelegate: MaximumAvailableConnections(limits.maximumConnections, logger: logger)),
            services: [ListRefresher(lists: lists, clock: clock, logger: logger)],
            onServerRunning: onServerRunning, logger: logger)
    }

    /// A grant usable now by `institution`: known, the institution's own, not expired (§3).
    func usableGrant(_ grant: String, institution: InstitutionIdentity) async throws -> StoredGrant {
        guard grant.utf8.count <= 128, let stored = try await store.grant(grant) else {
            throw CloudProblem(.grantUnknown, "no such grant")
        }
        guard stored.institution == institution.code else {
            throw CloudProblem(.grantNotYours, "the grant belongs to another institution")
        }
        guard clock() <= stored.expiresAt else {
            throw CloudProblem(.grantExpired, "the grant expired at \(UTCTimestamp.iso8601(stored.expiresAt))")
        }
        return stored
    }
}

/// Renews the lists on a timer, well before they expire.
struct ListRefresher: Service {
    let lists: ListPublisher
    let clock: @Sendable () -> Int64
    let logger: Logger
    var interval: Duration = .seconds(60)

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do { try await lists.refresh(now: clock()) } catch {
                logger.error("list refresh failed", metadata: ["error": "\(error)"])
            }
            try? await gracefulShutdownOrSleep(interval)
        }
    }

    /// Sleeps for `duration`, or less when a graceful shutdown begins.
    func gracefulShutdownOrSleep(_ duration: Duration) async throws {
        try await cancelWhenGracefulShutdown { try await Task.sleep(for: duration) }
    }
}
