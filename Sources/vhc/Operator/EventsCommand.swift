import ArgumentParser
import Foundation
import StationModels

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
