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

        func run() throws {
            guard FileManager.default.fileExists(atPath: database) else {
                throw UsageError("no station database at '\(database)'")
            }
            let result: AuditLog.Verification
            do {
                result = try AuditLog(database: StationDatabase(path: database)).verify()
            } catch {
                throw UsageError("cannot read the audit log in '\(database)': \(error)")
            }
            if let broken = result.firstBroken {
                print("audit log broken at \(broken) (\(result.rows) rows before it check out)")
                throw ExitCode.invalid
            }
            print("audit log intact: \(result.rows) rows")
        }
    }
}
