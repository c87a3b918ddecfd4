import AsyncHTTPClient
import Foundation
import TestSupport

/// Issue 20's figure: scan to grant with both clinic keys on SoftHSM2 tokens (the institution's TLS key and
/// the practitioner's signing key), beside the file-key station in the same run, scans alternating between
/// the two daemons; and each daemon's memory, the module loaded in one.
extension ForwardingBenchmark {
    static func cardPhase(
        sandbox: Sandbox, daemonPath: String, http: HTTPClient, samples: Int, fileStation: Station, fileDaemon: Daemon
    ) async throws {
        let clinic = try SoftHSM.freshToken(), doctor = try SoftHSM.freshToken()
        try SoftHSM.importKey(sandbox.institutionKey, into: clinic, label: "institution", id: "01")
        try SoftHSM.importKey(sandbox.practitionerKey, into: doctor, label: "practitioner", id: "02")
        let pinFile = sandbox.folder + "/clinic-pin"
        _ = FileManager.default.createFile(
            atPath: pinFile, contents: Data((clinic.userPIN + "\n").utf8), attributes: [.posixPermissions: 0o600])
        let socket = sandbox.folder + "/cards.sock"
        let config = """
            institution: "\(sandbox.institution)"
            trust:
              root: \(sandbox.directory)/trust-root.pub
            storage:
              database: \(sandbox.folder)/station-cards.sqlite
            api:
              socket: \(socket)
            cloud:
              url: \(sandbox.url)
              ca: \(sandbox.ca)
              certificate: \(sandbox.institutionCertificate)
              key: "\(clinic.uri);object=institution"
              pkcs11_module: \(SoftHSM.modulePath)
              pin_file: \(pinFile)
              card_module: \(SoftHSM.modulePath)
              station: bench-cards
              retry_max_seconds: 1
            """
        try config.write(toFile: sandbox.folder + "/station-cards.yaml", atomically: true, encoding: .utf8)
        let daemon = try Daemon(path: daemonPath, config: sandbox.folder + "/station-cards.yaml", socket: socket)
        defer { daemon.terminate() }
        let station = Station(socket: socket, http: http)
        try await station.waitForLists()
        try await Task.sleep(for: .seconds(1))
        let idle = daemon.memory()
        let login = try await station.post(
            "/v1/practitioner/login",
            json: [
                "pkcs11": "\(doctor.uri);object=practitioner", "pin": doctor.userPIN,
                "certificate": try String(contentsOfFile: sandbox.practitionerCertificate, encoding: .utf8),
            ])
        guard login.0 == 200 else { throw BenchmarkError("card login failed: \(String(decoding: login.1, as: UTF8.self))") }
        for index in 0..<20 { _ = try await station.scanToGrant(try sandbox.token(patient: index)) }
        var onCards: [Double] = [], inFiles: [Double] = []
        for index in 0..<samples {  // alternating, so drift on a shared machine hits both alike
            onCards.append(try await station.scanToGrant(try sandbox.token(patient: index)).0)
            inFiles.append(try await fileStation.scanToGrant(try sandbox.token(patient: index + 1)).0)
        }
        say("== the clinic's keys on SoftHSM2 tokens, \(samples) scans alternating with the file-key station")
        report("scan to grant, keys on tokens (TLS and the opening signed on them)", onCards)
        report("scan to grant, keys in files (the same run)", inFiles)
        say(
            String(
                format: "difference of medians %.2f ms (target: within 5 ms)", median(onCards) - median(inFiles)))
        say("daemon memory with the PKCS#11 module loaded: idle \(idle); after the run \(daemon.memory())")
        say("the file-key daemon beside it, now: \(fileDaemon.memory())")
    }
}
