import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import Station
import StationModels

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

/// A client of the daemon's local API over its Unix socket (AsyncHTTPClient's `http+unix`), on the
/// API's own types (StationModels): answers are decoded, problems thrown as `Problem`.
struct DaemonClient {
    let socketPath: String

    /// A decoded answer and the bytes it came in (what `--json` prints).
    struct Reply<Answer> {
        let answer: Answer
        let body: Data
    }

    /// Fails at once when nothing listens on the socket: the HTTP client would keep retrying until
    /// its deadline, and a clerk wants to know now that the daemon is down.
    func checkListening() throws {
        if let error = LocalSocket.connectError(socketPath) {
            throw UsageError("cannot reach the station daemon at \(socketPath): \(String(cString: strerror(error)))")
        }
    }

    /// A path segment or query value, percent-encoded (an ID, a session id typed by a person).
    static func escape(_ text: String) -> String { URLComponentText.escape(text) }

    func url(_ path: String, query: [(String, String)] = []) throws -> String {
        try checkListening()
        let socket = Self.escape(socketPath)
        let search = query.map { "\(Self.escape($0.0))=\(Self.escape($0.1))" }.joined(separator: "&")
        return "http+unix://\(socket)\(path)" + (search.isEmpty ? "" : "?" + search)
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// One request; a problem+json answer is thrown as `Problem` (exit 1), a daemon that cannot be
    /// reached or an answer that is not the expected JSON a usage error (exit 2).
    func call<Answer: Decodable>(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [],
        json body: (some Encodable)? = Optional<Empty>.none, as answer: Answer.Type
    ) async throws -> Reply<Answer> {
        var request = HTTPClientRequest(url: try url(path, query: query))
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: try Self.encoder.encode(body)))
        }
        return try await perform(request, as: answer)
    }

    /// A POST of raw bytes (an image) declared as `contentType`.
    func upload<Answer: Decodable>(
        _ path: String, query: [(String, String)] = [], contentType: String, bytes: Data, as answer: Answer.Type
    ) async throws -> Reply<Answer> {
        var request = HTTPClientRequest(url: try url(path, query: query))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        request.body = .bytes(ByteBuffer(data: bytes))
        // Reading the image, then the codes' wait for the cloud: longer than a JSON call's 10 s.
        return try await perform(request, as: answer, timeout: .seconds(60))
    }

    private func perform<Answer: Decodable>(
        _ request: HTTPClientRequest, as answer: Answer.Type, timeout: TimeAmount = .seconds(10)
    ) async throws
        -> Reply<Answer>
    {
        let response: HTTPClientResponse
        do { response = try await HTTPClient.shared.execute(request, timeout: timeout) } catch {
            throw UsageError("cannot reach the station daemon at \(socketPath): \(error)")
        }
        let data = Data(buffer: try await response.body.collect(upTo: 8 << 20))
        guard response.status.code < 400 else {
            if let problem = try? JSONDecoder().decode(Problem.self, from: data) { throw problem }
            throw UsageError("the daemon answered \(response.status.code) without a problem document")
        }
        do { return Reply(answer: try JSONDecoder().decode(answer, from: data), body: data) } catch {
            throw UsageError("the daemon's answer is not the JSON this vhc expects: \(error)")
        }
    }

    /// No body.
    struct Empty: Codable {}

    /// Server-sent events, one decoded event at a time with its `data:` text, until the stream ends
    /// or `handle` returns false. A block this vhc cannot read is skipped.
    func events(after lastEventID: Int64?, _ handle: (StationEvent, Substring) throws -> Bool) async throws {
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
                    let event = try? JSONDecoder().decode(StationEvent.self, from: Data(line.dropFirst(6).utf8))
                else { continue }
                if try !handle(event, line.dropFirst(6)) { return }
            }
        }
    }
}

enum Printer {
    static func verdict(_ outcome: ScanResponse) {
        print("\(outcome.code): \(outcome.reason.zhHant) \(outcome.reason.en)")
        if let session = outcome.session { print("session: " + Printer.summary(session)) }
    }

    static func json(_ data: Data) {
        FileHandle.standardOutput.write(data)
        FileHandle.standardOutput.write(Data("\n".utf8))
    }

