import ArgumentParser
import CloudProtocol
import Foundation
import StationModels

/// `vhc records`: a visit's records from the cloud, through the daemon (which holds the grant).
struct RecordsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "records",
        abstract: "Show a visit's records from the cloud: medications, tcm, allergies, labs, imaging, surgeries, "
            + "discharges, preventive.",
        discussion: "The session must be open and its visit opened at the cloud. Each read is audited.")
    @OptionGroup var daemon: DaemonOptions
    @Argument(help: "The session id.") var session: String
    @Argument(help: "The category.") var category: RecordCategory
    @Option(help: "The page, from 1.") var page = 1
    @Flag(help: "Print a FHIR R4 Bundle (TW Core IG) instead.") var fhir = false

    func run() async throws {
        var query = [("page", String(page))]
        if fhir { query.append(("format", "fhir")) }
        let reply = try await DaemonClient(socketPath: daemon.socketPath).call(
            .GET, "/v1/sessions/\(DaemonClient.escape(session))/records/\(category.rawValue)", query: query,
            as: RawJSON.self)
        if daemon.json || fhir { return Printer.json(reply.body) }
        let records = try CategoryPage(category: category, json: reply.body)
        let lines = Self.lines(records)
        if lines.isEmpty { print("no \(category.rawValue) on record") }
        for line in lines { print(line) }
    }

    /// One line per record, what a clinician scans first.
    static func lines(_ page: CategoryPage) -> [String] {
        switch page {
        case .medications(let page):
            page.items.map {
                "\($0.date)  \($0.atcCode)  \($0.name) \($0.dose)  \($0.daysRemaining) of \($0.daysSupply) days left"
                    + ($0.chronic ? "  chronic" : "") + "  (\($0.institution))"
            }
        case .tcm(let page):
            page.items.map { "\($0.date)  \($0.formula)  \($0.daysRemaining) of \($0.daysSupply) days left" }
        case .allergies(let page): page.items.map { "\($0.date)  \($0.substance)  \($0.reaction)  \($0.severity)" }
        case .labs(let page):
            page.items.map { "\($0.date)  \($0.test) (LOINC \($0.loinc))  \($0.value) \($0.unit)  \($0.flag)" }
        case .imaging(let page): page.items.map { "\($0.date)  \($0.modality) \($0.bodySite)  \($0.report)" }
        case .surgeries(let page): page.items.map { "\($0.date)  \($0.procedure) (\($0.code))  \($0.institution)" }
        case .discharges(let page):
            page.items.map { "\($0.admittedOn) to \($0.date)  \($0.diagnosisCode) \($0.diagnosis)  \($0.institution)" }
        case .preventive(let page): page.items.map { "\($0.date)  \($0.service)  \($0.result)" }
        }
    }
}

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

extension RecordCategory: ExpressibleByArgument {}

/// An answer kept as bytes, decoded by the caller (its type depends on the request).
struct RawJSON: Decodable {
    init(from decoder: any Decoder) throws {}
}

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
