import ArgumentParser
import StationModels

struct SessionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessions", abstract: "List, show, close, and record ID checks on visit sessions.",
        subcommands: [List.self, Show.self, Close.self, IDCheck.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List sessions, newest first.")
        @OptionGroup var daemon: DaemonOptions
        @Option(help: "Only this state: awaiting_id_check, active, closed, expired.") var state: String?
        @Option(help: ArgumentHelp("Only this holder's ID number.", valueName: "ID")) var holder: String?

        func run() async throws {
            var query: [(String, String)] = []
            if let state { query.append(("state", state)) }
            if let holder { query.append(("holder", holder)) }
            let reply = try await DaemonClient(socketPath: daemon.socketPath).call(
                .GET, "/v1/sessions", query: query, as: SessionList.self)
            if daemon.json { return Printer.json(reply.body) }
            if reply.answer.sessions.isEmpty { print("no sessions") }
            for session in reply.answer.sessions { print(Printer.session(session)) }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one session as JSON.")
        @OptionGroup var daemon: DaemonOptions
        @Argument(help: "The session id.") var id: String

        func run() async throws {
            let reply = try await DaemonClient(socketPath: daemon.socketPath).call(
                .GET, "/v1/sessions/\(DaemonClient.escape(id))", as: VisitSession.self)
            Printer.json(reply.body)
        }
    }

    struct Close: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Close an open session.")
        @OptionGroup var daemon: DaemonOptions
        @Argument(help: "The session id.") var id: String

        func run() async throws {
            let reply = try await DaemonClient(socketPath: daemon.socketPath).call(
                .POST, "/v1/sessions/\(DaemonClient.escape(id))/close", as: VisitSession.self)
            daemon.json ? Printer.json(reply.body) : print(Printer.session(reply.answer))
        }
    }

    struct IDCheck: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "id-check", abstract: "Record the ID-document check of a card without a photo.")
        @OptionGroup var daemon: DaemonOptions
        @Argument(help: "The session id.") var id: String
        @Option(help: "national_id_card, resident_certificate, passport, driver_license or nhi_card.")
        var document: IDDocument
        @Option(name: .customLong("last-four"), help: "The document number's last four characters.")
        var lastFour: String
        @Option(name: .customLong("operator"), help: "Who checked the document.") var operatorName: String

        func run() async throws {
            let reply = try await DaemonClient(socketPath: daemon.socketPath).call(
                .POST, "/v1/sessions/\(DaemonClient.escape(id))/id-check",
                json: IDCheckRequest(document: document, lastFour: lastFour, operator: operatorName),
                as: VisitSession.self)
            daemon.json ? Printer.json(reply.body) : print(Printer.session(reply.answer))
        }
    }
}

extension IDDocument: ExpressibleByArgument {}
