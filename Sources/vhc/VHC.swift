import ArgumentParser
import Foundation
import StationModels

/// `vhc`: the station's command. Offline token tools, and a client of the daemon (`vhc-stationd`).
struct VHC: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vhc",
        abstract: "Virtual NHI Card (虛擬健保卡) station tools: verify and issue VHC1 tokens, keys and lists.",
        subcommands: [
            Verify.self, Issue.self, Keys.self, TrustListCommand.self, RevocationsCommand.self, Scan.self,
            CameraCommand.self, AuditCommand.self, StatusCommand.self, SessionsCommand.self, EventsCommand.self,
            SubmitCommand.self, ClockCommand.self, LoginCommand.self, LogoutCommand.self, RecordsCommand.self,
            AlertsCommand.self, ConsentCommand.self, AppCommand.self, WebCommand.self,
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

extension ExitCode {
    static let invalid = ExitCode(1)
    static let usage = ExitCode(2)
}

/// A usage or configuration error: a message on standard error and exit status 2.
struct UsageError: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}
