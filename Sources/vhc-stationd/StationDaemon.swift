import ArgumentParser
import CloudClient
import Crypto
import Foundation
import Logging
import NIOCore
import NIOPosix
import SafeFiles
import Scanner
import ServiceLifecycle
import Station
import StationBuild
import StationCloud
import StationConfiguration
import StationRuntime

#if canImport(Glibc)
    import Glibc
#endif

/// The entry point: the arguments as the kernel passed them (`ProcessArguments`, for the laptop tests'
/// libfaketime).
@main
enum StationDaemonEntry {
    static func main() async {
        await StationDaemon.main(Array(ProcessArguments.current().dropFirst()))
    }
}

/// `vhc-stationd`: the station daemon. One ServiceGroup runs the camera pipeline, the local API (Unix
/// socket, optionally loopback TCP) and the maintenance loop; SIGTERM or SIGINT stops it gracefully,
/// letting the scan in progress finish. systemd hears READY=1 once the API listens, WATCHDOG=1 at half
/// the watchdog interval, and a one-line STATUS.
struct StationDaemon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vhc-stationd",
        abstract: "The Virtual NHI Card station daemon: camera, verification, visit sessions and a local API.",
        discussion: """
            Settings come from the configuration file (YAML; see systemd/station.yaml.example); each option \
            below overrides the file's key named beside it. A mistake stops the start with a message that \
            names the key, and exit status 78.
            """,
        version: BuildInfo.description)

    @Option(help: ArgumentHelp("Configuration file.", valueName: "FILE")) var config = StationConfig.defaultPath
    @Flag(name: .customLong("no-config"), help: "Read no file: defaults and options only.") var noConfig = false
    @Option(help: "institution") var institution: String?
    @Option(help: ArgumentHelp("camera.path (a V4L2 device, or fake:FILE-OR-DIR)", valueName: "PATH"))
    var camera: String?
    @Option(help: ArgumentHelp("camera.size", valueName: "WxH")) var size: String?
    @Option(help: ArgumentHelp("scanner.device (a handheld scanner: serial:PATH or keyboard:PATH; several: comma-separated)", valueName: "DEVICE"))
    var scanner: String?
    @Option(help: ArgumentHelp("trust.root", valueName: "FILE")) var root: String?
    @Option(name: .customLong("trust-list"), help: ArgumentHelp("trust.trust_list", valueName: "FILE"))
    var trustList: String?
    @Option(name: .customLong("revocation-list"), help: ArgumentHelp("trust.revocation_list", valueName: "FILE"))
    var revocationList: String?
    @Option(help: ArgumentHelp("trust.skew_seconds", valueName: "SECONDS")) var skew: String?
    @Option(name: .customLong("session-length"), help: ArgumentHelp("session.length_seconds", valueName: "SECONDS"))
    var sessionLength: String?
    @Option(help: ArgumentHelp("storage.database", valueName: "FILE")) var database: String?
    @Option(help: ArgumentHelp("api.socket", valueName: "PATH")) var socket: String?
    @Option(name: .customLong("socket-group"), help: ArgumentHelp("api.socket_group", valueName: "GROUP"))
    var socketGroup: String?
    @Option(help: ArgumentHelp("api.tcp (loopback HOST:PORT)", valueName: "HOST:PORT")) var tcp: String?
    @Option(name: .customLong("api-token-file"), help: ArgumentHelp("api.token_file", valueName: "FILE"))
    var apiTokenFile: String?
    @Option(name: .customLong("his-listen"), help: ArgumentHelp("his.listen (loopback HOST:PORT)", valueName: "HOST:PORT"))
    var hisListen: String?
    @Option(name: .customLong("his-token-file"), help: ArgumentHelp("his.token_file", valueName: "FILE"))
    var hisTokenFile: String?
    @Option(name: .customLong("max-connections"), help: ArgumentHelp("api.max_connections", valueName: "N"))
    var maxConnections: String?
    @Option(name: .customLong("header-timeout"), help: ArgumentHelp("api.header_timeout_seconds", valueName: "SECONDS"))
    var headerTimeout: String?
    @Option(name: .customLong("idle-timeout"), help: ArgumentHelp("api.idle_timeout_seconds", valueName: "SECONDS"))
    var idleTimeout: String?

    /// EX_CONFIG from sysexits.h: systemd shows it as a configuration failure.
    static let configurationFailure = ExitCode(78)

    var overrides: [String: String] {
        let pairs: [(String, String?)] = [
            ("institution", institution), ("camera.path", camera), ("camera.size", size), ("scanner.device", scanner),
            ("trust.root", root),
            ("trust.trust_list", trustList), ("trust.revocation_list", revocationList),
            ("trust.skew_seconds", skew), ("session.length_seconds", sessionLength), ("storage.database", database),
            ("api.socket", socket), ("api.socket_group", socketGroup), ("api.tcp", tcp),
            ("api.token_file", apiTokenFile), ("api.max_connections", maxConnections),
            ("api.header_timeout_seconds", headerTimeout), ("api.idle_timeout_seconds", idleTimeout),
            ("his.listen", hisListen), ("his.token_file", hisTokenFile),
        ]
        let paths: Set<String> = [
            "camera.path", "trust.root", "trust.trust_list", "trust.revocation_list", "storage.database", "api.socket",
            "api.token_file",
        ]
        return Dictionary(
            uniqueKeysWithValues: pairs.compactMap { key, value in
                value.map { (key, paths.contains(key) ? Self.absolute($0) : $0) }
            })
    }

    /// Paths given on the command line are relative to the working directory, as a shell user
    /// expects (the file's paths must be absolute: the daemon's working directory is `/`).
    static func absolute(_ path: String) -> String {
        let fake = path.hasPrefix(CameraSource.fakePrefix)
        let bare = fake ? String(path.dropFirst(CameraSource.fakePrefix.count)) : path
        guard !bare.hasPrefix("/"), !bare.isEmpty else { return path }
        let resolved = FileManager.default.currentDirectoryPath + "/" + bare
        return fake ? CameraSource.fakePrefix + resolved : resolved
    }

    func run() async throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        ProcessMemory.mapLargeBlocks()
        let logger = Logger(label: "vhc-stationd")
        let settings = try loadSettings()
        // Another process on the loopback listener's address is the operator's to fix: said with the key,
        // before anything starts (the listener's own error names neither the key nor the address).
        if let address = settings.config.api.tcp, let problem = await Self.cannotListen(on: address) {
            FileHandle.standardError.write(
                Data("vhc-stationd: api.tcp: cannot listen on \(address) (\(problem)): is another process using it?\n".utf8))
            throw Self.configurationFailure
        }
        let daemon: Daemon
        do { daemon = try Daemon(settings: settings, logger: logger) } catch let error as StationDatabase.OpenError {
            // The checks above passed, yet SQLite refused the file (damaged, not a database, locked away).
            FileHandle.standardError.write(Data("vhc-stationd: storage.database: \(error)\n".utf8))
            throw Self.configurationFailure
        }
        try await daemon.run()
    }

    /// The configuration and what it names (root key, camera frames, API token), checked before
    /// anything starts: every mistake here is the operator's, with the key in the message.
    func loadSettings() throws -> Daemon.Settings {
        func fail(_ message: String) -> ExitCode {
            FileHandle.standardError.write(Data("vhc-stationd: \(message)\n".utf8))
            return Self.configurationFailure
        }
        let file = noConfig ? nil : config
        let loaded: StationConfig
        do { loaded = try StationConfig.load(path: file, overrides: overrides) } catch {
            throw fail("\(file.map { "\($0): " } ?? "")\(error)")
        }
        guard let pem = Self.readSmallFile(loaded.trust.root).flatMap({ String(data: $0, encoding: .utf8) }),
            let rootKey = try? P256.Signing.PublicKey(pemRepresentation: pem)
        else {
            throw fail("trust.root: '\(loaded.trust.root)' is not a readable P-256 package key in PEM")
        }
        // A group that does not exist would leave the socket to the daemon's own group, without a word.
        if let group = loaded.api.socketGroup, getgrnam(group) == nil {
            throw fail(
                "api.socket_group: there is no group '\(group)' on this machine (create it with "
                    + "`groupadd --system \(group)`, or leave the key out: the unit's Group=vhc shares the socket)")
        }
        if let path = loaded.camera.path, CameraSource.isFake(path) {
            do { _ = try FakeCameraPlayer.frames(from: String(path.dropFirst(CameraSource.fakePrefix.count))) } catch {
                throw fail("camera.path: \(error)")
            }
        }
        /// A bearer token from `file` (`key` names it in messages): readable by the daemon alone, as ssh
        /// refuses a readable key, and at least 16 characters.
        func secretToken(_ file: String, key: String) throws -> String {
            let token: String
            do { token = try SecretFile.read(file).trimmingCharacters(in: .whitespacesAndNewlines) } catch {
                throw fail("\(key): \(error)")
            }
            guard token.count >= 16 else { throw fail("\(key): '\(file)' must hold a token of at least 16 characters") }
            return token
        }
        var token: String?
        if loaded.api.tcp != nil, let tokenFile = loaded.api.tokenFile {
            token = try secretToken(tokenFile, key: "api.token_file")
        }
        let hisToken = try loaded.his?.tokenFile.map { try secretToken($0, key: "his.token_file") }
        // A database in a directory that does not exist is a configuration mistake, not a crash.
        let databaseDirectory = (loaded.storage.database as NSString).deletingLastPathComponent
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: databaseDirectory, isDirectory: &isDirectory),
            isDirectory.boolValue
        else {
            throw fail("storage.database: the directory '\(databaseDirectory)' does not exist")
        }
        if let problem = Self.cannotWrite(in: databaseDirectory, file: loaded.storage.database) {
            throw fail("storage.database: \(problem)")
        }
        // The cloud's files, and the certificate being this institution's, before anything starts; a key
        // on a token is logged in to here, once, and kept for the daemon's life.
        var cloudFiles: CloudFiles?
        if let cloud = loaded.cloud {
            do { cloudFiles = try CloudFiles(cloud, institution: loaded.institution) } catch {
                throw fail("\(error)")
            }
        }
        var settings = Daemon.Settings(config: loaded, root: rootKey, bearerToken: token, cloudFiles: cloudFiles)
        settings.hisToken = hisToken
        return settings
    }

    /// Why the daemon could not write its database at `file` in `directory` (a read-only file system,
    /// a directory or file it may not write), or nil. A file is made and removed in the directory, since
    /// SQLite needs to make its journal there; `access` alone would not see a read-only mount for root.
    static func cannotWrite(in directory: String, file: String) -> String? {
        let probe = directory + "/.vhc-stationd-write-check-\(getpid())"
        let descriptor = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            return "cannot write in the directory '\(directory)' (\(String(cString: strerror(errno))))"
        }
        close(descriptor)
        unlink(probe)
        if FileManager.default.fileExists(atPath: file), access(file, R_OK | W_OK) != 0 {
            return "cannot write the database '\(file)' (\(String(cString: strerror(errno))))"
        }
        return nil
    }

    /// Why `address` cannot be listened on now (bound and released at once, as the listener will bind it),
    /// or nil when it can.
    static func cannotListen(on address: StationConfig.TCPAddress) async -> String? {
        do {
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: address.host, port: address.port).get()
            try await channel.close()
            return nil
        } catch let error as IOError {
            return String(cString: strerror(error.errnoCode))
        } catch {
            return "\(error)"
        }
    }

    static func readSmallFile(_ path: String) -> Data? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.read(upToCount: 65_537), data.count <= 65_536 else { return nil }
        return data
    }
}
