import CloudProtocol
import ConnectionGuards
import Foundation
import Hummingbird
import Logging
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
    let institutionCertificates = CertificateCache<InstitutionIdentity>()

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

    /// The routes; `connections`, when a server runs them, is shown in `/v1/health`.
    package func router(connections: ConnectionLedger? = nil) -> Router<CloudRequestContext> {
        let router = Router(context: CloudRequestContext.self)
        CloudRoutes(cloud: self, connections: connections).register(on: router)
        return router
    }

    /// §3 step 1: the institution a client certificate proves: issued by the sandbox CA, valid now, for
    /// an institution the cloud knows. Checks are remembered per certificate for a minute (never past
    /// its expiry), so a kept-alive station pays once, and the connection's admission and its routes
    /// share them.
    package func institution(der: [UInt8]) async throws(CloudProblem) -> InstitutionIdentity {
        let now = clock()
        let identity: InstitutionIdentity
        do {
            identity = try await institutionCertificates.identity(der, now: now) {
                () async throws(CertificateAuthority.Refusal) in
                try await authority.institution(der: der, at: now)
            }
        } catch {
            throw CloudProblem(.institutionCertificateInvalid, error.reason)
        }
        guard registry.institution(identity.code) != nil else {
            throw CloudProblem(.institutionUnknown, "the cloud knows no institution \(identity.code)")
        }
        return identity
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
