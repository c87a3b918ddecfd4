import ArgumentParser
import CloudProtocol
import Foundation
import Logging
import SandboxCloud
import ServiceLifecycle
import StationBuild
import VirtualCard

/// The entry point: the arguments as the kernel passed them (`ProcessArguments`: the laptop tests run the
/// cloud under libfaketime beside the station).
@main
enum VHCCloudEntry {
    static func main() async {
        await VHCCloud.main(Array(ProcessArguments.current().dropFirst()))
    }
}

/// `vhc-cloud`: the project's sandbox of the NHIA side (docs/cloud.md). Never the production services.
struct VHCCloud: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vhc-cloud",
        abstract: "The sandbox cloud: visit openings, lists and records for vhc-station, on your own machine.",
        version: BuildInfo.description,
        subcommands: [
            Init.self, Serve.self, Enrol.self, PractitionerCommand.self, Affiliate.self, PatientCommand.self,
            Opening.self,
        ])
}

struct Init: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make a complete sandbox (CA, certificates, issuer keys, people, database, first lists).")

    @Option(help: "An empty or new directory for the sandbox.") var dir: String
    @Option(help: "How many synthetic patients (at least 20).") var patients = 24

    func run() async throws {
        let directory = SandboxDirectory(path: dir)
        do {
            let manifest = try await SandboxMaker.make(
                in: directory, now: Int64(Date().timeIntervalSince1970), patientCount: patients)
            print(
                "sandbox made in \(dir): \(manifest.institutions.count) institutions, "
                    + "\(manifest.practitioners.count) practitioners, \(manifest.patients.count) patients")
            print("serve it with: vhc-cloud serve --dir \(dir) --listen 127.0.0.1:8443")
        } catch {
            throw ValidationError("\(error)")
        }
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve a sandbox over HTTPS with mutual TLS.")

    @Option(help: "The sandbox directory made by `vhc-cloud init`.") var dir: String
    @Option(help: "HOST:PORT to listen on (a loopback address for a sandbox).") var listen = "127.0.0.1:8443"
    @Option(help: "Visit session length in seconds.") var sessionLength: Int64 = 3600
    @Option(help: "How late a visit opening may arrive after it was signed, in seconds.") var deferralWindow: Int64 =
        72 * 3600
    @Option(help: "How long a patient has to answer a consent request, in seconds.") var consentWindow: Int64 =
        ConsentRequest.answerWindow
    @OptionGroup var connections: ConnectionOptions

    func run() async throws {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
            (0...65535).contains(port)
        else { throw ValidationError("--listen must be HOST:PORT, got '\(listen)'") }
        let host = String(listen[..<colon])
        guard (60...7 * 86_400).contains(sessionLength), (300...30 * 86_400).contains(deferralWindow) else {
            throw ValidationError(
                "--session-length must be 60 s to 7 days and --deferral-window 300 s to 30 days (in seconds)")
        }
        guard (5...ConsentRequest.answerWindow).contains(consentWindow) else {
            throw ValidationError("--consent-window must be 5 to \(ConsentRequest.answerWindow) seconds")
        }
        let logger = {
            var logger = Logger(label: "vhc-cloud")
            logger.logLevel = .info
            return logger
        }()
        var settings = VisitOpener.Settings()
        settings.sessionLength = sessionLength
        settings.deferralWindow = deferralWindow
        settings.consentWindow = consentWindow
        let limits = try connections.limits(logger: logger)
        let cloud: SandboxCloud
        do {
            cloud = try await SandboxCloud.open(SandboxDirectory(path: dir), settings: settings, logger: logger)
        } catch {
            throw ValidationError("\(error)")
        }
        let listen = self.listen
        let app = try cloud.application(
            host: host, port: port, limits: limits,
            onServerRunning: { channel in
                logger.info(
                    "vhc-cloud listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? listen)"])
            })
        let group = ServiceGroup(
            configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

// MARK: - Growing a sandbox

/// What every editing command shares: the directory, and the note that a running server must restart.
struct EditOptions: ParsableArguments {
    @Option(help: "The sandbox directory made by `vhc-cloud init`.") var dir: String

    var editor: SandboxEditor {
        SandboxEditor(directory: SandboxDirectory(path: dir), now: Int64(Date().timeIntervalSince1970))
    }

    func run(_ body: (SandboxEditor) async throws -> String) async throws {
        do { print(try await body(editor)) } catch { throw ValidationError("\(error)") }
        print("a running vhc-cloud serve reads sandbox.json at start: restart it to use this")
    }
}

/// A certificate request file's text (`--csr`).
func readRequest(_ path: String) throws -> String {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
        throw ValidationError("cannot read the certificate request '\(path)'")
    }
    return text
}

extension CareSetting: ExpressibleByArgument {}
extension Profession: ExpressibleByArgument {}

struct Enrol: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Enrol an institution (new certificate), or change the settings it is enrolled in.")

    @OptionGroup var options: EditOptions
    @Option(help: "The 10-digit institution code.") var code: String
    @Option(help: "The institution's name.") var name: String
    @Option(
        name: .customLong("setting"),
        help: "A care setting (repeat): home_care, telemedicine, video_consultation, outpatient.")
    var settings: [CareSetting]
    @Option(
        help: ArgumentHelp(
            "Issue the certificate for this PKCS#10 request (made on the institution's token) instead of a new key.",
            valueName: "FILE"))
    var csr: String?

    func run() async throws {
        let request = try csr.map(readRequest)
        try await options.run { editor in
            let institution = try editor.enrol(code: code, name: name, settings: settings, requestPEM: request)
            return "institution \(institution.code) enrolled in "
                + institution.settings.map(\.rawValue).joined(separator: ", ")
        }
    }
}

