import AsyncHTTPClient
import AuditChain
import CloudClient
import CloudProtocol
import Crypto
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOSSL
import SandboxCloud
import ServiceLifecycle
import Synchronization
import TestSupport
import VirtualCard
import X509

/// A sandbox made at test time in a temporary folder, served on a loopback port over mutual TLS, with
/// a clock the test can move. Every certificate and key is made by `SandboxMaker`.
final class CloudHarness: @unchecked Sendable {
    let folder: TemporaryFolder
    let directory: SandboxDirectory
    let manifest: SandboxManifest
    let clock = TestClock()
    private(set) var port = 0
    private var serverTask: Task<Void, any Error>?
    private var group: ServiceGroup?

    init(settings: VisitOpener.Settings = .init(), limits: SandboxCloud.Limits = .init()) async throws {
        folder = try TemporaryFolder(prefix: "vhc-cloud-test")
        directory = SandboxDirectory(path: folder.path("sandbox"))
        manifest = try await SandboxMaker.make(in: directory, now: clock.now)
        try await start(settings: settings, limits: limits)
    }

    /// Starts (or restarts) the cloud from the directory, on `port` (0: a new one).
    func start(
        settings: VisitOpener.Settings = .init(), limits: SandboxCloud.Limits = .init(), port: Int = 0
    ) async throws {
        let clock = self.clock
        var logger = Logger(label: "vhc-cloud-test")
        logger.logLevel = .critical
        let cloud = try await SandboxCloud.open(directory, settings: settings, clock: { clock.now }, logger: logger)
        let (portStream, portSink) = AsyncStream.makeStream(of: Int.self)
        let app = try cloud.application(
            host: "127.0.0.1", port: port, limits: limits,
            onServerRunning: { channel in portSink.yield(channel.localAddress?.port ?? 0) })
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        self.group = group
        serverTask = Task { try await group.run() }
        for await port in portStream {
            self.port = port
            break
        }
    }

    func stop() async throws {
        await group?.triggerGracefulShutdown()
        _ = try await serverTask?.value
    }

    /// Stops at once, as a network cut does: open connections are dropped, not drained.
    func cut() async {
        serverTask?.cancel()
        _ = try? await serverTask?.value
    }

    var url: String { "https://127.0.0.1:\(port)" }

    // MARK: - Identities

    func institution(settings: Set<CareSetting>) -> SandboxManifest.Institution {
        manifest.institutions.first { Set($0.settings) == settings }!
    }
    var everySetting: SandboxManifest.Institution { institution(settings: Set(CareSetting.allCases)) }
    var homeCareOnly: SandboxManifest.Institution { institution(settings: [.homeCare]) }
    var telemedicineOnly: SandboxManifest.Institution { institution(settings: [.telemedicine, .videoConsultation]) }

    func practitioner(at code: String) -> SandboxManifest.Practitioner {
        manifest.practitioners.first { $0.institutions.contains(code) }!
    }
    var unaffiliated: SandboxManifest.Practitioner { manifest.practitioners.first { $0.institutions.isEmpty }! }

    func patient(photo: PhotoStatus = .verified) -> SandboxManifest.Patient {
        manifest.patients.first { $0.photo == photo && $0.insuranceStatus == .active }!
    }

    func credential(institution code: String) throws -> (certificate: String, key: String) {
        (try directory.read(directory.institutionCertificate(code)), try directory.read(directory.institutionKey(code)))
    }

    func practitionerKey(_ id: String) throws -> P256.Signing.PrivateKey {
        try directory.loadKey(directory.practitionerKey(id))
    }
    func practitionerCertificate(_ id: String) throws -> [UInt8] {
        try directory.loadCertificate(directory.practitionerCertificate(id)).derBytes
    }

    // MARK: - Tokens and openings

    /// A token for `patient` from the sandbox's token key, issued at `at`.
    func token(
        for patient: SandboxManifest.Patient, at: Int64? = nil, name: String? = nil,
        delegation: TokenClaims.Delegation? = nil, photo: TokenClaims.Photo? = nil
    ) throws -> String {
        let issuedAt = at ?? clock.now
        let claims = TokenClaims(
            issuer: manifest.issuer, issuedAt: issuedAt, expiresAt: issuedAt + 300, tokenID: TokenIssuer.newTokenID(),
            holder: .init(
                id: patient.id, name: name ?? patient.name, birthDate: CalendarDate(iso: patient.birthDate)!,
                photo: photo ?? (patient.photo == .none ? .none : .verified)),
            delegation: delegation, cardNumber: patient.cardNumber.map { String($0.suffix(12)) })
        return try TokenIssuer(signingKey: try directory.loadKey(directory.tokenKey), issuer: manifest.issuer).issue(
            claims)
    }

