import AsyncHTTPClient
import CloudClient
import CloudProtocol
import Crypto
import Foundation
import NIOCore
import NIOFoundationCompat
import TestSupport
import VirtualCard

/// `Benchmarks/forwarding.sh`: the station forwarding to the sandbox cloud, both as release processes
/// on loopback. Scan-to-grant latency online against the cloud's own visit opening called directly;
/// the records proxy against the cloud's records called directly; the outbox drain after 1,000
/// offline scans, checked exactly once in the cloud's database; the daemon's resident memory with the
/// cloud link loaded.
@main
struct ForwardingBenchmark {
    static func main() async throws {
        var arguments = CommandLine.arguments.dropFirst()
        func option(_ name: String) -> String? {
            guard let index = arguments.firstIndex(of: name), arguments.index(after: index) < arguments.endIndex else {
                return nil
            }
            defer { arguments.removeSubrange(index...arguments.index(after: index)) }
            return arguments[arguments.index(after: index)]
        }
        guard let daemonPath = option("--daemon"), let cloudPath = option("--cloud") else {
            throw BenchmarkError("usage: ForwardingBenchmark --daemon PATH --cloud PATH [--samples N] [--offline N]")
        }
        let samples = Int(option("--samples") ?? "300") ?? 300
        let offline = Int(option("--offline") ?? "1000") ?? 1000
        let folder = NSTemporaryDirectory() + "vhc-forwarding-bench-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }

        let sandbox = try Sandbox(cloud: cloudPath, folder: folder)
        var cloud = try sandbox.serve()
        let daemon = try sandbox.station(daemonPath)
        defer {
            daemon.terminate()
            cloud.terminate()
        }
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let station = Station(socket: sandbox.socket, http: http)
        try await station.waitForLists()
        try await Task.sleep(for: .seconds(1))
        let idleMemory = daemon.memory()
        let login = try await station.post(
            "/v1/practitioner/login",
            json: [
                "certificate": try String(contentsOfFile: sandbox.practitionerCertificate, encoding: .utf8),
                "key": try String(contentsOfFile: sandbox.practitionerKey, encoding: .utf8),
            ])
        guard login.0 == 200 else { throw BenchmarkError("login failed: \(String(decoding: login.1, as: UTF8.self))") }
        let direct = try CloudClient(
            baseURL: sandbox.url, caPEM: try String(contentsOfFile: sandbox.ca, encoding: .utf8),
            identity: .init(
                certificatePEM: try String(contentsOfFile: sandbox.institutionCertificate, encoding: .utf8),
                keyPEM: try String(contentsOfFile: sandbox.institutionKey, encoding: .utf8)))

        // Warm both paths (connections, caches) before measuring.
        for index in 0..<20 {
            _ = try await station.scanToGrant(try sandbox.token(patient: index))
            _ = try await sandbox.openDirectly(try sandbox.token(patient: index), with: direct)
        }
        var scans: [Double] = [], openings: [Double] = []
        var session = ""
        for index in 0..<samples {
            let (milliseconds, id) = try await station.scanToGrant(try sandbox.token(patient: index))
            scans.append(milliseconds)
            session = id
            openings.append(try await sandbox.openDirectly(try sandbox.token(patient: index + 1), with: direct).0)
        }
        say("== online, \(samples) scans over the Unix socket, each answered with its visit's grant")
        report("scan to grant (POST /v1/scans, verified, signed, opened at the cloud)", scans)
        report("baseline: the cloud's visit opening called directly (POST /v1/visits, mTLS)", openings)
        say(String(format: "ratio of medians %.2f", median(scans) / median(openings)))

        // Records: through the station (its grant) against the cloud directly (a grant of our own).
        let (_, grant) = try await sandbox.openDirectly(try sandbox.token(patient: 0), with: direct)
        var proxied: [Double] = [], straight: [Double] = []
        for round in 0..<(samples + 20) {
            let viaStation = try await station.timedGet("/v1/sessions/\(session)/records/medications")
            let clock = ContinuousClock(), start = clock.now
            let reply = try await direct.send(.GET, "/v1/visits/\(grant)/records/medications")
            guard reply.status == 200 else { throw BenchmarkError("direct records answered \(reply.status)") }
            let viaCloud = ms(start.duration(to: clock.now))
            if round >= 20 {
                proxied.append(viaStation)
                straight.append(viaCloud)
            }
        }
        say("== records, \(samples) reads of a visit's medications")
        report("through the station (GET /v1/sessions/{id}/records/medications)", proxied)
        report("baseline: the cloud directly (GET /v1/visits/{grant}/records/medications)", straight)
        say(String(format: "added by the station: %.2f ms median (target ≤ 2 ms)", median(proxied) - median(straight)))

        // Offline: the cloud goes away, the scans go on; then it comes back and the outbox drains.
        let openedBefore = try sandbox.visitsOpened()
        cloud.cut()
        let tokens = try (0..<offline).map { try sandbox.token(patient: $0) }
        let offlineStart = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for share in 0..<8 {
                group.addTask {
                    for index in stride(from: share, to: tokens.count, by: 8) {
                        let (status, body) = try await station.post("/v1/scans", json: ["token": tokens[index]])
                        guard status == 200, String(decoding: body, as: UTF8.self).contains(#""accepted":true"#) else {
                            throw BenchmarkError("offline scan refused: \(String(decoding: body, as: UTF8.self))")
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let offlineSeconds = seconds(offlineStart.duration(to: .now))
        let queued = try await station.outboxLength()
        say(
            "== offline: \(offline) scans verified locally in \(String(format: "%.1f", offlineSeconds)) s; outbox \(queued)"
        )
        cloud = try sandbox.serve()
        let back = ContinuousClock.now
        var firstDrop: ContinuousClock.Instant?
        var length = queued
        while length > 0 {
            try await Task.sleep(for: .milliseconds(20))
            length = try await station.outboxLength()
            if firstDrop == nil, length < queued { firstDrop = .now }
            if back.duration(to: .now) > .seconds(300) {
                throw BenchmarkError("the outbox did not drain: \(length) left")
            }
        }
        let done = ContinuousClock.now
        let draining = seconds((firstDrop ?? back).duration(to: done))
        let opened = try sandbox.visitsOpened() - openedBefore
        say(
            String(
                format:
                    "drained %d visits in %.2f s after the cloud came back (%.2f s from the first answer): %.0f visits/s (target ≥ 200)",
                queued, seconds(back.duration(to: done)), draining, Double(queued) / max(draining, 0.001)))
        say(
            "the cloud opened \(opened) visits for the \(queued) offline scans: \(opened == queued ? "exactly once each" : "MISMATCH")"
        )
        say("daemon resident memory with the cloud link loaded (target ≤ 48 MiB):")
        say("  idle, lists synced: \(idleMemory)")
        say("  after the run: \(daemon.memory())")
        try await cardPhase(
            sandbox: sandbox, daemonPath: daemonPath, http: http, samples: samples, fileStation: station,
            fileDaemon: daemon)
        try await http.shutdown()
        try await direct.shutdown()
        if opened != queued { throw BenchmarkError("visits opened \(opened) != \(queued)") }
    }

    static func report(_ what: String, _ values: [Double]) {
        say(
            String(
                format: "%@: median %.2f ms, p99 %.2f ms, max %.2f ms (%d samples)", what, median(values),
                percentile(values, 99), values.max() ?? 0, values.count))
    }

    static func median(_ values: [Double]) -> Double { percentile(values, 50) }

    static func percentile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int((p / 100 * Double(sorted.count - 1)).rounded()))]
    }
}

func ms(_ duration: Duration) -> Double { seconds(duration) * 1000 }
func seconds(_ duration: Duration) -> Double {
    let (whole, attoseconds) = duration.components
    return Double(whole) + Double(attoseconds) / 1e18
}

func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

struct BenchmarkError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The daemon's API over its Unix socket.
struct Station: Sendable {
    let socket: String
    let http: HTTPClient

