import CloudProtocol
import ConnectionGuards
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import SandboxCloud
import Testing

/// The served cloud under the outside probe's attacks (issue 21), scaled down: silent sockets and
/// anonymous TLS connections filling the slots, a handshake never finished, slow bodies from a holder of
/// an institution certificate. A station must still be answered at once.
@Suite("Cloud connections: no client, with or without a certificate, can shut the cloud to stations")
struct ConnectionLimitsTests {
    static func limits(_ configure: (inout SandboxCloud.Limits) -> Void = { _ in }) -> SandboxCloud.Limits {
        var limits = SandboxCloud.Limits()
        limits.connections.maximumConnections = 24
        limits.connections.reservedForAuthenticated = 8
        limits.connections.perAddress = 12
        limits.connections.perCredential = 2
        configure(&limits)
        return limits
    }

    func health(_ harness: CloudHarness) async throws -> CloudHealth.Connections {
        try await withClient(try harness.appClient()) { client in
            let reply = try await harness.request(client, .GET, "/v1/health")
            return try #require(try reply.decode(CloudHealth.self).connections)
        }
    }

    @Test("40 silent sockets and 10 idle anonymous TLS connections against 24 slots: a station still opens a visit at once")
    func floodDoesNotShutOutStations() async throws {
        let harness = try await CloudHarness(limits: Self.limits())
        defer { Task { try? await harness.stop() } }
        var flood: [any Channel] = []
        for _ in 0..<40 { flood.append(try await RawConnection.tcp(port: harness.port)) }
        for _ in 0..<10 { flood.append(try await RawConnection.tls(harness, identity: nil)) }
        let institution = harness.everySetting.code
        let started = ContinuousClock.now
        let grant = try await withClient(try harness.client(identity: try harness.credential(institution: institution))) {
            try await harness.openVisit($0, patient: harness.patient(), institution: institution)
        }
        let waited = ContinuousClock.now - started
        #expect(!grant.grant.isEmpty)
        // Before: the cap filled and a new connection waited for an idler's 30-second timeout.
        #expect(waited < .seconds(5), "the station waited \(waited)")
        let connections = try await health(harness)
        #expect(connections.evicted >= 40 + 10 + 1 - 12, "\(connections)")
        #expect(connections.handshaking + connections.anonymous <= 12, "one address is held to 12: \(connections)")
        #expect(connections.limit == 24 && connections.reservedForAuthenticated == 8)
        for channel in flood { try? await channel.close() }
    }

    @Test("a socket that never says hello is closed when the handshake timeout passes, and counted")
    func handshakeTimeout() async throws {
        let harness = try await CloudHarness(limits: Self.limits { $0.handshakeTimeout = .seconds(1) })
        defer { Task { try? await harness.stop() } }
        let silent = try await RawConnection.tcp(port: harness.port)
        let started = ContinuousClock.now
        try await silent.closeFuture.get()
        #expect(ContinuousClock.now - started < .seconds(4))
        #expect(try await health(harness).handshakesTimedOut >= 1)
    }

    @Test("a holder of an institution certificate gets two connections, and a body trickled on them is cut off")
    func slowBodiesWithACertificate() async throws {
        let harness = try await CloudHarness(
            limits: Self.limits {
                $0.request.bodyGrace = .seconds(1)
                $0.request.minimumBodyRate = 1024
            })
        defer { Task { try? await harness.stop() } }
        let attacker = try harness.credential(institution: harness.homeCareOnly.code)
        var held: [any Channel] = []
        for _ in 0..<3 {
            held.append(try await RawConnection.tls(harness, identity: attacker))
            try await Task.sleep(for: .milliseconds(300))  // its certificate checked before the next
        }
        try await held[2].closeFuture.get()
        #expect(held[0].isActive && held[1].isActive)
        let started = ContinuousClock.now
        for channel in held.prefix(2) {
            try await channel.writeAndFlush(
                ByteBuffer(string: "POST /v1/visits HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/cose\r\n"
                    + "Content-Length: 2000\r\n\r\n"))
        }
        while held.prefix(2).contains(where: \.isActive), ContinuousClock.now - started < .seconds(10) {
            for channel in held.prefix(2) where channel.isActive {
                try? await channel.writeAndFlush(ByteBuffer(bytes: [0xA1]))
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(!held[0].isActive && !held[1].isActive, "the trickled bodies were not cut off")
        #expect(ContinuousClock.now - started < .seconds(5))
        let connections = try await health(harness)
        #expect(connections.requestsTooSlow >= 2 && connections.refused >= 1, "\(connections)")
    }
}

/// Client connections that do exactly what a test says and nothing else, on NIO.
enum RawConnection {
    /// A TCP connection that never sends a byte.
    static func tcp(port: Int) async throws -> any Channel {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port).get()
    }

    /// A TLS connection whose handshake has finished, presenting `identity` (PEM) or no certificate;
    /// what the server sends is read and dropped.
    static func tls(_ harness: CloudHarness, identity: (certificate: String, key: String)?) async throws -> any Channel
    {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(harness.directory.caCertificate))
        tls.certificateVerification = .noHostnameVerification
        if let identity {
            tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(identity.certificate.utf8)).map {
                .certificate($0)
            }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(identity.key.utf8), format: .pem))
        }
        let context = try NIOSSLContext(configuration: tls)
        let handshake = MultiThreadedEventLoopGroup.singleton.any().makePromise(of: Void.self)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
                    try channel.pipeline.syncOperations.addHandler(HandshakeWaiter(handshake))
                }
            }
            .connect(host: "127.0.0.1", port: harness.port).get()
        try await handshake.futureResult.get()
        return channel
    }

    /// Tells `promise` how the handshake ended, once.
    final class HandshakeWaiter: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let promise: EventLoopPromise<Void>
        var told = false
        init(_ promise: EventLoopPromise<Void>) { self.promise = promise }
        func tell(_ result: Result<Void, any Error>) {
            guard !told else { return }
            told = true
            promise.completeWith(result)
        }
        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case .handshakeCompleted = event as? TLSUserEvent { tell(.success(())) }
        }
        func channelInactive(context: ChannelHandlerContext) { tell(.failure(ChannelError.ioOnClosedChannel)) }
        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            tell(.failure(error))
            context.close(promise: nil)
        }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
    }
}