    static func time(_ seconds: Int64?) -> String {
        guard let seconds else { return "-" }
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        formatter.timeZone = TimeZone(identifier: "Asia/Taipei")
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    /// A full session, as the socket's privileged user reads it.
    static func session(_ s: VisitSession) -> String {
        "\(s.id)  \(s.state.rawValue)  \(s.holderID) \(s.holderName)  until \(time(s.expiresAt))"
            + (s.cloud.map { "  cloud \($0.state.rawValue)" + ($0.visitSequence.map { " visit \($0)" } ?? "") } ?? "")
    }

    /// `42 s`, `7 min`, `3 h`, `2 d`.
    static func age(_ seconds: Int64) -> String {
        switch seconds {
        case ..<120: "\(seconds) s"
        case ..<7200: "\(seconds / 60) min"
        case ..<172_800: "\(seconds / 3600) h"
        default: "\(seconds / 86_400) d"
        }
    }

    /// Who is logged in, masked, and until when.
    static func practitioner(_ who: PractitionerStatus) -> String {
        "\(who.name) \(who.id) (\(who.profession)) until \(time(who.until))"
    }

    /// A session as shared screens and events show it (masked).
    static func summary(_ s: SessionSummary) -> String {
        "\(s.id)  \(s.state.rawValue)  \(s.holder)  until \(time(s.expiresAt))"
    }
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show the station daemon's state: camera, lists, clock, sessions.")
    @OptionGroup var daemon: DaemonOptions

    func run() async throws {
        let reply = try await DaemonClient(socketPath: daemon.socketPath).call(
            .GET, "/v1/status", as: StationStatus.self)
        if daemon.json { return Printer.json(reply.body) }
        let status = reply.answer
        let problems = status.problems.map(\.rawValue)
        print(
            "station \(status.institution): \(status.state.rawValue)"
                + (problems.isEmpty ? "" : " (\(problems.joined(separator: ", ")))"))
        print("camera: \(status.camera.state.rawValue), \(status.camera.framesPerSecond) frames/s")
        let ignored = status.camera.ignoredReads
        if ignored.empty + ignored.notPrintableASCII > 0 {
            print(
                "  reads ignored (not token text): \(ignored.notPrintableASCII) not printable ASCII, \(ignored.empty) empty"
            )
        }
        for (name, list) in [("trust list", status.trustList), ("revocation list", status.revocationList)] {
            if let list {
                print(
                    "\(name): sequence \(list.sequence), \(list.state.rawValue), \(Printer.age(list.ageSeconds)) old, "
                        + "expires \(Printer.time(list.expiresAt))")
            } else {
                print("\(name): none")
            }
        }
        print("clock: \(status.clock.state.rawValue)")
        print("open sessions: \(status.database.openSessions)")
        if let cloud = status.cloud {
            let oldest = cloud.oldestOutboxAgeSeconds.map { ", oldest \(Printer.age($0))" } ?? ""
            print(
                "cloud: \(cloud.state.rawValue), outbox \(cloud.outboxLength)\(oldest), "
                    + "awaiting a practitioner \(cloud.awaitingPractitioner)"
                    + (cloud.lastError.map { " (last error: \($0))" } ?? ""))
            if cloud.undeliverable > 0 {
                print(
                    "undeliverable: \(cloud.undeliverable) visit openings given up after cloud.give_up_hours"
                        + (cloud.lastUndeliverableError.map { " (last error: \($0))" } ?? ""))
            }
            if let who = status.practitioner {
                print("practitioner: " + Printer.practitioner(who))
            } else {
                print("practitioner: nobody logged in")
            }
            if let refusal = status.practitionerRefusal {
                print(
                    "practitioner refused by the cloud (\(refusal.code)) at \(Printer.time(refusal.at)): "
                        + "\(refusal.practitioner.name) \(refusal.practitioner.id); "
                        + "log in with another practitioner's card")
            }
        }
    }
}

struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit a token text, or the QR codes in an image, to the daemon.",
        discussion: """
            TOKEN: a token text from a handheld scanner or typed; - reads standard input.
            --image FILE: a PNG or JPEG (a screenshot of a video call, a photo of the patient's phone); the daemon
              reads its QR codes and submits each token (POST /v1/scans/image). The image is not stored.
            Exit status: 0 when a session opened (for an image: for every code read), 1 for any other verdict, an
            image with no code, or an API problem, 2 when the daemon cannot be reached.
            """)
    @OptionGroup var daemon: DaemonOptions
    @Option(help: ArgumentHelp("Where the text came from (default: cli, or image for --image).", valueName: "SOURCE"))
    var source: String?
    @Option(help: ArgumentHelp("A PNG or JPEG whose QR codes to submit.", valueName: "FILE")) var image: String?
    @Argument(help: ArgumentHelp("The token text, or - for standard input.", valueName: "TOKEN")) var token: String?

    func validate() throws {
        guard (token == nil) != (image == nil) else { throw UsageError("give a TOKEN or --image FILE, not both") }
    }

    func run() async throws {
        let client = DaemonClient(socketPath: daemon.socketPath)
        if let image {
            try await submitImage(image, client: client)
            return
        }
        let text =
            token == "-" ? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) : token ?? ""
        let reply = try await client.call(
            .POST, "/v1/scans",
            json: ScanRequest(token: text.trimmingCharacters(in: .whitespacesAndNewlines), source: source ?? "cli"),
            as: ScanResponse.self)
        if daemon.json { Printer.json(reply.body) } else { Printer.verdict(reply.answer) }
        if !reply.answer.accepted { throw ExitCode.invalid }
    }

    func submitImage(_ path: String, client: DaemonClient) async throws {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
        guard let size else { throw UsageError("cannot read \(path)") }
        guard size <= ImageScanResponse.maximumImageBytes else {
            throw UsageError("\(path) is over the daemon's limit of \(ImageScanResponse.maximumImageBytes) bytes")
        }
        guard let bytes = FileManager.default.contents(atPath: path) else { throw UsageError("cannot read \(path)") }
        // The daemon decides by the content; the declared type only has to be an image's.
        let type = bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) ? "image/png" : "image/jpeg"
        let reply = try await client.upload(
            "/v1/scans/image", query: [("source", source ?? "image")], contentType: type, bytes: bytes,
            as: ImageScanResponse.self)
        let read = reply.answer
        if daemon.json {
            Printer.json(reply.body)
        } else {
            if read.codes.isEmpty { print("\(path): no QR code") }
            for code in read.codes { Printer.verdict(code.scan) }
            if read.ignored > 0 { print("\(read.ignored) code(s) that are not text were ignored") }
            if !read.complete { print("the time budget ran out before every pass: a code may have been missed") }
        }
        if read.codes.isEmpty || !read.codes.allSatisfy(\.scan.accepted) { throw ExitCode.invalid }
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

struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events", abstract: "Follow the daemon's events (scans and sessions) as they happen.")
    @OptionGroup var daemon: DaemonOptions
    @Option(help: ArgumentHelp("Stop after this many events.", valueName: "N")) var count: Int?
    @Option(help: ArgumentHelp("First the kept events after this id (0: all the daemon still keeps).", valueName: "ID"))
    var since: Int64?

    func run() async throws {
        var seen = 0
        try await DaemonClient(socketPath: daemon.socketPath).events(after: since) { event, data in
            let line: String
            if daemon.json {
                line = String(data)
            } else {
                let parts: [String?] = [
                    Printer.time(event.at), event.type.rawValue, event.code?.rawValue, event.holder,
                    event.session?.delegate.map { "presented by \($0)" },
                    event.session.map { "session \($0.state.rawValue)" },
                    event.reason.map { "\($0.zhHant) \($0.en)" },
                ]
                line = parts.compactMap { $0 }.joined(separator: "  ")
            }
            // Unbuffered, so a pipe sees each event as it happens.
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
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
            let reply = try await DaemonClient(socketPath: daemon.socketPath).call(
                .POST, "/v1/clock/reset", json: ClockResetRequest(operator: operatorName),
                as: ClockResetResponse.self)
            if daemon.json {
                Printer.json(reply.body)
            } else {
                let previous = reply.answer.previousHighWater.map { Printer.time($0) } ?? "none"
                print("clock mark reset to \(Printer.time(reply.answer.highWater)) (was \(previous))")
            }
        }
    }
}