struct PractitionerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "practitioner", abstract: "Practitioners.", subcommands: [Add.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a practitioner with a signing certificate (affiliate them next).")

        @OptionGroup var options: EditOptions
        @Option(help: "physician, nurse, pharmacist or other.") var profession: Profession
        @Option(help: "Their ID number (default: a new synthetic one).") var id: String?
        @Option(help: "Their name (default: a synthetic one).") var name: String?
        @Option(
            help: ArgumentHelp(
                "Issue the certificate for this PKCS#10 request (made on their card) instead of a new key.",
                valueName: "FILE"))
        var csr: String?

        func run() async throws {
            let request = try csr.map(readRequest)
            try await options.run { editor in
                let practitioner = try editor.addPractitioner(
                    id: id, name: name, profession: profession, requestPEM: request)
                return "practitioner \(practitioner.id) (\(practitioner.profession.rawValue)) added; "
                    + (request == nil ? "key" : "certificate") + " in practitioners/\(practitioner.id)/"
            }
        }
    }
}

struct Affiliate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Affiliate a practitioner with an institution, or end it with --remove.")

    @OptionGroup var options: EditOptions
    @Option(help: "The practitioner's ID number.") var practitioner: String
    @Option(help: "The 10-digit institution code.") var institution: String
    @Flag(help: "End the affiliation instead.") var remove = false

    func run() async throws {
        try await options.run { editor in
            let updated = try editor.affiliate(practitioner: practitioner, institution: institution, remove: remove)
            return "practitioner \(TaiwanID.masked(updated.id)) is affiliated with: "
                + (updated.institutions.isEmpty ? "no institution" : updated.institutions.joined(separator: ", "))
        }
    }
}

struct PatientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "patient", abstract: "Patients.", subcommands: [Add.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a patient with an app secret and MediCloud-like records.")

        @OptionGroup var options: EditOptions
        @Option(help: "Their ID number (default: a new synthetic one).") var id: String?
        @Option(help: "Their name (default: a synthetic one).") var name: String?
        @Option(help: "Birth date, YYYY-MM-DD (default: 1980-01-01).") var birthDate = "1980-01-01"
        @Option(help: "F or M.") var sex = "F"
        @Option(help: "The 12-digit NHI card number, if the app shows one.") var cardNumber: String?
        @Flag(help: "The card has no verified photo: clinics check an ID document.") var noPhoto = false
        @Flag(help: "Insurance suspended.") var suspended = false

        func run() async throws {
            guard let sex = Sex(rawValue: sex) else { throw ValidationError("--sex is F or M") }
            var generator = SystemRandomNumberGenerator()
            let patient = SandboxManifest.Patient(
                id: id ?? SandboxEditor.syntheticID(sex: sex, using: &generator),
                name: name ?? SandboxEditor.syntheticName(using: &generator), birthDate: birthDate, sex: sex,
                cardNumber: cardNumber, photo: noPhoto ? .none : .verified,
                insuranceStatus: suspended ? .suspended : .active,
                cardIssuedAt: CalendarDate(taipeiDateAt: Int64(Date().timeIntervalSince1970)).iso)
            try await options.run { editor in
                try await editor.addPatient(patient)
                return "patient \(patient.id) added; app secret in patients/\(patient.id)/app-secret"
            }
        }
    }
}
