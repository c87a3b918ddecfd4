import ArgumentParser
import CloudClient
import CloudProtocol
import Foundation
import Station
import VirtualCard

/// `vhc audit verify`: checks the audit log's hash chain in a station database.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Check the station's audit log.", subcommands: [Verify.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the audit log's hash chain and report the first broken row.",
            discussion: """
                Exit status: 0 when the chain is intact, 1 when a row was edited, removed or cut off \
                (the first such row is named), 2 when the database cannot be read.
                """)

        @Option(help: ArgumentHelp("The station database.", valueName: "FILE"))
        var database: String = "/var/lib/vhc-station/station.sqlite"
        @Option(
            help: ArgumentHelp(
                "Chain heads recorded outside the database: a file of the daemon's 'audit-head' lines "
                    + "(journalctl -u vhc-stationd -o cat > FILE), or 'cloud' for the heads the daemon sent "
                    + "to the cloud named in --config.", valueName: "FILE|cloud"))
        var anchors: String?
        @Option(help: ArgumentHelp("With --anchors cloud: the station's configuration.", valueName: "FILE"))
        var config: String = StationConfig.defaultPath

        func run() async throws {
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

        /// The heads the daemon sent to the cloud (`GET /v1/audit-heads`), with the institution's
        /// certificate from the station's configuration.
        func cloudAnchors() async throws -> [AuditCheck.Anchor] {
            let loaded: StationConfig
            do { loaded = try StationConfig.load(path: config) } catch { throw UsageError("\(config): \(error)") }
            guard let cloud = loaded.cloud else { throw UsageError("\(config) names no cloud (cloud.url)") }
            let client: CloudClient
            do {
                client = try CloudClient(
                    baseURL: cloud.url, caPEM: try Inputs.readText(cloud.ca, what: "cloud CA"),
                    identity: .init(
                        certificatePEM: try Inputs.readText(cloud.certificate, what: "institution certificate"),
                        keyPEM: try Inputs.readText(cloud.key, what: "institution key")))
            } catch let failure as UsageError { throw failure } catch { throw UsageError("\(error)") }
            let outcome: Result<AuditHeadList, any Error>
            do {
                outcome = .success(
                    try await client.call(.GET, "/v1/audit-heads?station=\(cloud.station)", as: AuditHeadList.self))
            } catch { outcome = .failure(error) }
            try? await client.shutdown()
            switch outcome {
            case .success(let list):
                return list.heads.compactMap { head in
                    Hex.decode(head.hash).map { AuditCheck.Anchor(sequence: head.sequence, hash: $0) }
                }
            case .failure(let error):
                throw UsageError("cannot read the audit heads from \(cloud.url): \(error)")
            }
        }
    }
}
