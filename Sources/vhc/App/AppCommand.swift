import ArgumentParser
import CloudClient
import CloudProtocol
import Foundation
import Imaging
import QRRendering
import VirtualCard

/// `vhc app`: what a patient's phone does with the sandbox cloud, so a person can try the station
/// without the NHIA's app: a live QR code, delegations, answers to remote consent.
struct AppCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "app",
        abstract: "Play the patient's phone app against the sandbox cloud (vhc-cloud serve).",
        subcommands: [QR.self, Consent.self, Delegate.self, Delegations.self, CancelDelegation.self])

    /// Where the cloud is, and the sandbox directory holding its CA and the patients' app secrets.
    struct CloudOptions: ParsableArguments {
        @Option(help: ArgumentHelp("The sandbox cloud.", valueName: "URL")) var cloud = "https://127.0.0.1:8443"
        @Option(
            help: ArgumentHelp(
                "The sandbox directory (default: $VHC_SANDBOX): its ca.pem and patients/ID/app-secret.",
                valueName: "DIR"))
        var sandbox: String?

        var directory: String {
            get throws {
                guard let path = sandbox ?? ProcessInfo.processInfo.environment["VHC_SANDBOX"] else {
                    throw UsageError("name the sandbox directory with --sandbox DIR or VHC_SANDBOX")
                }
                return path
            }
        }

        /// The app of patient `id`, logged in with the secret `vhc-cloud` made for them.
        func app(of id: String) throws -> AppClient {
            guard TaiwanID.isValid(id) else { throw UsageError("'\(id)' is not a valid ID number") }
            let directory = try self.directory
            let secret = try Inputs.readText(directory + "/patients/\(id)/app-secret", what: "app secret")
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let ca = try Inputs.readText(directory + "/ca.pem", what: "sandbox CA certificate")
            do {
                return AppClient(cloud: try CloudClient(baseURL: cloud, caPEM: ca), secret: secret)
            } catch {
                throw UsageError("\(error)")
            }
        }
    }

    /// Runs `body` with the app and shuts its connections down; a cloud that cannot be reached is a
    /// usage error (exit 2), a refusal (problem+json) a verdict (exit 1).
    static func with<T>(_ app: AppClient, _ body: (AppClient) async throws -> T) async throws -> T {
        let outcome: Result<T, any Error>
        do { outcome = .success(try await body(app)) } catch { outcome = .failure(error) }
        try? await app.cloud.shutdown()
        switch outcome {
        case .success(let value): return value
        case .failure(let failure as CloudClient.TransportError): throw UsageError(failure.description)
        case .failure(let problem as CloudProblem):
            FileHandle.standardError.write(Data("vhc: the cloud refused: \(problem)\n".utf8))
            throw ExitCode(1)
        case .failure(let other): throw other
        }
    }

    // MARK: - qr

    struct QR: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the card's QR code, refreshed before each token expires, until Ctrl-C.",
            discussion: """
                Hold the screen to the station's webcam. With --as, DELEGATE's app shows the card that \
                ID delegated to them. --once prints one token's text and exits (for scripts).
                """)

        @OptionGroup var options: CloudOptions
        @Option(help: ArgumentHelp("The card holder's ID number.", valueName: "ID")) var card: String
        @Option(name: .customLong("as"), help: ArgumentHelp("Show it as this delegate.", valueName: "DELEGATE"))
        var delegate: String?
        @Flag(help: "Draw the QR code in the terminal (the default without --png).") var terminal = false
        @Option(help: ArgumentHelp("Write the QR code to this PNG at each refresh.", valueName: "FILE")) var png:
            String?
        @Flag(help: "Fetch one token, print its text, and exit.") var once = false
        @Option(help: ArgumentHelp("Refresh this long before expiry.", valueName: "SECONDS")) var refreshMargin: Int64 =
            60

        func validate() throws {
            guard (5...240).contains(refreshMargin) else { throw UsageError("--refresh-margin must be 5 to 240") }
        }

        func run() async throws {
            let app = try options.app(of: delegate ?? card)
            let asked = delegate == nil ? nil : card
            let stop = StopSignal.install()
            try await AppCommand.with(app) { app in
                repeat {
                    let token = try await app.token(card: asked)
                    if once {
                        if let png { try write(try symbol(token), to: png) }
                        print(token.token)
                        return
                    }
                    try show(token)
                    let refreshAt = token.expiresAt - refreshMargin
                    while !stop.requested && Inputs.now() < refreshAt { try await Task.sleep(for: .milliseconds(200)) }
                } while !stop.requested
            }
        }

        func symbol(_ token: AppToken) throws -> QRCode {
            do { return try QRCode.alphanumeric(token.token) } catch { throw UsageError("cannot draw: \(error)") }
        }

        /// Written beside and renamed, so a viewer never shows half a file.
        func write(_ code: QRCode, to png: String) throws {
            let partial = png + ".partial"
            do { try code.image().writePNG(to: partial) } catch { throw UsageError("--png: \(error)") }
            guard rename(partial, png) == 0 else { throw UsageError("cannot write \(png)") }
        }

        func show(_ token: AppToken) throws {
            let code = try symbol(token)
            if let png { try write(code, to: png) }
            let holder = TaiwanID.masked(card)
            let expires = Printer.time(Int64(token.expiresAt)) + " (Asia/Taipei)"
            if terminal || png == nil {
                // Clear the screen and draw from the top, so the code stays put as it refreshes.
                print("\u{1B}[2J\u{1B}[H" + code.terminalText())
                print("card \(holder)\(delegate.map { " shown by \(TaiwanID.masked($0))" } ?? "") · expires \(expires)")
            } else {
                print("card \(holder): new QR code in \(png!) · expires \(expires)")
            }
        }
    }

    // MARK: - consent

    struct Consent: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Answer a remote consent request (telemedicine) waiting for this card.",
            discussion: "Answers the oldest request waiting, or --request ID; waits up to --wait seconds for one.")

        @OptionGroup var options: CloudOptions
        @Option(help: ArgumentHelp("The patient's ID number.", valueName: "ID")) var card: String
        @Flag(help: "Approve.") var approve = false
        @Flag(help: "Refuse.") var refuse = false
        @Option(help: ArgumentHelp("The request to answer.", valueName: "ID")) var request: String?
        @Option(help: ArgumentHelp("How long to wait for a request.", valueName: "SECONDS")) var wait = 0

        func validate() throws {
            guard approve != refuse else { throw UsageError("give exactly one of --approve and --refuse") }
            guard (0...3600).contains(wait) else { throw UsageError("--wait must be 0 to 3600 seconds") }
            if let request, request.isEmpty || request.utf8.count > 64 || Hex.decode(request) == nil {
                throw UsageError("--request must be the hex id of a consent request")
            }
        }

        func run() async throws {
            let deadline = Inputs.now() + Int64(wait)
            try await AppCommand.with(try options.app(of: card)) { app in
                while true {
                    let pending = try await app.pendingConsents().consents
                    if let chosen = request.map({ id in pending.first { $0.id == id } }) ?? pending.first {
                        let answered = try await app.answerConsent(chosen.id, approve: approve)
                        print(
                            "\(answered.state.rawValue): \(chosen.institutionName) (\(chosen.institution)), "
                                + "\(chosen.setting.rawValue), request \(chosen.id)")
                        return
                    }
                    if Inputs.now() >= deadline {
                        FileHandle.standardError.write(Data("vhc: no consent request is waiting for this card\n".utf8))
                        throw ExitCode(1)
                    }
                    try await Task.sleep(for: .seconds(1))
                }
            }
        }
    }

    // MARK: - delegations

    struct Delegate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Let a family member or caregiver show this card between two dates.")

        @OptionGroup var options: CloudOptions
        @Option(help: ArgumentHelp("The card holder's ID number.", valueName: "ID")) var card: String
        @Option(help: ArgumentHelp("The delegate's ID number.", valueName: "ID")) var to: String
        @Option(help: ArgumentHelp("First day (default: today).", valueName: "YYYY-MM-DD")) var from: String?
        @Option(help: ArgumentHelp("Last day.", valueName: "YYYY-MM-DD")) var until: String

        func run() async throws {
            let first = from ?? CalendarDate(taipeiDateAt: Inputs.now()).iso
            let delegation = try await AppCommand.with(try options.app(of: card)) { app in
                try await app.delegate(DelegationRequest(delegateId: to, validFrom: first, validTo: until))
            }
            print(
                "delegation \(delegation.id): \(TaiwanID.masked(delegation.delegateId)) may show "
                    + "\(TaiwanID.masked(card)) from \(delegation.validFrom) to \(delegation.validTo)")
        }
    }

    struct Delegations: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the delegations a card gave and received.")

        @OptionGroup var options: CloudOptions
        @Option(help: ArgumentHelp("The patient's ID number.", valueName: "ID")) var card: String

        func run() async throws {
            let list = try await AppCommand.with(try options.app(of: card)) { app in try await app.delegations() }
            for delegation in list.granted {
                print(
                    "gave \(delegation.id) to \(TaiwanID.masked(delegation.delegateId)) "
                        + "\(delegation.validFrom)…\(delegation.validTo) \(delegation.state.rawValue)")
            }
            for delegation in list.received {
                print(
                    "received \(delegation.id) from \(TaiwanID.masked(delegation.holderId)) "
                        + "\(delegation.validFrom)…\(delegation.validTo) \(delegation.state.rawValue)")
            }
            if list.granted.isEmpty && list.received.isEmpty { print("no delegations") }
        }
    }

    struct CancelDelegation: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cancel-delegation", abstract: "Cancel a delegation this card gave; it is revoked at once.")

        @OptionGroup var options: CloudOptions
        @Option(help: ArgumentHelp("The card holder's ID number.", valueName: "ID")) var card: String
        @Option(help: ArgumentHelp("The delegation's id.", valueName: "HEX")) var delegation: String

        func run() async throws {
            guard delegation.utf8.count == 32, Hex.decode(delegation) != nil else {
                throw UsageError("--delegation must be 32 hex digits")
            }
            let cancelled = try await AppCommand.with(try options.app(of: card)) { app in
                try await app.cancelDelegation(delegation)
            }
            print("delegation \(cancelled.id) \(cancelled.state.rawValue)")
        }
    }
}
