import ArgumentParser
import StationModels

struct LogoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logout", abstract: "Log the practitioner out: the daemon forgets their key.")
    @OptionGroup var daemon: DaemonOptions

    func run() async throws {
        let reply = try await DaemonClient(socketPath: daemon.socketPath).call(
            .POST, "/v1/practitioner/logout", as: LoginResponse.self)
        daemon.json ? Printer.json(reply.body) : print("logged out")
    }
}
