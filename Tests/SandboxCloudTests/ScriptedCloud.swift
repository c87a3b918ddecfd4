import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import SandboxCloud
import ServiceLifecycle
import Synchronization

/// Another implementation of the cloud, as far as a station can tell: HTTPS on loopback with the
/// sandbox's server certificate (so the station's pinned CA accepts it), answering each route with
/// what the test scripts. It plays what the project's own cloud never sends: a problem document with
/// only `code`, extra members, a code this station does not know, a `code` that contradicts its status,
/// no affiliation route at all.
final class ScriptedCloud: @unchecked Sendable {
    /// One scripted answer.
    struct Answer: Sendable {
        var status: Int
        var body: String
        var contentType = "application/problem+json"
    }

    /// The routes a station calls that a test may script; any other answers 404 with only a code.
    enum Route: String, Sendable, CaseIterable {
        case visits = "POST /v1/visits"
        case records = "GET /v1/visits/{grant}/records/{category}"
        case alerts = "POST /v1/visits/{grant}/alerts"
        case affiliations = "POST /v1/affiliations"
        case consumed = "POST /v1/consumed"
        case consentRequest = "POST /v1/consents"
        case consentPoll = "GET /v1/consents/{id}"
    }

    /// Each route's answers in order; the last one repeats.
    private let answers = Mutex<[Route: [Answer]]>([:])
    private let counts = Mutex<[Route: Int]>([:])
    private(set) var port = 0
    private var serverTask: Task<Void, any Error>?
    private var group: ServiceGroup?

    var url: String { "https://127.0.0.1:\(port)" }

    init(directory: SandboxDirectory) async throws {
        let router = Router()
        for route in Route.allCases {
            let parts = route.rawValue.split(separator: " ")
            let path = RouterPath(String(parts[1]))
            let method = HTTPRequest.Method(rawValue: String(parts[0]))!
            router.on(path, method: method) { request, _ in
                _ = try await request.body.collect(upTo: 1 << 20)
                return self.respond(route)
            }
        }
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(directory.serverCertificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: directory.serverKey, format: .pem)))
        tls.certificateVerification = .none
        var logger = Logger(label: "scripted-cloud")
        logger.logLevel = .critical
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, server: try .tls(.http1(), tlsConfiguration: tls),
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "scripted-cloud"),
            onServerRunning: { portSink.yield($0.localAddress?.port ?? 0) }, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        self.group = group
        serverTask = Task { try await group.run() }
        for await port in ports {
            self.port = port
            break
        }
    }

    /// From now on `route` answers `answer`.
    func script(_ route: Route, _ answer: Answer) { script(route, [answer]) }

    /// From now on `route` answers these in turn, then the last one again and again.
    func script(_ route: Route, _ sequence: [Answer]) { answers.withLock { $0[route] = sequence } }

    /// How many requests `route` received.
    func requests(_ route: Route) -> Int { counts.withLock { $0[route] ?? 0 } }

    private func respond(_ route: Route) -> Response {
        counts.withLock { $0[route, default: 0] += 1 }
        let answer =
            answers.withLock { answers -> Answer? in
                guard let queue = answers[route], let first = queue.first else { return nil }
                if queue.count > 1 { answers[route] = Array(queue.dropFirst()) }
                return first
            } ?? Answer(status: 404, body: #"{"code":"route_not_found"}"#)
        return Response(
            status: HTTPResponse.Status(code: answer.status),
            headers: [.contentType: answer.contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(string: answer.body)))
    }

    func stop() async throws {
        await group?.triggerGracefulShutdown()
        _ = try await serverTask?.value
    }
}
