import AsyncHTTPClient
import CloudProtocol
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOSSL
import VirtualCard

/// An HTTPS client of the cloud (docs/cloud-openapi.yaml), shared by everything that calls it: the
/// phone-app simulation in `vhc app`, the station's forwarding, the benchmark. TLS 1.2 or newer; the
/// server is checked against the given CA; an institution presents its certificate, the app none.
/// Answers are decoded into the CloudProtocol types; a problem+json answer throws `CloudProblem`.
package final class CloudClient: Sendable {
    package let baseURL: String
    let http: HTTPClient
    package let timeout: TimeAmount

    /// A client certificate (PEM) and its key: PEM text, or a signer that holds it (a card or token).
    package struct Identity: Sendable {
        package enum Key: Sendable {
            case pem(String)
            case signer(any ES256Signer)
        }

        package var certificatePEM: String
        package var key: Key
        package init(certificatePEM: String, keyPEM: String) {
            self.certificatePEM = certificatePEM
            key = .pem(keyPEM)
        }
        package init(certificatePEM: String, signer: any ES256Signer) {
            self.init(certificatePEM: certificatePEM, key: .signer(signer))
        }
        package init(certificatePEM: String, key: Key) {
            self.certificatePEM = certificatePEM
            self.key = key
        }
    }

    package struct TransportError: Error, CustomStringConvertible {
        package let description: String
    }

    /// - Parameters:
    ///   - connections: connections kept alive per host (the benchmark raises it).
    package init(
        baseURL: String, caPEM: String, identity: Identity? = nil, timeout: TimeAmount = .seconds(15),
        connections: Int = 8
    ) throws {
        guard let url = URL(string: baseURL), url.scheme == "https", url.host != nil else {
            throw TransportError(description: "the cloud's address must be https://HOST:PORT, got '\(baseURL)'")
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(caPEM.utf8)))
        if let identity {
            tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(identity.certificatePEM.utf8)).map {
                .certificate($0)
            }
            switch identity.key {
            case .pem(let pem): tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(pem.utf8), format: .pem))
            case .signer(let signer): tls.privateKey = .privateKey(NIOSSLPrivateKey(customPrivateKey: SignerTLSKey(signer: signer)))
            }
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.timeout = .init(connect: .seconds(5), read: timeout)
        configuration.httpVersion = .http1Only
        configuration.connectionPool = .init(
            idleTimeout: .seconds(20), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
        // A cloud that is down is reported at once; the caller (an outbox, a person) decides when to retry.
        configuration.connectionPool.retryConnectionEstablishment = false
        http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.timeout = timeout
    }

    package func shutdown() async throws { try await http.shutdown() }

    /// An answer as it came: status, headers, body.
    package struct Reply: Sendable {
        package var status: Int
        package var headers: HTTPHeaders
        package var body: Data
        package init(status: Int, headers: HTTPHeaders, body: Data) {
            self.status = status
            self.headers = headers
            self.body = body
        }
    }

    /// One request. Transport failures throw `TransportError`; any status is returned.
    package func send(
        _ method: HTTPMethod, _ path: String, body: [UInt8]? = nil, contentType: String = "application/json",
        headers: [(String, String)] = []
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let body {
            request.body = .bytes(ByteBuffer(bytes: body))
            request.headers.add(name: "Content-Type", value: contentType)
        }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        do {
            let response = try await http.execute(request, timeout: timeout)
            let bytes = try await response.body.collect(upTo: 4 << 20)
            return Reply(status: Int(response.status.code), headers: response.headers, body: Data(buffer: bytes))
        } catch {
            throw TransportError(description: "cannot reach the cloud at \(baseURL): \(TransportWords.describe(error))")
        }
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// A request whose answer is `Answer` on 2xx, and a `CloudProblem` otherwise.
    package func call<Answer: Decodable>(
        _ method: HTTPMethod, _ path: String, json: (some Encodable)? = Optional<Empty>.none,
        headers: [(String, String)] = [], as answer: Answer.Type
    ) async throws -> Answer {
        let reply = try await send(
            method, path, body: try json.map { Array(try Self.encoder.encode($0)) }, headers: headers)
        return try Self.decode(reply, as: answer)
    }

    /// The answer of a 2xx reply, or the problem it carries.
    package static func decode<Answer: Decodable>(_ reply: Reply, as answer: Answer.Type) throws -> Answer {
        try decode(reply) { try JSONDecoder().decode(answer, from: $0) }
    }

    /// The same with the caller's decoding (an answer whose shape depends on the request): a
    /// `CloudProblem` for a refusal, a `TransportError` for a reply that is neither.
    package static func decode<Answer>(_ reply: Reply, with decode: (Data) throws -> Answer) throws -> Answer {
        guard (200..<300).contains(reply.status) else {
            if let problem = CloudProblem(body: reply.body, httpStatus: reply.status) { throw problem }
            throw TransportError(description: "the cloud answered \(reply.status) without a problem document")
        }
        do { return try decode(reply.body) } catch {
            throw TransportError(description: "the cloud's answer is not the JSON expected: \(error)")
        }
    }

    /// No body.
    package struct Empty: Codable, Sendable {}
}

/// The phone app's calls, authenticated by the patient's app secret.
package struct AppClient: Sendable {
    package let cloud: CloudClient
    let login: [(String, String)]

    package init(cloud: CloudClient, secret: String) {
        self.cloud = cloud
        login = [("Authorization", "Bearer " + secret)]
    }

    package func token(card: String? = nil) async throws -> AppToken {
        try await cloud.call(
            .POST, "/v1/app/tokens", json: AppTokenRequest(card: card), headers: login, as: AppToken.self)
    }

    package func delegations() async throws -> DelegationList {
        try await cloud.call(.GET, "/v1/app/delegations", headers: login, as: DelegationList.self)
    }

    package func delegate(_ request: DelegationRequest) async throws -> Delegation {
        try await cloud.call(.POST, "/v1/app/delegations", json: request, headers: login, as: Delegation.self)
    }

    package func cancelDelegation(_ id: String) async throws -> Delegation {
        try await cloud.call(.DELETE, "/v1/app/delegations/\(id)", headers: login, as: Delegation.self)
    }

    package func pendingConsents() async throws -> PendingConsents {
        try await cloud.call(.GET, "/v1/app/consents", headers: login, as: PendingConsents.self)
    }

    package func answerConsent(_ id: String, approve: Bool) async throws -> Consent {
        try await cloud.call(
            .POST, "/v1/app/consents/\(id)", json: ConsentAnswer(approve: approve), headers: login, as: Consent.self)
    }
}
