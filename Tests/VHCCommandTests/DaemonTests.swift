import Foundation
import GRDB
import Station
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// The real `vhc-stationd`, started as a process on a temporary socket and database, driven through
/// `vhc` as its client over the real Unix socket.
@Suite("vhc-stationd and vhc as its client (live, over the Unix socket)", .serialized)
struct DaemonTests {
    final class Station {
        let temporary = try! TemporaryFolder(prefix: "vhc-daemon")
        var folder: URL { temporary.url }
        var socket: String { temporary.path("api.sock") }
        var database: String { temporary.path("station.sqlite") }
        private(set) var process: Process?
        let log: String

        init() throws {
            log = temporary.path("daemon.log")
            for name in ["root", "token"] {
                #expect(try Command.vhc("keys", "generate", "--out", "\(name).pem", in: folder).status == 0)
                let pub = try Command.vhc("keys", "public", "\(name).pem", in: folder)
                try pub.stdout.write(
                    to: folder.appendingPathComponent("\(name).pub"), atomically: false, encoding: .utf8)
            }
            let now = Int(Date().timeIntervalSince1970)
            let list = try Command.vhc(
                "trust-list", "build", "--root", "root.pem", "--issuer", "TW-NHIA", "--seq", "1",
                "--issued-at", "\(now - 3600)", "--expires-at", "\(now + 86_400)", "--key", "token:token.pub",
                "--out", "tl.cose", in: folder)
            #expect(list.status == 0, "\(list.stderr)")
        }

        /// A fresh token (issued now, or `at`) for `id`; with `png`, also its QR code as an image file.
        func token(id: String = "A123456789", png: String? = nil, noPhoto: Bool = false, at: Date? = nil) throws -> String {
            var arguments = [
                "issue", "--key", "token.pem", "--issuer", "TW-NHIA", "--id", id, "--name", "王小明", "--birth",
                "1980-05-17",
            ]
            if let at { arguments += ["--at", String(Int(at.timeIntervalSince1970))] }
            if let png { arguments += ["--png", png] }
            if noPhoto { arguments.append("--no-photo") }
            let issued = try Command.run(Command.vhc, arguments, in: folder)
            #expect(issued.status == 0, "\(issued.stderr)")
            return issued.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        func start(camera: String? = nil, environment: [String: String] = [:], extra: [String] = []) throws {
            let daemon = Process()
            daemon.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            daemon.executableURL = URL(fileURLWithPath: Command.vhc).deletingLastPathComponent()
                .appendingPathComponent("vhc-stationd")
            var arguments = [
                "--no-config", "--institution", "0123456789", "--root", temporary.path("root.pub"), "--trust-list",
                temporary.path("tl.cose"), "--database", database, "--socket", socket,
            ]
            if let camera { arguments += ["--camera", camera] }
            daemon.arguments = arguments + extra
            daemon.currentDirectoryURL = folder
            try Data().write(to: URL(fileURLWithPath: log))
            let output = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            daemon.standardOutput = output
            daemon.standardError = output
            try daemon.run()
            process = daemon
            // Ready when the API answers.
            for _ in 0..<200 {
                if try client("status").status == 0 { return }
                Thread.sleep(forTimeInterval: 0.05)
            }
            Issue.record("the daemon did not come up: \(logText)")
        }

        /// Sends SIGTERM and waits; returns the exit status.
        @discardableResult
        func stop() -> Int32 {
            guard let process else { return -1 }
            process.terminate()
            // A daemon a test stopped (SIGSTOP, a closed lid) and left stopped on a failure must still end.
            kill(process.processIdentifier, SIGCONT)
            process.waitUntilExit()
            self.process = nil
            return process.terminationStatus
        }

        var logText: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

        func client(_ arguments: String...) throws -> CommandResult {
            try Command.run(Command.vhc, arguments + ["--socket", socket], in: folder)
        }

        /// A file only its owner may read, as the daemon requires of a secret.
        func writeSecret(_ text: String, to name: String) throws {
            #expect(
                FileManager.default.createFile(
                    atPath: temporary.path(name), contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]))
        }

