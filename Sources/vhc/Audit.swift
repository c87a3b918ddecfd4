import ArgumentParser
import Foundation
import Station

/// `vhc audit verify`: checks the audit log's hash chain in a station database.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Check the station's audit log.", subcommands: [Verify.self])

    struct Verify: ParsableCommand {
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
                    + "(journalctl -u vhc-stationd -o cat > FILE).", valueName: "FILE"))
        var anchors: String?

        func run() throws {
            guard FileManager.default.fileExists(atPath: database) else {
                throw UsageError("no station database at '\(database)'")
            }
            var recorded: [AuditCheck.Anchor] = []
            if let anchors {
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
    }
}
