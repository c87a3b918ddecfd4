import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import Station

/// Where the daemon listens, for every client subcommand.
struct DaemonOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The daemon's API socket (default: $VHC_SOCKET or /run/vhc-station/api.sock).", valueName: "PATH"))
    var socket: String?
    @Flag(help: "Print the daemon's JSON as it is.") var json = false

    var socketPath: String {
        socket ?? ProcessInfo.processInfo.environment["VHC_SOCKET"] ?? "/run/vhc-station/api.sock"
    }
}

/// A client of the daemon's local API over its Unix socket (AsyncHTTPClient's `http+unix`).
struct DaemonClient {
    let socketPath: String

    struct Reply {
        let status: Int
        let body: Data
        var object: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
    }

    /// Fails at once when nothing listens on the socket: the HTTP client would keep retrying until
    /// its deadline, and a clerk wants to know now that the daemon is down.
    func checkListening() throws {
        if let error = LocalSocket.connectError(socketPath) {
            throw UsageError("cannot reach the station daemon at \(socketPath): \(String(cString: strerror(error)))")
        }
    }

    func url(_ path: String) throws -> String {
        try checkListening()
        guard let encoded = socketPath.addingPercentEncoding(withAllowedCharacters: .alphanumerics) else {
            throw UsageError("bad socket path '\(socketPath)'")
        }
        return "http+unix://\(encoded)\(path)"
    }

    /// One request; a problem+json answer becomes an `APIProblem` (exit 1), a daemon that cannot be
    /// reached a usage error (exit 2).
    func send(_ method: HTTPMethod, _ path: String, body: [String: Any]? = nil) async throws -> Reply {
        var request = HTTPClientRequest(url: try url(path))
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: body)))
        }
        let response: HTTPClientResponse
        do { response = try await HTTPClient.shared.execute(request, timeout: .seconds(10)) } catch {
            throw UsageError("cannot reach the station daemon at \(socketPath): \(error)")
        }
        let data = Data(buffer: try await response.body.collect(upTo: 8 << 20))
        let reply = Reply(status: Int(response.status.code), body: data)
        if reply.status >= 400 { throw APIProblem(reply.object) }
        return reply
    }

    /// Server-sent events, one decoded `data:` object at a time, until the stream ends or `handle`
    /// returns false.
    func events(after lastEventID: Int64?, _ handle: ([String: Any]) throws -> Bool) async throws {
        var request = HTTPClientRequest(url: try url("/v1/events"))
        if let lastEventID { request.headers.add(name: "Last-Event-ID", value: "\(lastEventID)") }
        let response: HTTPClientResponse
        do { response = try await HTTPClient.shared.execute(request, timeout: .hours(24 * 365)) } catch {
            throw UsageError("cannot reach the station daemon at \(socketPath): \(error)")
        }
        var pending = ""
        for try await buffer in response.body {
            pending += String(buffer: buffer)
            while let end = pending.range(of: "\n\n") {
                let block = pending[..<end.lowerBound]
                pending.removeSubrange(..<end.upperBound)
                guard let line = block.split(separator: "\n").first(where: { $0.hasPrefix("data: ") }),
                    let object = try? JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any]
                else { continue }
                if try !handle(object) { return }
            }
        }
    }
}

/// A problem+json answer from the daemon: its code and detail on standard error, exit status 1.
struct APIProblem: Error, CustomStringConvertible {
    let code: String
    let detail: String
    init(_ object: [String: Any]) {
        code = object["code"] as? String ?? "unknown"
        detail = object["detail"] as? String ?? ""
    }
    var description: String { "\(code): \(detail)" }
}

enum Printer {
    static func json(_ data: Data) {
        FileHandle.standardOutput.write(data)
        FileHandle.standardOutput.write(Data("\n".utf8))
    }

