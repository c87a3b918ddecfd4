import CloudClient
import CloudProtocol
import ConnectionGuards
import Crypto
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import PKCS11
import Scanner
import ServiceLifecycle
import Station
import StationAPI
import StationCloud
import StationConfiguration
import StationBuild
import StationHIS
import StationMetrics
import StationRuntime
import StationModels
import VirtualCard

#if canImport(Glibc)
    import Glibc
#endif

/// The running station: its database, service, camera pipeline and API listeners in one ServiceGroup.
struct Daemon {
    package struct Settings {
        package var config: StationConfig
        package var root: P256.Signing.PublicKey
        package var bearerToken: String?
        /// `his.token_file`'s value, when the HIS listener asks for one.
        package var hisToken: String?
        /// What `cloud.*` names, read (and a token logged in to) once, when the settings were checked.
        package var cloudFiles: CloudFiles?

        package init(
            config: StationConfig, root: P256.Signing.PublicKey, bearerToken: String?, cloudFiles: CloudFiles? = nil
        ) {
            self.config = config
            self.root = root
            self.bearerToken = bearerToken
            self.cloudFiles = cloudFiles
        }
    }

    let settings: Settings
    let logger: Logger
    let service: StationService
    let notifier = SystemdNotifier()
    /// `GET /metrics`: the registry the service's metrics go to.
    let exposition = PrometheusExposition(version: BuildInfo.version, commit: BuildInfo.commit)

    /// The cloud link and its client, when the configuration names a cloud. The daemon owns the client
    /// and shuts it down when its services have stopped.
    let cloud: (link: CloudLink, client: CloudClient)?

    package init(settings: Settings, logger: Logger) throws {
        self.settings = settings
        self.logger = logger
        let database = try StationDatabase(
            path: settings.config.storage.database, minimumFreeMiB: settings.config.storage.minimumFreeMiB)
        let policy = StationPolicy(database: database, root: settings.root, settings: .init(settings.config))
        let events = try EventBus(database: database)
        let clock: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
        var logins: StationService.LoginRules?
        if let config = settings.config.cloud {
            let files = try settings.cloudFiles ?? CloudFiles(config, institution: settings.config.institution)
            let client = try files.client(url: config.url)
            logins = .init(authority: files.authority, shiftSeconds: config.shiftSeconds)
            let link = CloudLink(
                client: client, events: events, clock: clock,
                settings: .init(
                    root: settings.root, listSyncSeconds: config.listSyncSeconds,
                    maximumBackoffSeconds: Double(config.retryMaxSeconds), giveUpSeconds: config.giveUpSeconds,
                    institutionKey: files.keyKind),
                logger: logger)
            cloud = (link, client)
        } else {
            cloud = nil
        }
        // Practitioners' cards, read through the configured module or p11-kit's proxy, and no other.
        let cards = settings.config.cloud.map { config in
            PKCS11CardReader(allowedModules: (config.cardModule.map { [$0] } ?? []) + [PKCS11Module.defaultPath])
        }
        service = StationService(
            policy: policy, events: events, clock: clock, logins: logins, uplink: cloud?.link.uplink, cards: cards,
            metrics: exposition.metrics)
    }

