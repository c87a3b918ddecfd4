import ArgumentParser
import Foundation
import StationBuild
import StationModels

/// `vhc`: the station's command. Offline token tools, and a client of the daemon (`vhc-stationd`).
struct VHC: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vhc",
        abstract: "Virtual NHI Card (虛擬健保卡) station tools: verify and issue VHC1 tokens, keys and lists.",
        version: BuildInfo.description,
        // Grouped in the help by who runs them, as the folders Operator/, Issuer/ and App/ are.
        groupedSubcommands: [
            CommandGroup(
                name: "Station operator",
                subcommands: [
                    StatusCommand.self, SessionsCommand.self, EventsCommand.self, SubmitCommand.self,
                    ClockCommand.self, LoginCommand.self, LogoutCommand.self, CardCommand.self, RecordsCommand.self,
                    AlertsCommand.self, ConsentCommand.self, WebCommand.self, AuditCommand.self, CameraCommand.self,
                    ScanCommand.self, ScannerCommand.self, DoctorCommand.self,
                ]),
            CommandGroup(
                name: "Issuer",
                subcommands: [
                    VerifyCommand.self, IssueCommand.self, KeysCommand.self, TrustListCommand.self,
                    RevocationsCommand.self,
                ]),
            CommandGroup(name: "Phone app", subcommands: [AppCommand.self]),
        ])
}

/// Entry point: the profile's exit statuses are 0 valid, 1 any other verdict, 2 usage or
/// configuration error. ArgumentParser's own usage errors (64 by default) are mapped to 2.
@main
enum Main {
    static func main() async {
        do {
            var command = try VHC.parseAsRoot()
            if var client = command as? any AsyncParsableCommand {
                try await client.run()
            } else {
                try command.run()
            }
        } catch let exit as ExitCode {
            Foundation.exit(exit.rawValue)
        } catch let failure as UsageError {
            FileHandle.standardError.write(Data("vhc: \(failure.message)\n".utf8))
            Foundation.exit(ExitCode.usage.rawValue)
        } catch let problem as Problem {
            FileHandle.standardError.write(Data("vhc: \(problem)\n".utf8))
            Foundation.exit(ExitCode.invalid.rawValue)
        } catch {
            if VHC.exitCode(for: error) == .success { VHC.exit(withError: error) }  // --help, --version
            FileHandle.standardError.write(Data("vhc: \(VHC.fullMessage(for: error))\n".utf8))
            Foundation.exit(ExitCode.usage.rawValue)
        }
    }
}
