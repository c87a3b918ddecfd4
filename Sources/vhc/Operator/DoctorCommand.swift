import ArgumentParser
import CloudClient
import Foundation
import Scanner
import Station
import StationConfiguration
import StationDoctor
import StationModels

#if canImport(Glibc)
    import Glibc
#endif

/// `vhc doctor`: the first-day and bad-day check (issue 25). It gathers what it can see from here (the
/// configuration, the daemon's status, the camera device, the cloud's clock, the installed unit) and
/// `StationDoctor` judges it: a line a check, OK, WARN or FAIL with what to do, in both languages.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the station: configuration, daemon, camera, lists, clock, cloud, practitioner, disk, unit.",
        discussion: """
            Each line says OK, WARN or FAIL and what to do (Traditional Chinese and English). Exit status: \
            0 when every check is OK, 1 with a warning, 2 with a failure.
            """)

    @Option(help: ArgumentHelp("The station's configuration.", valueName: "FILE"))
    var config = StationConfig.defaultPath
    @Option(help: ArgumentHelp("The daemon's API socket (default: the configuration's api.socket).", valueName: "PATH"))
    var socket: String?
    @Flag(help: "Print the findings as JSON.") var json = false

    /// Where systemd finds the unit: the package's, or scripts/install.sh's.
    static let units = ["/etc/systemd/system/vhc-stationd.service", "/lib/systemd/system/vhc-stationd.service"]

    func run() async throws {
        let loaded: Result<StationConfig, StationDoctor.ConfigProblem> = Result {
            try StationConfig.load(path: config)
        }.mapError { StationDoctor.ConfigProblem("\(config): \($0)") }
        let station = try? loaded.get()
        let socketPath = socket ?? station?.api.socket ?? "/run/vhc-station/api.sock"
        var facts = StationDoctor.Facts(config: loaded, status: await Self.status(socketPath))
        // The daemon says why its camera fails; asked only when the daemon cannot be (this account may see
        // the device otherwise than the daemon's user does).
        if case .failure = facts.status, let path = station?.camera.path, !CameraSource.isFake(path) {
            facts.device = Self.probe(path)
        }
        if let cloud = station?.cloud { facts.cloudClockOffset = await Self.clockOffset(cloud) }
        facts.unitExposure = Self.exposure()
        if let database = station?.storage.database { facts.freeMiB = Self.freeMiB(near: database) }
        let findings = StationDoctor.examine(facts)
        if json {
            try Output.printJSON(findings)
        } else {
            for finding in findings {
                let level = finding.level.rawValue.padding(toLength: 4, withPad: " ", startingAt: 0)
                print("\(level)  \(finding.check): \(finding.en)\n      \(finding.zhHant)")
            }
        }
        let status = StationDoctor.exitStatus(findings)
        if status != 0 { throw ExitCode(status) }
    }

    static func status(_ socket: String) async -> Result<StationStatus, StationDoctor.DaemonProblem> {
        if let error = LocalSocket.connectError(socket) {
            return .failure(
                .init(
                    "cannot reach the daemon at \(socket) (\(String(cString: strerror(error))))",
                    denied: error == EACCES || error == EPERM))
        }
        do {
            return .success(try await DaemonClient(socketPath: socket).call(.GET, "/v1/status", as: StationStatus.self).answer)
        } catch {
            return .failure(.init("the daemon at \(socket) did not answer its status (\(error))", denied: false))
        }
    }

    /// Opening the device says what the daemon's "waiting for the device" does not: gone, not ours, or held.
    static func probe(_ path: String) -> StationDoctor.DeviceProbe {
        let descriptor = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)
        guard descriptor < 0 else {
            close(descriptor)
            return .opened
        }
        switch errno {
        case ENOENT, ENODEV, ENXIO: return .missing
        case EACCES, EPERM: return .denied
        case EBUSY: return .busy
        case let code: return .failed(String(cString: strerror(code)))
        }
    }

    /// The cloud's clock less ours, from its `Date` on any answer (no credential needed: a refusal has one).
    static func clockOffset(_ cloud: StationConfig.Cloud) async -> Int64? {
        guard let ca = try? String(contentsOfFile: cloud.ca, encoding: .utf8),
            let client = try? CloudClient(baseURL: cloud.url, caPEM: ca, timeout: .seconds(5))
        else { return nil }
        let before = Date()
        let reply = try? await client.send(.GET, "/v1/health")
        let now = before.addingTimeInterval(Date().timeIntervalSince(before) / 2)
        try? await client.shutdown()
        guard let header = reply?.headers.first(name: "date"), let date = HTTPDate.parse(header) else { return nil }
        return Int64(date.timeIntervalSince(now).rounded())
    }

    /// `systemd-analyze security`'s overall exposure of the installed unit; nil without one.
    static func exposure() -> Double? {
        guard let unit = units.first(where: { FileManager.default.fileExists(atPath: $0) }),
            let result = try? Subprocess.run("/usr/bin/systemd-analyze", ["security", "--offline=true", "--no-pager", unit])
        else { return nil }
        for line in result.split(separator: "\n") where line.contains("Overall exposure level") {
            let number = line.split(separator: ":").last?.split(separator: " ").first
            return number.flatMap { Double($0) }
        }
        return nil
    }

    /// Free space on the file system the database is (or will be) on: its nearest folder that exists,
    /// measured as the daemon measures it.
    static func freeMiB(near database: String) -> Int64? {
        var folder = (database as NSString).deletingLastPathComponent
        while !FileManager.default.fileExists(atPath: folder), folder.count > 1 {
            folder = (folder as NSString).deletingLastPathComponent
        }
        return StorageWatch.freeBytes(folder).map { $0 / 1_048_576 }
    }
}

/// HTTP's date (RFC 9110 IMF-fixdate: `Mon, 07 Dec 2026 16:40:00 GMT`).
enum HTTPDate {
    static func parse(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.date(from: text)
    }
}

/// A program's standard output (`systemd-analyze`), its standard error dropped.
enum Subprocess {
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
