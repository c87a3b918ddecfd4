import ArgumentParser
import CloudClient
import CloudProtocol
import Foundation
import Station
import StationConfiguration
import VirtualCard

/// `vhc audit verify`: checks the audit log's hash chain in a station database.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Check the station's audit log, and anchor it in the cloud.",
        subcommands: [Verify.self, Push.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the audit log's hash chain and report the first broken row.",
            discussion: """
                Exit status: 0 when the chain is intact, 1 when a row was edited, removed or cut off \
                (the first such row is named), 2 when the database cannot be read.
                """)

        @Option(
            help: ArgumentHelp(
                "The station database (default: the one --config names, else /var/lib/vhc-station/station.sqlite).",
                valueName: "FILE"))
        var database: String?
        @Option(
            help: ArgumentHelp(
                "Chain heads recorded outside the database: a file of the daemon's 'audit-head' lines "
                    + "(journalctl -u vhc-stationd -o cat > FILE), or 'cloud' for the heads the daemon sent "
                    + "to the cloud named in --config.", valueName: "FILE|cloud"))
        var anchors: String?
        @Option(
            help: ArgumentHelp(
                "The station's configuration: its database, and with --anchors cloud its cloud.", valueName: "FILE"))
        var config: String?

        /// The database: --database, else the configuration's (when one is named, or the cloud is
        /// asked), else the default place. One configuration names both, as `vhc audit push` reads it.
        func databasePath() throws -> String {
            if let database { return database }
            if config != nil || anchors == "cloud" {
                return try ConfiguredCloud.loadConfig(config ?? StationConfig.defaultPath).storage.database
            }
            return StationConfig.Storage.defaultDatabase
        }

        func run() async throws {
            let database = try databasePath()
            guard FileManager.default.fileExists(atPath: database) else {
                throw UsageError("no station database at '\(database)'")
            }
            var recorded: [AuditCheck.Anchor] = []
            if anchors == "cloud" {
                recorded = try await cloudAnchors()
                guard !recorded.isEmpty else { throw UsageError("the cloud holds no audit heads for this station") }
            } else if let anchors {
                let text = try Inputs.readText(anchors, what: "anchors file")
                recorded = AuditCheck.Anchor.anchors(in: text)
                guard !recorded.isEmpty else {
                    throw UsageError("no 'audit-head sequence=N hash=H' lines in '\(anchors)'")
                }
            }
            let report: AuditCheck.Report
            do { report = try AuditCheck.verify(path: database, anchors: recorded) } catch {
                throw UsageError(error.description)
            }
            guard report.isIntact else {
                print("audit log broken at \(report.findings[0]) (\(report.rows) rows before it check out)")
                for finding in report.findings.dropFirst() { print("also: \(finding)") }
                throw ExitCode.invalid
            }
            print(
                "audit log intact: \(report.rows) rows"
                    + (recorded.isEmpty ? "" : ", consistent with \(recorded.count) anchors"))
        }

        /// The heads sent to the cloud (`GET /v1/audit-heads`), with the institution's certificate from
        /// the station's configuration.
        func cloudAnchors() async throws -> [AuditCheck.Anchor] {
            let (cloud, loaded) = try ConfiguredCloud.load(config ?? StationConfig.defaultPath)
            let list = try await ConfiguredCloud.call(cloud, institution: loaded.institution) { client in
                try await client.call(.GET, "/v1/audit-heads?station=\(cloud.station)", as: AuditHeadList.self)
            }
            return list.heads.compactMap { head in
                Hex.decode(head.hash).map { AuditCheck.Anchor(sequence: head.sequence, hash: $0) }
            }
        }
    }

    /// `vhc audit push`: sends the chain's head to the cloud, run by a systemd timer every minute. Apart
    /// from the daemon on purpose: the daemon stays small and offline-capable, and only this command
    /// needs the institution's key.
    struct Push: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send the audit chain's head to the cloud (an anchor for `verify --anchors cloud`).",
            discussion: "Exit status: 0 sent (or nothing to send), 2 when the database or the cloud cannot be reached.")

        @Option(help: ArgumentHelp("The station's configuration (cloud and database).", valueName: "FILE"))
        var config: String = StationConfig.defaultPath

        func run() async throws {
            let (cloud, loaded) = try ConfiguredCloud.load(config)
            let head: AuditCheck.Anchor?
            do { head = try AuditCheck.head(path: loaded.storage.database) } catch {
                throw UsageError(error.description)
            }
            guard let head else {
                print("the audit log is empty: nothing to send")
                return
            }
            _ = try await ConfiguredCloud.call(cloud, institution: loaded.institution) { client in
                try await client.call(
                    .POST, "/v1/audit-heads",
                    json: AuditHeadUpload(station: cloud.station, sequence: head.sequence, hash: Hex.encode(head.hash)),
                    as: AuditHeadUpload.self)
            }
            print("sent the audit head to \(cloud.url): row \(head.sequence)")
        }
    }
}

/// The cloud named in the station's configuration, reached with the institution's certificate.
enum ConfiguredCloud {
    static func loadConfig(_ path: String) throws -> StationConfig {
        do { return try StationConfig.load(path: path) } catch { throw UsageError("\(path): \(error)") }
    }

    static func load(_ path: String) throws -> (StationConfig.Cloud, StationConfig) {
        let loaded = try loadConfig(path)
        guard let cloud = loaded.cloud else { throw UsageError("\(path) names no cloud (cloud.url)") }
        return (cloud, loaded)
    }

    /// One exchange with a client made for it; a failure is a usage error (exit 2) naming the cloud.
    static func call<T: Sendable>(
        _ cloud: StationConfig.Cloud, institution: String, _ body: (CloudClient) async throws -> T
    ) async throws -> T {
        let client: CloudClient
        do {
            client = try CloudFiles(cloud, institution: institution).client(url: cloud.url)
        } catch { throw UsageError("\(error)") }
        let outcome: Result<T, any Error>
        do { outcome = .success(try await body(client)) } catch { outcome = .failure(error) }
        try? await client.shutdown()
        switch outcome {
        case .success(let value): return value
        case .failure(let error): throw UsageError("the cloud at \(cloud.url) did not answer as expected: \(error)")
        }
    }
}