        deinit { if let process, process.isRunning { process.terminate() } }
    }

    @Test("submit, events, sessions, ID check and close through vhc; problems exit 1; a dead socket exits 2")
    func clientCommands() throws {
        let station = try Station()
        try station.start()
        defer { station.stop() }

        // Follow the events; --since 0 also gives those kept from before it connected, so its timing
        // does not matter.
        let follower = Process()
        follower.executableURL = URL(fileURLWithPath: Command.vhc)
        follower.arguments = ["events", "--json", "--count", "3", "--since", "0", "--socket", station.socket]
        let events = Pipe()
        follower.standardOutput = events
        try follower.run()
        Thread.sleep(forTimeInterval: 0.5)

        let token = try station.token(noPhoto: true)
        let submitted = try station.client("submit", "--json", token)
        #expect(submitted.status == 0, "\(submitted.stderr)")
        let outcome = try #require(JSONSerialization.jsonObject(with: Data(submitted.stdout.utf8)) as? [String: Any])
        let session = try #require(outcome["session"] as? [String: Any])
        let id = try #require(session["id"] as? String)
        #expect(session["state"] as? String == "awaiting_id_check")

        let replay = try station.client("submit", token)
        #expect(replay.status == 1)
        #expect(replay.stdout.hasPrefix("replayed: 此條碼已使用過"))

        follower.waitUntilExit()
        let lines = String(decoding: events.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
        #expect(lines.map { $0["type"] as? String } == ["session.opened", "scan.accepted", "scan.rejected"])

        let listed = try station.client("sessions", "list", "--state", "awaiting_id_check")
        #expect(listed.stdout.contains(id) && listed.stdout.contains("A123456789 王小明"))
        // Every printed time carries its zone (docs/operations.md, "Times").
        #expect(
            listed.stdout.range(of: #"until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d"#, options: .regularExpression) != nil,
            "\(listed.stdout)")
        let mismatch = try station.client(
            "sessions", "id-check", id, "--document", "national_id_card", "--last-four", "1111", "--operator", "林")
        #expect(mismatch.status == 1 && mismatch.stderr.contains("id_check_mismatch"))
        let checked = try station.client(
            "sessions", "id-check", id, "--document", "national_id_card", "--last-four", "6789", "--operator", "林")
        #expect(checked.status == 0 && checked.stdout.contains("active"), "\(checked.stderr)")
        let shown = try station.client("sessions", "show", id)
        #expect(shown.stdout.contains(#""lastFour":"6789""#))
        #expect(try station.client("sessions", "close", id).stdout.contains("closed"))
        let unknown = try station.client("sessions", "close", "0000")
        #expect(unknown.status == 1 && unknown.stderr.contains("session_not_found"))
        // Typed text is escaped: '&state=active' stays part of the holder value, a '/' part of the id.
        let injected = try station.client("sessions", "list", "--holder", "A123456789&state=active")
        #expect(
            injected.status == 1 && injected.stderr.contains("holder must be a valid ID number"), "\(injected.stderr)")
        let slashed = try station.client("sessions", "show", "../status")
        #expect(slashed.status == 1 && slashed.stderr.contains("session_not_found"), "\(slashed.stderr)")

        let status = try station.client("status")
        #expect(status.stdout.hasPrefix("station 0123456789: ok"))

        // A second daemon on the same socket refuses to start rather than take it over.
        let second = try Command.run(
            URL(fileURLWithPath: Command.vhc).deletingLastPathComponent().appendingPathComponent("vhc-stationd").path,
            [
                "--no-config", "--institution", "0123456789", "--root", station.temporary.path("root.pub"),
                "--database", station.temporary.path("other.sqlite"), "--socket", station.socket,
            ], in: station.folder)
        #expect(second.status != 0 && second.stderr.contains("another daemon is already listening"), "\(second.stderr)")
        #expect(try station.client("status").status == 0)
        #expect(status.stdout.contains("trust list: sequence 1, current"))

        #expect(station.stop() == 0)
        let dead = try station.client("status")
        #expect(dead.status == 2 && dead.stderr.contains("cannot reach the station daemon"))
        #expect(dead.stderr.contains("systemctl status vhc-stationd"), "what to do is said: \(dead.stderr)")
    }

    @Test(
        "vhc submit --image: a token opens a session, the same picture again is replayed, a text file is refused, an upload in progress makes another image_busy"
    )
    func submitImage() throws {
        let station = try Station()
        try station.start()
        defer { station.stop() }
        _ = try station.token(png: "card.png")
        let submitted = try station.client("submit", "--image", "card.png", "--source", "screenshot")
        #expect(submitted.status == 0 && submitted.stdout.hasPrefix("valid: 卡片有效。"), "\(submitted.stdout)")
        let again = try station.client("submit", "--json", "--image", "card.png")
        #expect(again.status == 1)
        let answer = try #require(JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any])
        let scan = (answer["codes"] as? [[String: Any]])?.first?["scan"] as? [String: Any]
        #expect(scan?["code"] as? String == "replayed")
        try "not an image".write(
            to: station.folder.appendingPathComponent("note.txt"), atomically: true, encoding: .utf8)
        let refused = try station.client("submit", "--image", "note.txt")
        #expect(refused.status == 1 && refused.stderr.contains("image_format_unsupported"), "\(refused.stderr)")
        let both = try station.client("submit", "VHC1:X", "--image", "card.png")
        #expect(both.status == 2 && both.stderr.contains("not both"))
        let sessions = try station.client("sessions", "list", "--json")
        #expect(sessions.stdout.contains(#""source":"screenshot""#))

        // An upload in progress holds the one-image gate: another image meanwhile is image_busy, and
        // once the upload is abandoned the next is read again.
        let holder = try #require(Self.connectUnix(station.socket))
        let head = Array(
            "POST /v1/scans/image HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 1000000\r\n\r\nabc"
                .utf8)
        _ = send(holder, head, head.count, 0)
        Thread.sleep(forTimeInterval: 0.5)
        _ = try station.token(png: "second.png")
        let busy = try station.client("submit", "--image", "second.png")
        #expect(busy.status == 1 && busy.stderr.contains("image_busy"), "\(busy.stderr)")
        close(holder)
        Thread.sleep(forTimeInterval: 0.5)
        let after = try station.client("submit", "--image", "second.png")
        #expect(after.status == 0, "\(after.stdout) \(after.stderr)")
    }

    @Test("the fake camera's frames open a session; SIGTERM stops cleanly; a restart keeps sessions and replays")
    func cameraRestart() throws {
        let station = try Station()
        let frames = station.temporary.path("frames")
        try FileManager.default.createDirectory(atPath: frames, withIntermediateDirectories: true)
        let token = try station.token(png: frames + "/phone.png")
        try station.start(camera: "fake:" + frames)
        var sessions = ""
        for _ in 0..<100 {
            sessions = try station.client("sessions", "list", "--json").stdout
            if sessions.contains(#""source":"camera""#) { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(sessions.contains(#""source":"camera""#), "\(station.logText)")
        #expect(station.stop() == 0)
        #expect(station.logText.contains("stopped"))
        // Nothing in the log names the holder in full or carries the token.
        #expect(!station.logText.contains("A123456789") && !station.logText.contains(String(token.prefix(40))))

        try station.start()
        #expect(try station.client("sessions", "list", "--state", "active").stdout.contains("A123456789"))
        #expect(try station.client("submit", token).stdout.hasPrefix("replayed"))
        station.stop()
        // The daemon wrote its chain head to its log (the journal, under systemd) as it stopped: an anchor.
        #expect(station.logText.contains("audit-head sequence="), "\(station.logText)")
        let audit = try Command.run(
            Command.vhc, ["audit", "verify", "--database", station.database, "--anchors", station.log],
            in: station.folder)
        #expect(audit.status == 0 && audit.stdout.hasPrefix("audit log intact"), "\(audit.stdout)")
        #expect(audit.stdout.contains("anchors"), "\(audit.stdout)")
    }

    @Test(
        "systemd's notify protocol: READY=1 once the API listens, STATUS=, WATCHDOG=1 at half the interval, STOPPING=1")
    func systemdNotify() throws {
        let station = try Station()
        let listener = try NotifyListener(path: station.temporary.path("notify.sock"))
        try station.start(environment: ["NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "400000"])
        let started = listener.receive(for: 1.5)
        #expect(started.contains { $0.hasPrefix("READY=1\nSTATUS=ok: camera none") }, "\(started)")
        #expect(started.filter { $0 == "WATCHDOG=1" }.count >= 3, "\(started)")
        #expect(station.stop() == 0)
        #expect(listener.receive(for: 0.3).contains("STOPPING=1"))
    }

    /// A datagram socket standing in for systemd's notify socket.
    final class NotifyListener {
        let path: String
        let descriptor: Int32

        init(path: String) throws {
            self.path = path
            descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            let bound = LocalSocket.withAddress(path) { bind(descriptor, $0, $1) }
            #expect(bound == 0)
            var timeout = timeval(tv_sec: 0, tv_usec: 50_000)
            setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }

        /// Every datagram that arrives within `seconds`.
        func receive(for seconds: Double) -> [String] {
            var messages: [String] = []
            let deadline = Date().addingTimeInterval(seconds)
            var buffer = [UInt8](repeating: 0, count: 4096)
            while Date() < deadline {
                let count = recv(descriptor, &buffer, buffer.count, 0)
                if count > 0 { messages.append(String(decoding: buffer[0..<count], as: UTF8.self)) }
            }
            return messages
        }

        deinit { close(descriptor) }
    }

    @Test("the loopback TCP listener: no token or a wrong one is 401 problem+json; the right one is served")
    func tcpBearer() async throws {
        let station = try Station()
        let token = "tcp-token-0123456789abcdef"
        try station.writeSecret(token, to: "api-token")
        let port = Loopback.freePort()
        try station.start(extra: [
            "--tcp", "127.0.0.1:\(port)", "--api-token-file", station.temporary.path("api-token"),
        ])
        defer { station.stop() }
        func get(_ authorization: String?) async throws -> (Int, String) {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/status")!)
            if let authorization { request.setValue(authorization, forHTTPHeaderField: "Authorization") }
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
        }
        let missing = try await get(nil)
        #expect(missing.0 == 401 && missing.1.contains(#""code":"unauthorized""#))
        #expect(try await get("Bearer nope").0 == 401)
        let served = try await get("Bearer \(token)")
        #expect(served.0 == 200 && served.1.contains(#""institution":"0123456789""#))
    }

    @Test("the HIS compatibility listener over HTTPS with its own kept certificate: a token read and registered the console's way")
    func hisListener() async throws {
        let station = try Station()
        try station.writeSecret("his-token-0123456789abcdef", to: "his-token")
        let port = Loopback.freePort()
        try station.start(extra: [
            "--his-listen", "127.0.0.1:\(port)", "--his-token-file", station.temporary.path("his-token"),
        ])
        defer { station.stop() }
        // As HIS code connects to the console: HTTPS, the certificate not verified, a JSON body on every call.
        func call(_ method: String, _ path: String, _ body: String, bearer: Bool = true) throws -> [String: Any] {
            var arguments = ["-sk", "-X", method, "-H", "Content-Type: application/json", "--data-binary", body]
            if bearer { arguments += ["-H", "Authorization: Bearer his-token-0123456789abcdef"] }
            let run = try Command.run("/usr/bin/curl", arguments + ["https://127.0.0.1:\(port)\(path)"])
            return (try? JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]) ?? ["curl": run.stderr]
        }
        for _ in 0..<50 where !Loopback.isListening(port) { try await Task.sleep(for: .milliseconds(100)) }
        let token = try station.token()
        let read = try call("POST", "/api/hc/v1/VirtualHc/ReadBasic", #"{"token": "\#(token)"}"#)
        #expect(read["statusCode"] as? Int == 0 && read["idNo"] as? String == "A123456789", "\(read)")
        let registered = try call("POST", "/api/hc/v1/Verification/VirtualHc", #"{"token": "\#(token)"}"#)
        #expect(registered["statusCode"] as? Int == 0)
        let anonymous = try call("GET", "/api/common/v1/Status", "{}", bearer: false)
        #expect(anonymous["statusCode"] as? Int == 9012)
        let sessions = try Command.run(Command.vhc, ["sessions", "list", "--json", "--socket", station.socket], in: station.folder)
        #expect(sessions.stdout.contains(#""source":"his""#), "\(sessions.stdout)")
        #expect(!station.logText.contains(String(token.prefix(40))))
        // The certificate is the station's own, made once and kept beside the database; its key is private.
        let folder = (station.database as NSString).deletingLastPathComponent
        let certificate = try String(contentsOfFile: folder + "/his-tls.crt", encoding: .utf8)
        #expect(certificate.hasPrefix("-----BEGIN CERTIFICATE-----"))
        let mode = try FileManager.default.attributesOfItem(atPath: folder + "/his-tls.key")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let served = try Command.run(
            "/bin/sh", ["-c", "openssl s_client -connect 127.0.0.1:\(port) </dev/null 2>/dev/null | openssl x509"])
        #expect(served.stdout.replacingOccurrences(of: "\n", with: "") == certificate.replacingOccurrences(of: "\n", with: ""))
    }

    @Test(
        "a flood of silent TCP connections: the daemon holds at most its cap, closes them at the header deadline, and the Unix socket keeps answering"
    )
    func connectionFlood() async throws {
        let station = try Station()
        try station.writeSecret("flood-token-0123456789abcdef", to: "api-token")
        let port = Loopback.freePort()
        try station.start(extra: [
            "--tcp", "127.0.0.1:\(port)", "--api-token-file", station.temporary.path("api-token"),
            "--max-connections", "16", "--header-timeout", "2",
        ])
        defer { station.stop() }
        let pid = try #require(station.process?.processIdentifier)
        func descriptors() -> Int {
            (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
        }
        let before = descriptors()

        // 300 connections that never send a byte (non-blocking: past the backlog, connect just waits).
        var flood: [Int32] = []
        defer { for descriptor in flood { close(descriptor) } }
        for _ in 0..<300 {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            flood.append(descriptor)
        }
        try await Task.sleep(for: .milliseconds(500))
        // The daemon accepted at most its cap (plus a handful in flight), not 300.
        let during = descriptors()
        #expect(during - before <= 16 + 4, "descriptors: \(before) before, \(during) during the flood")

        // The front desk's socket answers at once throughout.
        for _ in 0..<3 {
            let started = Date()
            #expect(try station.client("status").status == 0)
            #expect(Date().timeIntervalSince(started) < 1.5)
        }

        // Silent connections are closed at the header deadline: the first accepted ones read EOF.
        try await Task.sleep(for: .seconds(3))
        var closedByServer = 0
        for descriptor in flood.prefix(16) {
            var byte: UInt8 = 0
            if recv(descriptor, &byte, 1, Int32(MSG_DONTWAIT)) == 0 { closedByServer += 1 }
        }
        #expect(closedByServer >= 8, "\(closedByServer) of the first 16 were closed by the daemon")
        for descriptor in flood { close(descriptor) }
        flood.removeAll()

        // Afterwards TCP serves again.
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/status")!)
        request.setValue("Bearer flood-token-0123456789abcdef", forHTTPHeaderField: "Authorization")
        let (_, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
    }

    @Test(
        "a request the HTTP parser cannot read gets 400 problem+json and a closed connection; a token file others can read stops the start"
    )
    func unreadableRequestAndReadableToken() async throws {
        let station = try Station()
        try station.start()
        defer { station.stop() }
        // Over the Unix socket: a request the parser cannot read (its Content-Length is not a number).
        let text = try Self.exchange(
            station.socket, "GET /v1/status HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n"
        ).text
        #expect(text.hasPrefix("HTTP/1.1 400"), "\(text)")
        #expect(text.lowercased().contains("content-type: application/problem+json"), "\(text)")
        #expect(text.contains(#""code":"request_malformed""#), "\(text)")

        // The operator's clock reset goes through the socket.
        let reset = try station.client("clock", "reset", "--operator", "tester")
        #expect(reset.status == 0 && reset.stdout.hasPrefix("clock mark reset to"), "\(reset.stderr)")
        station.stop()

        // A bearer-token file readable by others: exit 78, naming the key.
        let port = Loopback.freePort()
        try "readable-token-0123456789".write(
            toFile: station.temporary.path("open-token"), atomically: false, encoding: .utf8)
        chmod(station.temporary.path("open-token"), 0o644)
        let daemon = URL(fileURLWithPath: Command.vhc).deletingLastPathComponent().appendingPathComponent(
            "vhc-stationd")
        let refused = try Command.run(
            daemon.path,
            [
                "--no-config", "--institution", "0123456789", "--root", station.temporary.path("root.pub"),
                "--database", station.database, "--socket", station.socket, "--tcp", "127.0.0.1:\(port)",
                "--api-token-file", station.temporary.path("open-token"),
            ], in: station.folder)
        #expect(refused.status == 78)
        #expect(refused.stderr.contains("api.token_file") && refused.stderr.contains("chmod 600"), "\(refused.stderr)")
    }

    /// A connected Unix-socket descriptor, or nil.
    static func connectUnix(_ path: String) -> Int32? {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else {
            close(descriptor)
            return nil
        }
        return descriptor
    }

    /// One HTTP/1.1 exchange over the Unix socket (`Connection: close`): the reply's text and how long it took.
    static func exchange(_ socketPath: String, _ request: String) throws -> (text: String, seconds: Double) {
        let started = Date()
        let descriptor = try #require(connectUnix(socketPath))
        defer { close(descriptor) }
        let bytes = Array(request.utf8)
        _ = send(descriptor, bytes, bytes.count, 0)
        var timeout = timeval(tv_sec: 15, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count <= 0 { break }
            reply += buffer.prefix(count)
        }
        return (String(decoding: reply, as: UTF8.self), Date().timeIntervalSince(started))
    }

    @Test("a handheld scanner on a serial port: a code opens a visit as handheld, a repeat is dropped, garbage is refused with its code; unplugged and back")
    func handheldScanner() async throws {
        let station = try Station()
        let link = station.temporary.path("scanner")
        var port = try PseudoTerminal(linkedAt: link)
        try station.start(extra: ["--scanner", link])
        defer { station.stop() }
        func waitFor(_ what: String, in command: [String], seconds: Double = 10) async throws -> String {
            var text = ""
            for _ in 0..<Int(seconds * 10) {
                text = try Command.run(Command.vhc, command + ["--socket", station.socket], in: station.folder).stdout
                if text.contains(what) { return text }
                try await Task.sleep(for: .milliseconds(100))
            }
            return text
        }
        // The port is opened once the daemon runs: then what the scanner sends is heard.
        for _ in 0..<50 where !station.logText.contains("scanner opened") { try await Task.sleep(for: .milliseconds(100)) }
        let token = try station.token()
        port.send(Array(("]Q1" + token + "\r\n").utf8))
        let sessions = try await waitFor(#""source":"handheld""#, in: ["sessions", "list", "--json"])
        #expect(sessions.contains(#""source":"handheld""#), "\(station.logText)")
        // The trigger pulled twice: the same code again within seconds is not a replay.
        port.send(Array((token + "\r").utf8))
        port.send([0x1B, 0x5B, 0x41, 0x0D])
        // The refusals as the audit log has them (each was also announced as scan.rejected).
        func refusals() throws -> [String] {
            try DatabaseQueue(path: station.database).read { db in
                try String.fetchAll(db, sql: "SELECT detail FROM audit_log WHERE kind = 'scan.rejected'")
            }
        }
        for _ in 0..<50 where try !refusals().contains(where: { $0.contains("scanner_garbled") }) {
            try await Task.sleep(for: .milliseconds(100))
        }
        let refused = try refusals()
        #expect(refused.contains { $0.contains("scanner_garbled") && $0.contains("handheld") }, "\(refused)")
        #expect(!refused.contains { $0.contains("replayed") }, "a second trigger pull showed replayed: \(refused)")
        port.unplug()
        for _ in 0..<50 where !station.logText.contains("scanner unplugged") { try await Task.sleep(for: .milliseconds(100)) }
        #expect(station.logText.contains("scanner unplugged"))
        port = try PseudoTerminal(linkedAt: link)
        for _ in 0..<100 where station.logText.components(separatedBy: "scanner opened").count < 3 {
            try await Task.sleep(for: .milliseconds(100))
        }
        let second = try station.token(id: "B123456780")
        port.send(Array((second + "\n").utf8))
        let after = try await waitFor("B12****780", in: ["sessions", "list", "--json"])
        #expect(after.contains("B12****780") || after.contains("B123456780"), "\(station.logText)")
        port.unplug()
        // Never the token in the log.
        #expect(!station.logText.contains(String(token.prefix(40))))
    }

    @Test("a keyboard-mode scanner read through evdev records: a typed code opens a visit as handheld; vhc scanner list and the status follow it unplugged and back")
    func keyboardScanner() async throws {
        let station = try Station()
        // A machine's /dev and /sys as `vhc scanner list` reads them: a serial scanner by its by-id link, and
        // a keyboard-mode one whose event node is the fake keyboard the daemon reads.
        let root = station.temporary.path("machine")
        let files = FileManager.default
        for folder in ["dev/serial/by-id", "dev/input/by-id", "sys/devices/usb1/1-2/1-2:1.0", "sys/class/tty/ttyACM0", "sys/class/input/event5/device/id"] {
            try files.createDirectory(atPath: root + "/" + folder, withIntermediateDirectories: true)
        }
        func put(_ text: String, _ path: String) throws { try Data((text + "\n").utf8).write(to: URL(fileURLWithPath: root + "/" + path)) }
        try put("", "dev/ttyACM0")
        try files.createSymbolicLink(atPath: root + "/dev/serial/by-id/usb-Honeywell_1950g-if00", withDestinationPath: "../../ttyACM0")
        try files.createSymbolicLink(atPath: root + "/sys/class/tty/ttyACM0/device", withDestinationPath: "../../../devices/usb1/1-2/1-2:1.0")
        for (name, value) in [("idVendor", "0C2E"), ("idProduct", "0b61"), ("product", "1950g")] { try put(value, "sys/devices/usb1/1-2/" + name) }
        for (name, value) in [("name", "Zebra DS2208"), ("id/vendor", "05e0"), ("id/product", "1200")] { try put(value, "sys/class/input/event5/device/" + name) }
        let link = root + "/dev/input/by-id/usb-Zebra_DS2208-event-kbd"
        try files.createSymbolicLink(atPath: link, withDestinationPath: "../event5")
        var keyboard = try FakeKeyboard(at: root + "/dev/input/event5")
        try station.start(extra: ["--scanner", "keyboard:" + link])
        defer { station.stop() }
        func vhc(_ arguments: [String]) throws -> String {
            try Command.run(Command.vhc, arguments + ["--socket", station.socket], in: station.folder).stdout
        }
        func waitFor(_ what: String, in arguments: [String]) async throws -> String {
            var text = ""
            for _ in 0..<100 {
                text = try vhc(arguments)
                if text.contains(what) { return text }
                try await Task.sleep(for: .milliseconds(100))
            }
            return text
        }
        let listening = try await waitFor("(keyboard): listening", in: ["scanner", "list", "--root", root])
        #expect(listening.contains("\(link) (keyboard): listening"), "\(listening)\n\(station.logText)")
        let token = try station.token()
        keyboard.type("]Q1" + token)
        let sessions = try await waitFor(#""source":"handheld""#, in: ["sessions", "list", "--json"])
        #expect(sessions.contains(#""source":"handheld""#), "\(station.logText)")
        keyboard.type(token)  // the trigger pulled twice: not a second read, so never `replayed`
        let list = try await waitFor("1 read, 0 refused", in: ["scanner", "list", "--root", root])
        #expect(list.contains("1 read, 0 refused"), "\(list)")
        #expect(list.contains(#"/dev/serial/by-id/usb-Honeywell_1950g-if00: serial USB 0c2e:0b61 "1950g""#), "\(list)")
        #expect(list.contains(#"/dev/input/by-id/usb-Zebra_DS2208-event-kbd: keyboard USB 05e0:1200 "Zebra DS2208" (the daemon's)"#), "\(list)")
        #expect(!list.contains("/dev/ttyACM0:"), "a port and its by-id link are one device: \(list)")
        // Caps Lock's lower case, typed without Shift: refused with its code, counted.
        keyboard.press([47, 35, 46, 2, 28])  // v h c 1 Enter
        let refusedList = try await waitFor("1 read, 1 refused", in: ["scanner", "list", "--root", root])
        #expect(refusedList.contains("1 read, 1 refused"), "\(refusedList)")
        keyboard.unplug()
        let status = try await waitFor("scanner_unavailable", in: ["status", "--json"])
        #expect(status.contains("scanner_unavailable") && status.contains(#""state":"waiting_for_device""#), "\(status)")
        keyboard = try FakeKeyboard(at: root + "/dev/input/event5")
        let back = try await waitFor("(keyboard): listening", in: ["scanner", "list", "--root", root])
        #expect(back.contains("listening"), "\(back)")
        let second = try station.token(id: "B123456780")
        keyboard.type(second)
        let after = try await waitFor("B12****780", in: ["sessions", "list", "--json"])
        #expect(after.contains("B12****780") || after.contains("B123456780"), "\(station.logText)")
        #expect(!station.logText.contains(String(token.prefix(40))))
        let audit = try await DatabaseQueue(path: station.database).read { db in
            try String.fetchAll(db, sql: "SELECT detail FROM audit_log WHERE kind = 'scan.rejected'")
        }
        #expect(audit.count == 1 && audit[0].contains("scanner_garbled"), "\(audit)")
        let json = try vhc(["scanner", "list", "--json", "--root", root])
        #expect(json.contains(#""interface":"keyboard""#) && json.contains(#""usbID":"05e0:1200""#), "\(json)")
    }

    @Test("a trust.trust_list file that is not there is named at start and in the status until it appears")
    func missingTrustListFile() async throws {
        let station = try Station()
        let listFile = station.temporary.path("tl.cose")
        try FileManager.default.moveItem(atPath: listFile, toPath: listFile + ".later")
        try station.start()
        defer { station.stop() }
        // Before: nothing at all was said, and the station only reported trust_list_unavailable.
        #expect(
            station.logText.contains("list file unusable") && station.logText.contains(listFile)
                && station.logText.contains("does not exist"), "\(station.logText)")
        let status = try station.client("status")
        #expect(status.stdout.contains("list_file_unusable"), "\(status.stdout)")
        #expect(
            status.stdout.contains("trust.trust_list: '\(listFile)' cannot be used: the file does not exist"),
            "\(status.stdout)")
        try FileManager.default.moveItem(atPath: listFile + ".later", toPath: listFile)
        // The maintenance loop looks at the files every 10 s.
        var now = ""
        for _ in 0..<50 {
            now = try station.client("status").stdout
            if now.contains("trust list: sequence 1, current") && !now.contains("list_file_unusable") { break }
            // Waits without holding a cooperative thread: the suite's other tests run meanwhile.
            try await Task.sleep(for: .milliseconds(500))
        }
        #expect(now.contains("trust list: sequence 1, current") && !now.contains("list_file_unusable"), "\(now)")
    }

    @Test(
        "another process holding the write lock: status and unknown routes answer at once; a scan is 503 database_busy with Retry-After, then goes through"
    )
    func databaseLockedByAnotherProcess() async throws {
        let station = try Station()
        try station.start()
        defer { station.stop() }
        let token = try station.token()
        var holding = Configuration()
        holding.allowsUnsafeTransactions = true  // the point: a transaction left open, as another process would
        let lock = try DatabaseQueue(path: station.database, configuration: holding)
        try lock.inDatabase { db in try db.execute(sql: "BEGIN IMMEDIATE") }
        var latencies: [Double] = []
        for _ in 0..<20 {
            let status = try Self.exchange(
                station.socket, "GET /v1/status HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n")
            #expect(status.text.hasPrefix("HTTP/1.1 200"))
            latencies.append(status.seconds)
        }
        let unknown = try Self.exchange(
            station.socket, "GET /v1/nothing HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n")
        #expect(unknown.text.hasPrefix("HTTP/1.1 404") && unknown.seconds < 0.5)
        #expect(latencies.max()! < 0.5, "status took up to \(latencies.max()!) s while the lock was held")
        let body = #"{"token": "\#(token)"}"#
        let busy = try Self.exchange(
            station.socket,
            "POST /v1/scans HTTP/1.1\r\nHost: s\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        )
        #expect(busy.text.hasPrefix("HTTP/1.1 503"), "\(busy.text)")
        #expect(busy.text.lowercased().contains("retry-after: 2") && busy.text.contains(#""code":"database_busy""#))
        try lock.inDatabase { db in try db.execute(sql: "ROLLBACK") }
        let submitted = try station.client("submit", token)
        #expect(submitted.status == 0, "\(submitted.stdout) \(submitted.stderr)")
    }

    @Test("event streams that clients close are released at once, not at the next keep-alive")
    func closedEventStreamsAreReleased() async throws {
        let station = try Station()
        try station.start()
        defer { station.stop() }
        func streams() throws -> Int {
            let status = try station.client("status", "--json")
            let object = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
            return object?["eventStreams"] as? Int ?? -1
        }
        for round in 0..<3 {
            var open: [Int32] = []
            for _ in 0..<30 {
                let descriptor = try #require(Self.connectUnix(station.socket))
                let request = Array("GET /v1/events HTTP/1.1\r\nHost: station\r\n\r\n".utf8)
                _ = send(descriptor, request, request.count, 0)
                open.append(descriptor)
            }
            // Every stream has answered its preamble, so every subscription exists.
            for descriptor in open {
                var buffer = [UInt8](repeating: 0, count: 512)
                var timeout = timeval(tv_sec: 5, tv_usec: 0)
                setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                _ = recv(descriptor, &buffer, buffer.count, 0)
            }
            #expect(try streams() == 30, "round \(round)")
            for descriptor in open { close(descriptor) }
            try await Task.sleep(for: .milliseconds(500))
            #expect(try streams() == 0, "round \(round): closed streams still held")
        }
    }

    @Test("a bad configuration stops the start with status 78 and names the key")
    func badConfiguration() throws {
        let station = try Station()
        let config = station.temporary.path("station.yaml")
        try "institution: \"0123456789\"\ntrust:\n  root: /nowhere.pub\ncamera:\n  size: big\n".write(
            toFile: config, atomically: false, encoding: .utf8)
        let daemon = URL(fileURLWithPath: Command.vhc).deletingLastPathComponent().appendingPathComponent(
            "vhc-stationd")
        let result = try Command.run(daemon.path, ["--config", config], in: station.folder)
        #expect(result.status == 78)
        #expect(result.stderr.contains("camera.size: expected WIDTHxHEIGHT"), "\(result.stderr)")
        let noRoot = try Command.run(daemon.path, ["--config", config, "--size", "640x480"], in: station.folder)
        #expect(noRoot.status == 78 && noRoot.stderr.contains("trust.root:"), "\(noRoot.stderr)")
        let noDirectory = try Command.run(
            daemon.path,
            [
                "--no-config", "--institution", "0123456789", "--root", station.temporary.path("root.pub"),
                "--database", "/nonexistent-vhc/station.sqlite", "--socket", station.socket,
            ], in: station.folder)
        #expect(noDirectory.status == 78 && noDirectory.stderr.contains("storage.database:"), "\(noDirectory.stderr)")
        // A socket group that does not exist is said, not ignored (issue 25).
        let noGroup = try Command.run(
            daemon.path,
            [
                "--no-config", "--institution", "0123456789", "--root", station.temporary.path("root.pub"),
                "--database", station.temporary.path("group.sqlite"), "--socket", station.socket,
                "--socket-group", "no-such-vhc-group",
            ], in: station.folder)
        #expect(
            noGroup.status == 78 && noGroup.stderr.contains("api.socket_group: there is no group 'no-such-vhc-group'"),
            "\(noGroup.stderr)")
        // A directory the daemon may not write in (issue 21: exit 1, the path not always named). Root writes
        // in a mode-0555 folder, so as root a sysfs directory stands in for a read-only mount.
        let readOnly: String
        if getuid() == 0 {
            readOnly = "/sys/kernel"
        } else {
            readOnly = station.temporary.path("read-only")
            try FileManager.default.createDirectory(
                atPath: readOnly, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o555])
        }
        let database = [
            "--no-config", "--institution", "0123456789", "--root", station.temporary.path("root.pub"),
            "--socket", station.socket, "--database",
        ]
        let unwritable = try Command.run(daemon.path, database + [readOnly + "/station.sqlite"], in: station.folder)
        #expect(
            unwritable.status == 78
                && unwritable.stderr.contains("storage.database: cannot write in the directory '\(readOnly)'"),
            "\(unwritable.stderr)")
        // A file that is not a database: 78 with the path, not a crash or exit 1.
        let notDatabase = station.temporary.path("not-a-database.sqlite")
        try String(repeating: "not SQLite at all\n", count: 400).write(toFile: notDatabase, atomically: false, encoding: .utf8)
        let garbage = try Command.run(daemon.path, database + [notDatabase], in: station.folder)
        #expect(
            garbage.status == 78 && garbage.stderr.contains("storage.database:") && garbage.stderr.contains(notDatabase),
            "\(garbage.stderr)")

        // The loopback listener's address already taken by another process: 78, the key and the address.
        let taken = try TakenPort()
        let tokenFile = station.temporary.path("api-token")
        #expect(
            FileManager.default.createFile(
                atPath: tokenFile, contents: Data("a-token-of-more-than-16-characters\n".utf8),
                attributes: [.posixPermissions: 0o600]))
        let listening = [
            "--no-config", "--institution", "0123456789", "--root", station.temporary.path("root.pub"), "--database",
            station.temporary.path("station.sqlite"), "--socket", station.socket, "--tcp", "127.0.0.1:\(taken.port)",
        ]
        let inUse = try Command.run(daemon.path, listening + ["--api-token-file", tokenFile], in: station.folder)
        #expect(
            inUse.status == 78 && inUse.stderr.contains("api.tcp: cannot listen on 127.0.0.1:\(taken.port)")
                && inUse.stderr.contains("in use"), "\(inUse.stderr)")
        // A token file that is not there is said to be missing, not too short.
        let missing = try Command.run(
            daemon.path, listening + ["--api-token-file", station.temporary.path("no-token")], in: station.folder)
        #expect(
            missing.status == 78 && missing.stderr.contains("api.token_file")
                && missing.stderr.contains("No such file"), "\(missing.stderr)")
        taken.close()
    }
}

/// A loopback TCP port held by a listening socket of this process, as another program would hold it.
final class TakenPort {
    let descriptor: Int32
    let port: Int

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(descriptor, 1) == 0 else { throw CocoaError(.fileWriteUnknown) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        self.descriptor = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { _ = Glibc.close(descriptor) }
}
