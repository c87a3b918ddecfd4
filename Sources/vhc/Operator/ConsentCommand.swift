import ArgumentParser
import CloudProtocol
import StationModels

/// `vhc consent request`: asks a patient, through the cloud, to consent to a remote visit.
struct ConsentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consent", abstract: "Remote consent for telemedicine and video consultations.",
        subcommands: [Request.self])

    struct Request: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ask the patient (their ID number) to consent in the app; the answer comes as events.",
            discussion: """
                On approval the daemon receives a one-time token from the cloud, verifies it and opens the \
                visit as for a scan (events consent.approved, scan.accepted, session.opened); a refusal or no \
                answer within ten minutes is consent.refused or consent.expired. Follow them with `vhc events`.
                """)
        @OptionGroup var daemon: DaemonOptions
        @Argument(help: ArgumentHelp("The patient's ID number.", valueName: "ID")) var patient: String
        @Option(help: "telemedicine or video_consultation (default: the station's, if remote).") var setting: String?

        func run() async throws {
            let reply = try await DaemonClient(socketPath: daemon.socketPath).call(
                .POST, "/v1/consents", json: StationConsentRequest(patientId: patient, setting: setting),
                as: Consent.self)
            if daemon.json { return Printer.json(reply.body) }
            let consent = reply.answer
            print(
                "consent \(consent.id): asked \(consent.patient) for \(consent.setting.rawValue); "
                    + "\(consent.state.rawValue) until \(Printer.time(consent.expiresAt))")
        }
    }
}