    static func time(_ seconds: Any?) -> String {
        guard let seconds = seconds as? Int else { return "-" }
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        formatter.timeZone = TimeZone(identifier: "Asia/Taipei")
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    static func session(_ s: [String: Any]) -> String {
        let holder =
            s["holder"] as? String
            ?? [s["holderID"], s["holderName"]].compactMap { $0 as? String }.joined(separator: " ")
        return "\(s["id"] as? String ?? "?")  \(s["state"] as? String ?? "?")  \(holder)  until \(time(s["expiresAt"]))"
    }
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show the station daemon's state: camera, lists, clock, sessions.")
    @OptionGroup var daemon: DaemonOptions

    func run() async throws {
        let reply = try await DaemonClient(socketPath: daemon.socketPath).send(.GET, "/v1/status")
        if daemon.json { return Printer.json(reply.body) }
        let status = reply.object
        let problems = (status["problems"] as? [String]) ?? []
        print(
            "station \(status["institution"] as? String ?? "?"): \(status["state"] as? String ?? "?")"
                + (problems.isEmpty ? "" : " (\(problems.joined(separator: ", ")))"))
        let camera = status["camera"] as? [String: Any] ?? [:]
        print("camera: \(camera["state"] as? String ?? "?"), \(camera["framesPerSecond"] as? Double ?? 0) frames/s")
        for (name, key) in [("trust list", "trustList"), ("revocation list", "revocationList")] {
            if let list = status[key] as? [String: Any] {
                print(
                    "\(name): sequence \(list["sequence"] as? Int ?? 0), \(list["state"] as? String ?? "?"), expires \(Printer.time(list["expiresAt"]))"
                )
            } else {
                print("\(name): none")
            }
        }
        print("clock: \((status["clock"] as? [String: Any])?["state"] as? String ?? "?")")
        print("open sessions: \((status["database"] as? [String: Any])?["openSessions"] as? Int ?? 0)")
    }
}

struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit a token text to the daemon (a handheld scanner, a pasted screenshot read).",
        discussion:
            "Exit status: 0 when a session opened, 1 for any other verdict or an API problem, 2 when the daemon cannot be reached."
    )
    @OptionGroup var daemon: DaemonOptions
    @Option(help: ArgumentHelp("Where the text came from.", valueName: "SOURCE")) var source = "cli"
    @Argument(help: ArgumentHelp("The token text, or - for standard input.", valueName: "TOKEN")) var token: String

    func run() async throws {
        let text =
            token == "-" ? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) : token
        let reply = try await DaemonClient(socketPath: daemon.socketPath).send(
            .POST, "/v1/scans", body: ["token": text.trimmingCharacters(in: .whitespacesAndNewlines), "source": source])
        let outcome = reply.object
        if daemon.json {
            Printer.json(reply.body)
        } else {
            let reason = outcome["reason"] as? [String: String] ?? [:]
            print("\(outcome["code"] as? String ?? "?"): \(reason["zhHant"] ?? "") \(reason["en"] ?? "")")
            if let session = outcome["session"] as? [String: Any] { print("session: " + Printer.session(session)) }
        }
        if outcome["accepted"] as? Bool != true { throw ExitCode.invalid }
    }
}

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
            var query: [String] = []
            if let state { query.append("state=\(state)") }
            if let holder { query.append("holder=\(holder)") }
            let path = "/v1/sessions" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
            let reply = try await DaemonClient(socketPath: daemon.socketPath).send(.GET, path)
            if daemon.json { return Printer.json(reply.body) }
            let sessions = reply.object["sessions"] as? [[String: Any]] ?? []
            if sessions.isEmpty { print("no sessions") }
            for session in sessions { print(Printer.session(session)) }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one session as JSON.")
        @OptionGroup var daemon: DaemonOptions
        @Argument(help: "The session id.") var id: String

        func run() async throws {
            Printer.json(try await DaemonClient(socketPath: daemon.socketPath).send(.GET, "/v1/sessions/\(id)").body)
        }
    }

    struct Close: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Close an open session.")
        @OptionGroup var daemon: DaemonOptions
        @Argument(help: "The session id.") var id: String

        func run() async throws {
            let reply = try await DaemonClient(socketPath: daemon.socketPath).send(.POST, "/v1/sessions/\(id)/close")
            daemon.json ? Printer.json(reply.body) : print(Printer.session(reply.object))
        }
    }

    struct IDCheck: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "id-check", abstract: "Record the ID-document check of a card without a photo.")
        @OptionGroup var daemon: DaemonOptions
        @Argument(help: "The session id.") var id: String
        @Option(help: "national_id_card, resident_certificate, passport, driver_license or nhi_card.")
        var document: String
        @Option(name: .customLong("last-four"), help: "The document number's last four characters.")
        var lastFour: String
        @Option(name: .customLong("operator"), help: "Who checked the document.") var operatorName: String

        func run() async throws {
            let reply = try await DaemonClient(socketPath: daemon.socketPath).send(
                .POST, "/v1/sessions/\(id)/id-check",
                body: ["document": document, "lastFour": lastFour, "operator": operatorName])
            daemon.json ? Printer.json(reply.body) : print(Printer.session(reply.object))
        }
    }
}

struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events", abstract: "Follow the daemon's events (scans and sessions) as they happen.")
    @OptionGroup var daemon: DaemonOptions
    @Option(help: ArgumentHelp("Stop after this many events.", valueName: "N")) var count: Int?
    @Option(help: ArgumentHelp("First the kept events after this id (0: all the daemon still keeps).", valueName: "ID"))
    var since: Int64?

    func run() async throws {
        var seen = 0
        try await DaemonClient(socketPath: daemon.socketPath).events(after: since) { event in
            if daemon.json {
                Printer.json(try JSONSerialization.data(withJSONObject: event, options: [.sortedKeys]))
            } else {
                let reason = event["reason"] as? [String: String]
                let session = event["session"] as? [String: Any]
                let parts: [String?] = [
                    Printer.time(event["at"]), event["type"] as? String, event["code"] as? String,
                    event["holder"] as? String, (session?["delegate"] as? String).map { "presented by \($0)" },
                    (session?["state"] as? String).map { "session \($0)" },
                    reason.map { "\($0["zhHant"] ?? "") \($0["en"] ?? "")" },
                ]
                // Unbuffered, so a pipe sees each event as it happens.
                FileHandle.standardOutput.write(Data((parts.compactMap { $0 }.joined(separator: "  ") + "\n").utf8))
            }
            seen += 1
            return count.map { seen < $0 } ?? true
        }
    }
}

/// `vhc clock reset`: the operator's way out of a wrong clock mark, through the daemon's socket.
struct ClockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clock", abstract: "The station clock's high-water mark.", subcommands: [Reset.self])

    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set the high-water mark to the station's time now (audited with your name).",
            discussion: """
                Use it when every scan is clock_rolled_back although the system clock is right: a list or \
                token from a machine whose clock ran ahead moved the mark. Check the clock first \
                (timedatectl). Needs the daemon's socket (group vhc).
                """)
        @OptionGroup var daemon: DaemonOptions
        @Option(name: .customLong("operator"), help: ArgumentHelp("Who resets it.", valueName: "NAME"))
        var operatorName: String

        func run() async throws {
            let reply = try await DaemonClient(socketPath: daemon.socketPath).send(
                .POST, "/v1/clock/reset", body: ["operator": operatorName])
            if daemon.json {
                Printer.json(reply.body)
            } else {
                let previous = reply.object["previousHighWater"].map { Printer.time($0) } ?? "none"
                print("clock mark reset to \(Printer.time(reply.object["highWater"])) (was \(previous))")
            }
        }
    }
}
