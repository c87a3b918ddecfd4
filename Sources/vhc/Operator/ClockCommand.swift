import ArgumentParser
import StationModels

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
