import CloudClient
import CloudProtocol
import Crypto
import Foundation
import SandboxCloud
import VirtualCard

/// `Benchmarks/cloud.sh`: visit openings against `vhc-cloud serve` (a separate process) from
/// concurrent clients over mutual TLS with kept-alive connections, each opening with a fresh token,
/// beside the same openings given to the visit opener in-process. Throughput and p50/p99 of each; the
/// ratio is what TLS, HTTP and the process boundary cost. Tokens and openings are signed before the
/// clock starts: the client's signing is not the cloud's work.
@main
struct CloudBenchmark {
    struct Options {
        var cloudBinary = ""
        var openings = 4000
        var clients = 32
        var warmup = 300
        /// For profiling one side alone: `https` or `in-process`.
        var only: String?

        init(_ arguments: [String]) throws {
            var rest = arguments.dropFirst()
            while let flag = rest.popFirst() {
                guard let value = rest.popFirst() else { throw Failure("\(flag) needs a value") }
                switch flag {
                case "--cloud": cloudBinary = value
                case "--openings": openings = Int(value) ?? 0
                case "--clients": clients = Int(value) ?? 0
                case "--only": only = value
                default: throw Failure("unknown option \(flag)")
                }
            }
            guard !cloudBinary.isEmpty, openings >= 100, (1...256).contains(clients),
                [nil, "https", "in-process"].contains(only)
            else {
                throw Failure(
                    "usage: CloudBenchmark --cloud PATH [--openings N≥100] [--clients 1…256] [--only https|in-process]")
            }
        }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    static func main() async {
        do { try await run(try Options(CommandLine.arguments)) } catch {
            FileHandle.standardError.write(Data("CloudBenchmark: \(error)\n".utf8))
            exit(2)
        }
    }

    /// Both runs of one side: as fast as the clients can go, and paced at the target rate.
    struct Runs {
        var highest: Measurement
        var paced: Measurement

        func line(_ label: String) -> String {
            "  " + label.padding(toLength: 36, withPad: " ", startingAt: 0)
                + String(
                    format: "%7.0f %7.2f %7.2f   %7.2f %7.2f %7.2f", highest.throughput, highest.p50, highest.p99,
                    paced.p50, paced.p99, paced.latencies.max() ?? 0)
        }
    }

    static let targetRate = 1000.0
    static let targetP99 = 30.0

    static func run(_ options: Options) async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("vhc-cloud-bench-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let overHTTPS = options.only == "in-process" ? nil : try await overHTTPS(options, in: root + "/served")
        let inProcess = options.only == "https" ? nil : try await inProcess(options, in: root + "/local")

        print(
            "visit openings, \(options.openings) per run, \(options.clients) concurrent clients, a fresh token each")
        print("  " + "".padding(toLength: 36, withPad: " ", startingAt: 0) + "highest rate            paced at 1,000/s")
        print(
            "  " + "".padding(toLength: 36, withPad: " ", startingAt: 0)
                + "  per s  p50 ms  p99 ms    p50 ms  p99 ms  max ms")
        if let overHTTPS { print(overHTTPS.line("HTTPS, mutual TLS, kept alive")) }
        if let inProcess { print(inProcess.line("in-process visit opener (baseline)")) }
        guard let overHTTPS else { return }
        if let inProcess {
            print(
                String(
                    format: "  ratio in-process / HTTPS: highest rate %.2f, p99 at 1,000/s %.2f",
                    inProcess.highest.throughput / overHTTPS.highest.throughput,
                    inProcess.paced.p99 / overHTTPS.paced.p99))
        }
        let met = overHTTPS.highest.throughput >= targetRate && overHTTPS.paced.p99 <= targetP99
        print(
            (met ? "target met" : "target missed")
                + ": over HTTPS at least 1,000 openings/s, and p99 at most 30 ms at 1,000 openings/s")
    }

    /// The warm-up, then both runs, each on fresh openings.
    static func runs(
        _ workload: Workload, _ options: Options, _ open: @escaping @Sendable ([UInt8]) async throws -> Void
    ) async throws -> Runs {
        _ = try await measure(try workload.bodies(options.warmup), clients: options.clients, open)
        let highest = try await measure(try workload.bodies(options.openings), clients: options.clients, open)
        let paced = try await measure(
            try workload.bodies(options.openings), clients: options.clients, rate: targetRate, open)
        return Runs(highest: highest, paced: paced)
    }