    /// A visit opening signed by `practitioner`, for `institution`, scanned now unless told otherwise.
    func opening(
        token: String, institution: String, practitioner: String, setting: CareSetting = .outpatient,
        signedAt: Int64? = nil, scannedAt: Int64? = nil, nonce: [UInt8] = VisitOpening.random(),
        requestID: [UInt8] = VisitOpening.random()
    ) throws -> (opening: VisitOpening, body: [UInt8]) {
        let signed = signedAt ?? clock.now
        let opening = VisitOpening(
            token: token, institution: institution, setting: setting, signedAt: signed, nonce: nonce,
            requestID: requestID, scannedAt: scannedAt ?? signed)
        return (
            opening,
            try opening.signed(
                by: try practitionerKey(practitioner), certificate: try practitionerCertificate(practitioner))
        )
    }

    // MARK: - HTTP

    typealias Reply = CloudClient.Reply

    /// An HTTPS client presenting `identity` (PEM certificate and key), or no certificate: the
    /// project's `CloudClient`, as the station and `vhc app` use it.
    func client(identity: (certificate: String, key: String)?) throws -> CloudClient {
        try CloudClient(
            baseURL: url, caPEM: try directory.read(directory.caCertificate),
            identity: identity.map { .init(certificatePEM: $0.certificate, keyPEM: $0.key) }, timeout: .seconds(30))
    }

    func request(
        _ client: CloudClient, _ method: HTTPMethod, _ path: String, body: [UInt8]? = nil,
        contentType: String = VisitOpening.mediaType, headers: [(String, String)] = []
    ) async throws -> Reply {
        try await client.send(method, path, body: body, contentType: contentType, headers: headers)
    }

    func post(
        _ client: CloudClient, _ path: String, json: some Encodable, headers: [(String, String)] = []
    ) async throws -> Reply {
        try await request(
            client, .POST, path, body: Array(try JSONEncoder().encode(json)), contentType: "application/json",
            headers: headers)
    }

    /// Opens a visit for `patient` at `institution` and answers its grant.
    func openVisit(
        _ client: CloudClient, patient: SandboxManifest.Patient, institution: String, setting: CareSetting = .outpatient
    ) async throws -> VisitGrant {
        let (_, body) = try opening(
            token: try token(for: patient), institution: institution,
            practitioner: practitioner(at: institution).id, setting: setting)
        let reply = try await request(client, .POST, "/v1/visits", body: body)
        guard reply.status == 201 else { throw HarnessError("opening answered \(reply.status) \(reply.code ?? "")") }
        return try reply.decode(VisitGrant.self)
    }

    // MARK: - The app side

    /// The database the served cloud uses, opened a second time (WAL allows it) to arrange records.
    func store() throws -> SQLiteCloudStore { try SQLiteCloudStore(path: directory.database) }

    /// The details (JSON) of the audit rows of one kind, oldest first.
    func auditDetails(_ kind: AuditKind) async throws -> [String] {
        try await store().auditEntries(limit: 100_000).filter { $0.kind == kind.rawValue }.map(\.detail)
    }

    /// The `Authorization` header of `patient`'s app, from the secret `init` wrote.
    func appLogin(_ patient: SandboxManifest.Patient) throws -> [(String, String)] {
        let secret = try directory.read(directory.appSecret(patient.id)).trimmingCharacters(in: .whitespacesAndNewlines)
        return [("Authorization", "Bearer " + secret)]
    }

    /// A client without a certificate, as the phone app connects.
    func appClient() throws -> CloudClient { try client(identity: nil) }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A clock the test moves; starts at the real time, since TLS checks real certificate dates.
final class TestClock: Sendable {
    private let value = Mutex(Int64(Date().timeIntervalSince1970))
    var now: Int64 { value.withLock { $0 } }
    func advance(by seconds: Int64) { value.withLock { $0 += seconds } }
}

/// Runs `body` with a client and always shuts the client down.
func withClient<T>(_ client: CloudClient, _ body: (CloudClient) async throws -> T) async throws -> T {
    do {
        let result = try await body(client)
        try await client.shutdown()
        return result
    } catch {
        try? await client.shutdown()
        throw error
    }
}

extension CloudClient.Reply {
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try JSONDecoder().decode(type, from: body) }
    var problem: CloudProblem? { try? decode(CloudProblem.self) }
    var code: String? { problem?.code.rawValue }
}
