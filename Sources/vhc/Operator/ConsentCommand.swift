import ArgumentParser
import CloudProtocol
import StationModels

/// `vhc consent request|list|cancel`: asks a patient, through the cloud, to consent to a remote visit;
/// lists the station's requests; withdraws a pending one.
struct ConsentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consent", abstract: "Remote consent for telemedicine and video consultations.",
        subcommands: [Request.self, List.self, Cancel.self])

    struct Request: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ask the patient (their ID number) to consent in the app; the answer comes as events.",
            discussion: """
                On approval the daemon receives a one-time token from the cloud, verifies it and opens the \
                visit as for a scan (events consent.approved, scan.accepted, session.opened); a refusal or no \
                answer within ten minutes is consent.refused or consent.expired. Follow them with `vhc events` \
                or `vhc consent list`.
                """)
        @OptionGroup var daemon: DaemonOptions
        @Argument(help: ArgumentHelp("The patient's ID number.", valueName: "ID")) var patient: String
        @Option(help: "telemedicine or video_consultation (default: the station's, if remote).") var setting: String?

        func run() async throws {
            let reply = try await DaemonClient(socketPath: daemon.socketPath).call(
                .POST, "/v1/consents", json: StationConsentRequest(patientId: patient, setting: setting),
                as: StationConsent.self)
            if daemon.json { return Printer.json(reply.body) }
            print(ConsentCommand.describe(reply.answer))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The station's consent requests of the last day and every pending one, newest first.")
        @OptionGroup var daemon: DaemonOptions

        func run() async throws {
            let reply = try await DaemonClient(socketPath: daemon.socketPath).call(
                .GET, "/v1/consents", as: StationConsentList.self)
            if daemon.json { return Printer.json(reply.body) }
            if reply.answer.consents.isEmpty { print("no consent requests in the last day") }
            for consent in reply.answer.consents { print(ConsentCommand.describe(consent)) }
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Withdraw a pending consent request: the patient's app stops asking (event consent.cancelled).")
        @OptionGroup var daemon: DaemonOptions
        @Argument(help: ArgumentHelp("The request's id (vhc consent list).", valueName: "ID")) var id: String

        func run() async throws {
            let reply = try await DaemonClient(socketPath: daemon.socketPath).call(
                .POST, "/v1/consents/\(URLComponentText.escape(id))/cancel", json: [String: String](),
                as: StationConsent.self)
            if daemon.json { return Printer.json(reply.body) }
            print(ConsentCommand.describe(reply.answer))
        }
    }

    /// One line: the request, whom it asked (masked), and where it stands.
    static func describe(_ consent: StationConsent) -> String {
        var line = "consent \(consent.id): \(consent.patient), \(consent.setting), \(consent.state.rawValue)"
        switch consent.state {
        case .pending: line += " until \(Printer.time(consent.expiresAt))"
        default:
            if let ended = consent.endedAt { line += " at \(Printer.time(ended))" }
            if let code = consent.code { line += " (\(code))" }
            if let session = consent.sessionId { line += ", visit \(session)" }
        }
        return line
    }
}
