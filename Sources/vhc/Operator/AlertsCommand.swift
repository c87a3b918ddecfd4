import ArgumentParser
import CloudProtocol
import StationModels

/// `vhc alerts`: what the cloud says of a proposed prescription for a visit.
struct AlertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "Check a proposed prescription against the visit's medications: duplicates and interactions.")
    @OptionGroup var daemon: DaemonOptions
    @Argument(help: "The session id.") var session: String
    @Option(
        name: .customLong("atc"), help: ArgumentHelp("A proposed drug's WHO ATC code (repeatable).", valueName: "CODE"))
    var atcCodes: [String]

    func run() async throws {
        let proposal = AlertRequest(prescriptions: atcCodes.map { .init(atcCode: $0, name: nil) })
        let reply = try await DaemonClient(socketPath: daemon.socketPath).call(
            .POST, "/v1/sessions/\(DaemonClient.escape(session))/alerts", json: proposal, as: AlertAnswer.self)
        if daemon.json { return Printer.json(reply.body) }
        if reply.answer.alerts.isEmpty { print("no alerts for \(atcCodes.joined(separator: ", "))") }
        for alert in reply.answer.alerts {
            print(
                "ALERT \(alert.kind.rawValue) (\(alert.severity)): \(alert.proposedAtcCode) with \(alert.existing.name) "
                    + "\(alert.existing.atcCode), \(alert.existing.daysRemaining) days left: \(alert.message)")
        }
    }
}
