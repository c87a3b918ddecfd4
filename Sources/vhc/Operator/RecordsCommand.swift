import ArgumentParser
import CloudProtocol
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

extension RecordCategory: ExpressibleByArgument {}

/// An answer kept as bytes, decoded by the caller (its type depends on the request).
struct RawJSON: Decodable {
    init(from decoder: any Decoder) throws {}
}
