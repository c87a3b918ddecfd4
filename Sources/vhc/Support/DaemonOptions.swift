import ArgumentParser
import Foundation

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
