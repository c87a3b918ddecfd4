import CloudProtocol
import ConnectionGuards
import Crypto
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL

extension SandboxCloud {
    /// What no client, with or without a certificate, may take from the others (issue 21 and
    /// docs/cloud.md, "Connections"). Every value has a `vhc-cloud serve` option.
    package struct Limits: Sendable {
        /// Slots, the reserve for authenticated stations, and the per-address and per-certificate caps.
        package var connections = ConnectionLedger.Limits()
        /// A connection whose TLS handshake has not finished this long after it opened is closed.
        package var handshakeTimeout: TimeAmount = .seconds(5)
        /// The head's deadline, and the body's minimum rate after its grace.
        package var request = RequestDeadlineHandler.Limits()
        /// A connection with nothing to read for this long between requests is closed.
        package var idleTimeout: TimeAmount = .seconds(30)
        /// Connections the kernel queues before they are accepted. Hummingbird's 256 fills under a
        /// reconnecting flood, and a station's SYN then waits for its one-second retransmission.
        package var backlog = 4096
        package init() {}
    }

    /// The HTTPS application: TLS 1.2 or newer with the sandbox server certificate; a client
    /// certificate is asked for but judged by the routes, so each refusal gets its protocol code.
    /// Each connection is admitted by a `ConnectionLedger` and held to the request deadlines.
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
        let tlsChannel = TLSChannelConfiguration(
            tlsConfiguration: tls, customVerificationCallback: { _, promise in promise.succeed(.certificateVerified) })
        let ledger = ConnectionLedger(limits: limits.connections)
        let http = HTTP1Channel.Configuration(
            additionalChannelHandlers: [
                RequestDeadlineHandler(limits: limits.request, onExpiry: { ledger.requestTooSlow() }),
                MalformedRequestResponder(
                    problem: CloudProblemMiddleware.body(
                        CloudProblem(.requestMalformed, "the request is not HTTP/1.1 this server can read"))),
            ],
            idleTimeout: limits.idleTimeout)
        let admission: @Sendable () -> ConnectionAdmissionHandler = { [self] in
            ConnectionAdmissionHandler(
                ledger: ledger, handshakeTimeout: limits.handshakeTimeout,
                credential: { certificate in await connectionCredential(certificate) })
        }
        let server = HTTPServerBuilder { responder in
            AdmittedChannel(
                base: try TLSChannel(HTTP1Channel(responder: responder, configuration: http), configuration: tlsChannel),
                admission: admission)
        }
        return Application(
            router: router(connections: ledger), server: server,
            configuration: .init(
                address: .hostname(host, port: port), serverName: "vhc-cloud", backlog: limits.backlog,
                // The ledger keeps the count within its maximum by closing; this is only the backstop
                // for closes still under way, so accepting never stops for a flood.
                availableConnectionsDelegate: MaximumAvailableConnections(
                    ledger.limits.maximumConnections * 2, logger: logger)),
            services: [ListRefresher(lists: lists, clock: clock, logger: logger)],
            onServerRunning: onServerRunning, logger: logger)
    }

    /// What a connection's client certificate proves, for its admission: the certificate's SHA-256
    /// when it is a valid certificate of an institution the cloud knows (the per-certificate limit
    /// counts by it), nil otherwise.
    func connectionCredential(_ certificate: NIOSSLCertificate) async -> String? {
        guard let der = try? certificate.toDERBytes(), (try? await institution(der: der)) != nil else { return nil }
        return SHA256.hash(data: der).description
    }
}

/// A child channel of the server with its admission in front: `admission` goes right after the TLS
/// handler, where it hears the handshake end, before the HTTP handlers. Hummingbird has no place for a
/// handler there, so this wraps its TLS channel.
struct AdmittedChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let admission: @Sendable () -> ConnectionAdmissionHandler

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let operations = channel.pipeline.syncOperations
            try operations.addHandler(admission(), position: .after(try operations.handler(type: NIOSSLHandler.self)))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async { await base.handle(value: value, logger: logger) }
}
