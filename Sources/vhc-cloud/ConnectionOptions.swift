import ArgumentParser
import Glibc
import Logging
import NIOCore
import SandboxCloud

/// `vhc-cloud serve`'s connection limits (docs/cloud.md, "Connections"); the defaults are
/// `SandboxCloud.Limits`'s.
struct ConnectionOptions: ParsableArguments {
    static let defaults = SandboxCloud.Limits()
    @Option(help: "Maximum concurrent connections.") var maxConnections = defaults.connections.maximumConnections
    @Option(help: "Of those, slots only connections with a valid institution certificate may use.")
    var reservedConnections = defaults.connections.reservedForAuthenticated
    @Option(help: "Unauthenticated connections one client address may hold.")
    var connectionsPerAddress = defaults.connections.perAddress
    @Option(help: "Connections one institution certificate may hold.")
    var connectionsPerCertificate = defaults.connections.perCredential
    @Option(help: "Seconds a new connection has to finish its TLS handshake.")
    var handshakeTimeout = Int(defaults.handshakeTimeout.nanoseconds / 1_000_000_000)
    @Option(help: "Seconds a request head may take (after the connection opens or the last answer).")
    var requestHeadTimeout = Int(defaults.request.head.nanoseconds / 1_000_000_000)
    @Option(help: "Bytes a second a request body must average after a grace of a few seconds.")
    var minimumBodyRate = defaults.request.minimumBodyRate

    func limits(logger: Logger) throws -> SandboxCloud.Limits {
        guard maxConnections >= 16, (0..<maxConnections).contains(reservedConnections), connectionsPerAddress >= 1,
            connectionsPerCertificate >= 1, (1...300).contains(handshakeTimeout), (1...300).contains(requestHeadTimeout),
            minimumBodyRate >= 1
        else {
            throw ValidationError(
                "connection limits: --max-connections at least 16, --reserved-connections below it, the per-address "
                    + "and per-certificate limits and --minimum-body-rate at least 1, the timeouts 1 to 300 seconds")
        }
        var limits = SandboxCloud.Limits()
        limits.connections.maximumConnections = Self.fitToDescriptors(maxConnections, logger: logger)
        limits.connections.reservedForAuthenticated = min(reservedConnections, limits.connections.maximumConnections / 2)
        limits.connections.perAddress = connectionsPerAddress
        limits.connections.perCredential = connectionsPerCertificate
        limits.handshakeTimeout = .seconds(Int64(handshakeTimeout))
        limits.request.head = .seconds(Int64(requestHeadTimeout))
        limits.request.minimumBodyRate = minimumBodyRate
        return limits
    }

    /// Each connection is a descriptor, and one being closed still holds its own: raises the soft
    /// limit to the hard one, and when even that is too low for `wanted`, serves fewer and says so.
    static func fitToDescriptors(_ wanted: Int, logger: Logger) -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return wanted }
        let needed = rlim_t(wanted * 2 + 64)
        if limit.rlim_cur < needed {
            limit.rlim_cur = min(limit.rlim_max, needed)
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
            _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        let fitting = max(16, (Int(clamping: limit.rlim_cur) - 64) / 2)
        guard fitting < wanted else { return wanted }
        logger.warning(
            "fewer connections than --max-connections: the open-file limit allows this many",
            metadata: ["wanted": "\(wanted)", "serving": "\(fitting)", "open_file_limit": "\(limit.rlim_cur)"])
        return fitting
    }
}
