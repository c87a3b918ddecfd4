import ArgumentParser
import Foundation
import Logging
import SandboxCloud
import ServiceLifecycle

/// `vhc-cloud`: the project's sandbox of the NHIA side (docs/cloud.md). Never the production services.
@main
struct VHCCloud: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vhc-cloud",
        abstract: "The sandbox cloud: visit openings, lists and records for vhc-station, on your own machine.",
        subcommands: [Init.self, Serve.self])
}

struct Init: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make a complete sandbox (CA, certificates, issuer keys, people, database, first lists).")

    @Option(help: "An empty or new directory for the sandbox.") var dir: String
    @Option(help: "How many synthetic patients (at least 20).") var patients = 24

    func run() async throws {
        let directory = SandboxDirectory(path: dir)
        do {
            let manifest = try await SandboxMaker.make(
                in: directory, now: Int64(Date().timeIntervalSince1970), patientCount: patients)
            print(
                "sandbox made in \(dir): \(manifest.institutions.count) institutions, "
                    + "\(manifest.practitioners.count) practitioners, \(manifest.patients.count) patients")
            print("serve it with: vhc-cloud serve --dir \(dir) --listen 127.0.0.1:8443")
        } catch {
            throw ValidationError("\(error)")
        }
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve a sandbox over HTTPS with mutual TLS.")

    @Option(help: "The sandbox directory made by `vhc-cloud init`.") var dir: String
    @Option(help: "HOST:PORT to listen on (a loopback address for a sandbox).") var listen = "127.0.0.1:8443"
    @Option(help: "Visit session length in seconds.") var sessionLength: Int64 = 3600
    @Option(help: "How late a visit opening may arrive after it was signed, in seconds.") var deferralWindow: Int64 =
        72 * 3600
    @Option(help: "Maximum concurrent connections.") var maxConnections = 512

    func run() async throws {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
            (0...65535).contains(port)
        else { throw ValidationError("--listen must be HOST:PORT, got '\(listen)'") }
        let host = String(listen[..<colon])
        guard sessionLength > 0, deferralWindow > 0 else {
            throw ValidationError("--session-length and --deferral-window must be positive")
        }
        let logger = {
            var logger = Logger(label: "vhc-cloud")
            logger.logLevel = .info
            return logger
        }()
        var settings = VisitOpener.Settings()
        settings.sessionLength = sessionLength
        settings.deferralWindow = deferralWindow
        var limits = SandboxCloud.Limits()
        limits.maximumConnections = maxConnections
        let cloud: SandboxCloud
        do {
            cloud = try await SandboxCloud.open(SandboxDirectory(path: dir), settings: settings, logger: logger)
        } catch {
            throw ValidationError("\(error)")
        }
        let listen = self.listen
        let app = try cloud.application(
            host: host, port: port, limits: limits,
            onServerRunning: { channel in
                logger.info(
                    "vhc-cloud listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? listen)"])
            })
        let group = ServiceGroup(
            configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
