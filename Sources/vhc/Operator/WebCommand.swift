import ArgumentParser
import Foundation
import StationModels

/// `vhc web`: a one-time link that signs a browser in to the front-desk page, printed and, where a
/// desktop is present, opened. The socket's group decides who may hand the page out.
struct WebCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "web",
        abstract: "Print (and open, on a desktop) a one-time link that signs a browser in to the front-desk page.",
        discussion: """
            The link works once, for five minutes; the browser then stays signed in for the shift. Needs the
            daemon's loopback TCP listener (api.tcp).
            """)
    @OptionGroup var daemon: DaemonOptions
    @Flag(name: .customLong("no-open"), help: "Only print the link, even on a desktop.") var noOpen = false

    func run() async throws {
        let reply = try await DaemonClient(socketPath: daemon.socketPath).call(
            .POST, "/v1/web/links", as: WebLink.self)
        if daemon.json {
            Printer.json(reply.body)
        } else {
            print(reply.answer.url)
            let minutes = max(1, (reply.answer.expiresAt - Int64(Date().timeIntervalSince1970) + 59) / 60)
            FileHandle.standardError.write(
                Data(
                    "vhc: the link works once, within \(minutes) min; the page then stays signed in for the shift\n"
                        .utf8))
        }
        if !noOpen, Self.hasDesktop, let opener = Self.opener {
            // The browser gets the link as an argument, never through a shell.
            let process = Process()
            process.executableURL = URL(fileURLWithPath: opener)
            process.arguments = [reply.answer.url]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try? process.run()
        }
    }

    static var hasDesktop: Bool {
        let environment = ProcessInfo.processInfo.environment
        return environment["DISPLAY"] != nil || environment["WAYLAND_DISPLAY"] != nil
    }

    static var opener: String? {
        ["/usr/bin/xdg-open", "/usr/local/bin/xdg-open"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