    func url(_ path: String) -> String {
        "http+unix://\(socket.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)\(path)"
    }

    func post(_ path: String, json: [String: String]) async throws -> (Int, Data) {
        var request = HTTPClientRequest(url: url(path))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: json)))
        let response = try await http.execute(request, timeout: .seconds(30))
        return (Int(response.status.code), Data(buffer: try await response.body.collect(upTo: 4 << 20)))
    }

    func get(_ path: String) async throws -> (Int, Data) {
        let response = try await http.execute(HTTPClientRequest(url: url(path)), timeout: .seconds(30))
        return (Int(response.status.code), Data(buffer: try await response.body.collect(upTo: 4 << 20)))
    }

    func timedGet(_ path: String) async throws -> Double {
        let clock = ContinuousClock(), start = clock.now
        let (status, body) = try await get(path)
        guard status == 200 else {
            throw BenchmarkError("\(path) answered \(status): \(String(decoding: body, as: UTF8.self))")
        }
        return ms(start.duration(to: clock.now))
    }

    /// Milliseconds from the submission to the answer carrying the visit's sequence number, and the session.
    func scanToGrant(_ token: String) async throws -> (Double, String) {
        let clock = ContinuousClock(), start = clock.now
        let (status, body) = try await post("/v1/scans", json: ["token": token, "source": "bench"])
        let elapsed = ms(start.duration(to: clock.now))
        let answer = (try? JSONSerialization.jsonObject(with: body) as? [String: Any]) ?? [:]
        let session = answer["session"] as? [String: Any]
        guard status == 200, session?["visitSequence"] is String, let id = session?["id"] as? String else {
            throw BenchmarkError("the scan was not forwarded at once: \(String(decoding: body, as: UTF8.self))")
        }
        return (elapsed, id)
    }

    func status() async throws -> [String: Any] {
        let (_, body) = try await get("/v1/status")
        return (try JSONSerialization.jsonObject(with: body) as? [String: Any]) ?? [:]
    }

    func outboxLength() async throws -> Int {
        ((try await status())["cloud"] as? [String: Any])?["outboxLength"] as? Int ?? -1
    }

    func waitForLists() async throws {
        for _ in 0..<400 {
            if let status = try? await status(), status["trustList"] != nil { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw BenchmarkError("the daemon did not come up with the cloud's lists")
    }
}

/// A sandbox made by `vhc-cloud init`, served by `vhc-cloud serve`, and a station configured for it.
struct Sandbox: @unchecked Sendable {
    let cloudPath: String
    let folder: String
    let directory: String
    let port: Int
    let institution: String
    let practitioner: String
    let patients: [[String: Any]]
    let issuer: String
    let tokenKey: P256.Signing.PrivateKey
    var socket: String { folder + "/api.sock" }
    var url: String { "https://127.0.0.1:\(port)" }
    var ca: String { directory + "/ca.pem" }
    var institutionCertificate: String { directory + "/institutions/\(institution)/cert.pem" }
    var institutionKey: String { directory + "/institutions/\(institution)/key.pem" }
    var practitionerCertificate: String { directory + "/practitioners/\(practitioner)/cert.pem" }
    var practitionerKey: String { directory + "/practitioners/\(practitioner)/key.pem" }

    init(cloud: String, folder: String) throws {
        cloudPath = cloud
        self.folder = folder
        directory = folder + "/sandbox"
        try Self.run(cloud, ["init", "--dir", directory])
        let manifest =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/sandbox.json")))
            as! [String: Any]
        let institutions = manifest["institutions"] as! [[String: Any]]
        let code = institutions.first { ($0["settings"] as! [String]).count == 4 }!["code"] as! String
        institution = code
        practitioner =
            (manifest["practitioners"] as! [[String: Any]]).first { ($0["institutions"] as! [String]).contains(code) }![
                "id"] as! String
        patients = (manifest["patients"] as! [[String: Any]]).filter { $0["insuranceStatus"] as? String == "active" }
        issuer = manifest["issuer"] as! String
        tokenKey = try P256.Signing.PrivateKey(
            pemRepresentation: try String(contentsOfFile: directory + "/issuer/token-key.pem", encoding: .utf8))
        port = Loopback.freePort()
    }

    static func run(_ path: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BenchmarkError("\(path) \(arguments) failed") }
    }

    func serve() throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: cloudPath)
        process.arguments = ["serve", "--dir", directory, "--listen", "127.0.0.1:\(port)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<200 {
            if Loopback.isListening(port) { return process }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw BenchmarkError("the cloud did not start")
    }

    func station(_ daemonPath: String) throws -> Daemon {
        let config = """
            institution: "\(institution)"
            trust:
              root: \(directory)/trust-root.pub
            storage:
              database: \(folder)/station.sqlite
            api:
              socket: \(socket)
            cloud:
              url: \(url)
              ca: \(ca)
              certificate: \(institutionCertificate)
              key: \(institutionKey)
              station: bench
              retry_max_seconds: 1
            """
        try config.write(toFile: folder + "/station.yaml", atomically: true, encoding: .utf8)
        return try Daemon(path: daemonPath, config: folder + "/station.yaml", socket: socket)
    }

    /// A fresh token of one of the sandbox's active patients.
    func token(patient index: Int) throws -> String {
        let patient = patients[index % patients.count]
        let now = Int64(Date().timeIntervalSince1970)
        let claims = TokenClaims(
            issuer: issuer, issuedAt: now, expiresAt: now + 300, tokenID: TokenIssuer.newTokenID(),
            holder: .init(
                id: patient["id"] as! String, name: patient["name"] as! String,
                birthDate: CalendarDate(iso: patient["birthDate"] as! String)!, photo: .verified),
            delegation: nil, cardNumber: nil)
        return try TokenIssuer(signingKey: tokenKey, issuer: issuer).issue(claims)
    }

    /// The cloud's visit opening called directly, signed here as the station would; ms and the grant.
    func openDirectly(_ token: String, with client: CloudClient) async throws -> (Double, String) {
        let key = try P256.Signing.PrivateKey(
            pemRepresentation: try String(contentsOfFile: practitionerKey, encoding: .utf8))
        let certificate = try pemDER(try String(contentsOfFile: practitionerCertificate, encoding: .utf8))
        let now = Int64(Date().timeIntervalSince1970)
        let body = try VisitOpening(
            token: token, institution: institution, setting: .outpatient, signedAt: now, scannedAt: now
        )
        .signed(by: key, certificate: certificate)
        let clock = ContinuousClock(), start = clock.now
        let reply = try await client.send(.POST, "/v1/visits", body: body, contentType: VisitOpening.mediaType)
        let elapsed = ms(start.duration(to: clock.now))
        guard reply.status == 201, let grant = try? JSONDecoder().decode(VisitGrant.self, from: reply.body) else {
            throw BenchmarkError("direct opening answered \(reply.status)")
        }
        return (elapsed, grant.grant)
    }

    /// Visits the cloud opened, from its audit log.
    func visitsOpened() throws -> Int {
        let output = Pipe()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"SELECT count(*) FROM audit_log WHERE kind = 'visit.opened'\").fetchone()[0])",
            directory + "/cloud.sqlite",
        ]
        process.standardOutput = output
        try process.run()
        process.waitUntilExit()
        return Int(
            String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }
}

func pemDER(_ pem: String) throws -> [UInt8] {
    let body = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
    guard let data = Data(base64Encoded: body) else { throw BenchmarkError("not PEM") }
    return [UInt8](data)
}

/// The station daemon as deployed (static release build), with the unit's environment.
final class Daemon: @unchecked Sendable {
    let process = Process()

    init(path: String, config: String, socket: String) throws {
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["--config", config]
        process.environment = ProcessInfo.processInfo.environment.merging(["MALLOC_ARENA_MAX": "2"]) { $1 }
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: socket) { Thread.sleep(forTimeInterval: 0.05) }
    }

    func residentMiB() -> Double { Loopback.residentMiB(of: process.processIdentifier) }

    /// `RSS 45.2 MiB (anonymous 4.4, file-backed 40.8; PSS 41.0)`.
    func memory() -> String { Loopback.memoryReport(of: process.processIdentifier) }

    func terminate() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}

extension Process {
    /// Stops a cloud at once, as a network cut does.
    func cut() {
        guard isRunning else { return }
        kill(processIdentifier, SIGKILL)
        waitUntilExit()
    }
}