    /// Against `vhc-cloud serve` (the release binary, its own process) on a sandbox of its own.
    static func overHTTPS(_ options: Options, in path: String) async throws -> Runs {
        let served = SandboxDirectory(path: path)
        let manifest = try await SandboxMaker.make(in: served, now: Int64(Date().timeIntervalSince1970))
        let port = try freePort()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: options.cloudBinary)
        server.arguments = ["serve", "--dir", served.path, "--listen", "127.0.0.1:\(port)"]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        let workload = try Workload(directory: served, manifest: manifest)
        let code = workload.institution.code
        let client = try CloudClient(
            baseURL: "https://127.0.0.1:\(port)", caPEM: try served.read(served.caCertificate),
            identity: .init(
                certificatePEM: try served.read(served.institutionCertificate(code)),
                keyPEM: try served.read(served.institutionKey(code))),
            connections: options.clients)
        do {
            try await waitForHealth(client)
            let measured = try await runs(workload, options) { body in try await open(body, with: client) }
            try await client.shutdown()
            return measured
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// The same kind of openings, straight into the visit opener of a sandbox of its own.
    static func inProcess(_ options: Options, in path: String) async throws -> Runs {
        let local = SandboxDirectory(path: path)
        let manifest = try await SandboxMaker.make(in: local, now: Int64(Date().timeIntervalSince1970))
        let workload = try Workload(directory: local, manifest: manifest)
        let cloud = try await SandboxCloud.open(local)
        let identity = try requireIdentity(local, workload.institution.code)
        return try await runs(workload, options) { body in
            _ = try await cloud.opener.open(body, institution: identity, now: Int64(Date().timeIntervalSince1970))
        }
    }

    static func open(_ body: [UInt8], with client: CloudClient) async throws {
        let reply = try await client.send(.POST, "/v1/visits", body: body, contentType: VisitOpening.mediaType)
        guard reply.status == 201 else {
            throw Failure("an opening answered \(reply.status): \(String(decoding: reply.body, as: UTF8.self))")
        }
    }

    static func waitForHealth(_ client: CloudClient) async throws {
        for _ in 0..<200 {
            if let reply = try? await client.send(.GET, "/v1/health"), reply.status == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw Failure("vhc-cloud serve did not answer /v1/health within 20 s")
    }

    /// The institution identity as the gate would read it from the certificate.
    static func requireIdentity(_ directory: SandboxDirectory, _ code: String) throws -> InstitutionIdentity {
        guard
            let identity = InstitutionIdentity(
                certificate: try directory.loadCertificate(directory.institutionCertificate(code)))
        else { throw Failure("the institution certificate has no identity") }
        return identity
    }

    /// A port nobody listens on now (bound and released; the server takes it a moment later).
    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure("socket failed") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard bound else { throw Failure("cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    struct Measurement {
        var seconds: Double
        var latencies: [Double]
        var throughput: Double { Double(latencies.count) / seconds }
        func percentile(_ p: Double) -> Double {
            let sorted = latencies.sorted()
            return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
        }
        var p50: Double { percentile(0.50) }
        var p99: Double { percentile(0.99) }
    }

    /// Runs `bodies` through `operation` from `clients` concurrent tasks, each taking the next body.
    /// Unpaced, each client sends its next opening as soon as the last is answered (the highest rate).
    /// Paced at `rate` per second, opening `i` is due at `i / rate` seconds and its latency counts from
    /// then, so a stalled answer also counts against the openings queued behind it.
    static func measure(
        _ bodies: [[UInt8]], clients: Int, rate: Double? = nil,
        _ operation: @escaping @Sendable ([UInt8]) async throws -> Void
    ) async throws -> Measurement {
        let queue = WorkQueue(bodies)
        let start = ContinuousClock.now + .milliseconds(20)
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for _ in 0..<clients {
                group.addTask {
                    var mine: [Double] = []
                    while let (index, body) = queue.next() {
                        var began = ContinuousClock.now
                        if let rate {
                            began = start + .microseconds(Int64(Double(index) / rate * 1_000_000))
                            try await Task.sleep(until: began, clock: .continuous)
                        }
                        try await operation(body)
                        mine.append((ContinuousClock.now - began).milliseconds)
                    }
                    return mine
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        return Measurement(seconds: (ContinuousClock.now - start).seconds, latencies: latencies)
    }
}

/// Signed openings for the benchmark: fresh tokens for the sandbox's patients, signed by the
/// practitioners of the institution enrolled in every setting, each with its own nonce and request id.
struct Workload {
    let directory: SandboxDirectory
    let institution: SandboxManifest.Institution
    let signers: [(key: P256.Signing.PrivateKey, certificate: [UInt8])]
    let patients: [SandboxManifest.Patient]
    let issuer: TokenIssuer

    init(directory: SandboxDirectory, manifest: SandboxManifest) throws {
        self.directory = directory
        institution = manifest.institutions.first { Set($0.settings) == Set(CareSetting.allCases) }!
        let code = institution.code
        signers = try manifest.practitioners.filter { $0.institutions.contains(code) }.map {
            (
                try directory.loadKey(directory.practitionerKey($0.id)),
                try directory.loadCertificate(directory.practitionerCertificate($0.id)).derBytes
            )
        }
        patients = manifest.patients.filter { $0.insuranceStatus == .active }
        issuer = TokenIssuer(signingKey: try directory.loadKey(directory.tokenKey), issuer: manifest.issuer)
    }

    func bodies(_ count: Int) throws -> [[UInt8]] {
        let now = Int64(Date().timeIntervalSince1970)
        let tokens = CardTokens(issuer: issuer)
        return try (0..<count).map { index in
            let patient = patients[index % patients.count]
            let signer = signers[index % signers.count]
            let token = try tokens.issue(for: patient, delegation: nil, now: now).token
            return try VisitOpening(
                token: token, institution: institution.code, setting: .outpatient, signedAt: now,
                nonce: VisitOpening.random(), requestID: VisitOpening.random(), scannedAt: now
            ).signed(by: signer.key, certificate: signer.certificate)
        }
    }
}

/// Hands out the bodies one at a time to the concurrent clients.
final class WorkQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var bodies: [[UInt8]]
    private var index = 0
    init(_ bodies: [[UInt8]]) { self.bodies = bodies }
    func next() -> (Int, [UInt8])? {
        lock.withLock {
            guard index < bodies.count else { return nil }
            defer { index += 1 }
            return (index, bodies[index])
        }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
    var milliseconds: Double { seconds * 1000 }
}