    package func run() async throws {
        let config = settings.config
        try service.recordStart(
            [
                "institution": config.institution, "camera": config.camera.path ?? "none",
                "session_length": "\(config.session.lengthSeconds)", "skew": "\(config.trust.skewSeconds)",
            ])
        let lists = ListFiles(
            trustList: config.trust.trustList, revocationList: config.trust.revocationList, root: settings.root)
        lists.installChanged(into: service, logger: logger)

        let pipeline = config.camera.path.map {
            CameraPipeline(
                path: $0, width: config.camera.width, height: config.camera.height, service: service, logger: logger)
        }
        let camera: any CameraStatusProviding = pipeline ?? FixedCameraStatus(.none)
        let maintenance = MaintenanceService(
            service: service, camera: camera, listFiles: lists, notifier: notifier, logger: logger)

        // The front-desk page lives on the loopback TCP listener (a browser cannot reach a Unix socket);
        // `vhc web` asks the socket for its sign-in links. A signed-in page lasts a shift.
        let web = config.api.tcp.map { address in
            WebSignIns(
                host: address.host, port: address.port, sessionSeconds: config.cloud?.shiftSeconds ?? 8 * 3600,
                store: service.webSessionStore, page: PageSettings(readySeconds: config.pageReadySeconds, captureSeconds: config.pageCaptureSeconds),
                clock: service.clock)
        }
        try Self.removeStaleSocket(config.api.socket)
        let unixAPI = Application(
            router: StationAPI.router(
                service: service, camera: camera, images: LadderStillReader(), web: web, metrics: exposition),
            server: apiServer(config.api),
            configuration: listenerConfiguration(.unixDomainSocket(path: config.api.socket), config.api),
            onServerRunning: { [notifier, logger, maintenance] _ in
                Self.shareSocket(config.api.socket, group: config.api.socketGroup, logger: logger)
                logger.info("API listening", metadata: ["socket": "\(config.api.socket)"])
                notifier.notify("READY=1\nSTATUS=" + maintenance.statusLine())
            },
            logger: logger)
        var services: [any Service] = [maintenance]
        if let pipeline { services.append(pipeline) }
        for scanner in config.scanners {
            let mode: HandheldScanner.Mode = scanner.interface == .keyboard ? .keyboard : .serial
            services.append(HandheldScannerService(path: scanner.path, mode: mode, service: service, logger: logger))
        }
        if let cloud { services += cloud.link.services(for: service).all }
        services.append(unixAPI)
        if let address = config.api.tcp, let token = settings.bearerToken {
            services.append(
                Application(
                    router: StationAPI.router(
                        service: service, camera: camera, images: LadderStillReader(), bearerToken: token, web: web,
                        metrics: exposition),
                    server: apiServer(config.api),
                    configuration: listenerConfiguration(.hostname(address.host, port: address.port), config.api),
                    logger: logger))
        }
        if let his = config.his {
            let desk = HISDesk(service: service, presentSeconds: his.presentSeconds)
            var server = apiServer(config.api)
            if his.tls {
                // Kept beside the database, in the directory the daemon alone writes.
                let identity = try HISTLSIdentity.kept(in: (config.storage.database as NSString).deletingLastPathComponent)
                var tls = TLSConfiguration.makeServerConfiguration(
                    certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(identity.certificatePEM.utf8))
                        .map { .certificate($0) },
                    privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(identity.keyPEM.utf8), format: .pem)))
                tls.minimumTLSVersion = .tlsv12
                server = try .tls(server, tlsConfiguration: tls)
            }
            // The institution's credential signs the console's bundles, when the station has one.
            let signer: HISInstitutionSigner? = try settings.cloudFiles.map { files in
                let key: any ES256Signer =
                    switch files.key {
                    case .pem(let pem): try P256.Signing.PrivateKey(pemRepresentation: pem)
                    case .signer(let signer): signer
                    }
                return try HISInstitutionSigner(
                    hospitalId: config.institution, certificatePEM: files.certificatePEM, signer: key)
            }
            services.append(
                Application(
                    router: HISRoutes.router(desk: desk, signer: signer, bearerToken: settings.hisToken, logger: logger),
                    server: server,
                    configuration: listenerConfiguration(.hostname(his.address.host, port: his.address.port), config.api),
                    onServerRunning: { [logger] _ in
                        logger.info(
                            "HIS compatibility listener",
                            metadata: ["address": "\(his.address)", "scheme": "\(his.tls ? "https" : "http")"])
                    },
                    logger: logger))
        }
        // Last in, so first to hear of a shutdown: end the event streams, or the API would wait on them.
        services.append(EventStreamCloser(service: service, notifier: notifier))
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        let stopped: Result<Void, any Error>
        do { stopped = .success(try await group.run()) } catch { stopped = .failure(error) }
        // Every service that used it has stopped: its connections and threads go now.
        try? await cloud?.client.shutdown()
        try stopped.get()
        logger.info("stopped")
    }

    /// HTTP/1.1 with the request deadlines (a slow head or body) and the idle timeout. Event streams are a
    /// request in progress, so the idle timeout never closes them.
    func apiServer(_ api: StationConfig.API) -> HTTPServerBuilder {
        .http1(
            configuration: .init(
                additionalChannelHandlers: [
                    RequestDeadlineHandler(limits: .init(head: .seconds(api.headerTimeoutSeconds))),
                    MalformedRequestResponder(problem: Problem.unreadable.json),
                ],
                idleTimeout: .seconds(api.idleTimeoutSeconds)))
    }

    /// Each listener has its own connection cap, so a flood on loopback TCP leaves the Unix socket (the
    /// front desk, the HIS) answering.
    func listenerConfiguration(_ address: BindAddress, _ api: StationConfig.API) -> ApplicationConfiguration {
        .init(
            address: address, serverName: nil,
            availableConnectionsDelegate: MaximumAvailableConnections(api.maximumConnections, logger: logger))
    }

    /// A socket file left by a previous run that did not stop cleanly would make the bind fail; one
    /// that a running daemon still answers on means a second daemon was started by mistake.
    static func removeStaleSocket(_ path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard (info.st_mode & S_IFMT) == S_IFSOCK else {
            throw StationStartError("api.socket: '\(path)' exists and is not a socket")
        }
        if LocalSocket.connectError(path) == nil {
            throw StationStartError("api.socket: another daemon is already listening on '\(path)'")
        }
        unlink(path)
    }

    /// Mode 0660, and the configured group, so the API's clients (group `vhc`) can connect.
    static func shareSocket(_ path: String, group: String?, logger: Logger) {
        if let group, let entry = getgrnam(group), entry.pointee.gr_gid != getegid() {
            if chown(path, uid_t.max, entry.pointee.gr_gid) != 0 {
                logger.error(
                    "cannot give the API socket its group", metadata: ["group": "\(group)", "errno": "\(errno)"])
            }
        }
        chmod(path, 0o660)
    }
}

struct StationStartError: Error, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}

/// Waits for the shutdown signal, then tells systemd and closes every event stream.
struct EventStreamCloser: Service {
    let service: StationService
    let notifier: SystemdNotifier

    func run() async throws {
        try? await gracefulShutdown()
        notifier.notify("STOPPING=1")
        service.finishEvents()
    }
}

extension StationPolicy.Settings {
    /// The policy's settings from the configuration file.
    init(_ config: StationConfig) {
        self.init(
            institution: config.institution, skewSeconds: config.trust.skewSeconds,
            sessionLengthSeconds: config.session.lengthSeconds,
            forwarding: config.cloud.map { Outbox.Forwarding(institution: config.institution, setting: $0.setting) })
    }
}
