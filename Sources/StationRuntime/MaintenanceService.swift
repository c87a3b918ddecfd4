import Crypto
import Foundation
import Logging
import ServiceLifecycle
import Station
import StationModels
import Synchronization

/// The daemon's clockwork: expires sessions on time whether or not anyone is asking, installs list
/// files that changed on disk, pings the systemd watchdog and keeps its one-line STATUS current.
package struct MaintenanceService: Service {
    let service: StationService
    let camera: any CameraStatusProviding
    let listFiles: ListFiles
    let notifier: SystemdNotifier
    let logger: Logger
    /// How often the loop wakes: session expiry is on time to within this.
    var tick: Duration = .milliseconds(500)
    /// How often the audit chain's head goes to the journal (when it moved), and once at shutdown.
    var anchorInterval: Duration = .seconds(60)

    package init(
        service: StationService, camera: any CameraStatusProviding, listFiles: ListFiles, notifier: SystemdNotifier,
        logger: Logger
    ) {
        self.service = service
        self.camera = camera
        self.listFiles = listFiles
        self.notifier = notifier
        self.logger = logger
    }

    package func run() async throws {
        var lastStatus = ""
        var lastWatchdog = ContinuousClock.now
        var lastListCheck = ContinuousClock.now
        var lastAnchor = ContinuousClock.now - anchorInterval
        var lastAnchorLine = ""
        defer { writeAnchor(&lastAnchorLine) }
        let maintenance = self
        try? await Blocking.run { maintenance.checkStorage() }
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                let service = service
                _ = try await Blocking.run {
                    try service.expireDue()
                    try service.endShiftIfDue()
                }
            } catch {
                logger.error("session expiry failed", metadata: ["error": "\(error)"])
            }
            if lastAnchor.duration(to: .now) >= anchorInterval {
                writeAnchor(&lastAnchorLine)
                lastAnchor = .now
            }
            if lastListCheck.duration(to: .now) >= .seconds(10) {
                listFiles.installChanged(into: service, logger: logger)
                // statvfs and a write: on the blocking pool, so a hung disk cannot hold the watchdog's loop
                // on a cooperative thread (it still stops the pings, as a hung disk should).
                let maintenance = self
                try? await Blocking.run {
                    maintenance.checkStorage()
                    // What a burst of requests left in the allocator's arenas goes back within seconds.
                    ProcessMemory.trim()
                }
                lastListCheck = .now
            }
            if let interval = notifier.watchdogInterval, lastWatchdog.duration(to: .now) >= interval {
                notifier.notify("WATCHDOG=1")
                lastWatchdog = .now
            }
            let line = statusLine()
            if line != lastStatus {
                notifier.notify("STATUS=" + line)
                lastStatus = line
            }
            try? await Task.sleep(for: min(tick, notifier.watchdogInterval ?? tick))
        }
    }

    /// Free space measured, and a write tried while one has failed for the disk's sake; a fall below
    /// `storage.min_free_mib` is warned of once.
    func checkStorage() {
        let database = service.policy.database
        let hadFailure = database.storage.trouble()?.since != nil
        if database.storage.check(probe: { try database.probeWrite() }) {
            logger.warning(
                "the station's disk is nearly full",
                metadata: [
                    "directory": "\(database.storage.directory)",
                    "free_mib": "\((database.storage.freeBytes ?? 0) / 1_048_576)",
                    "min_free_mib": "\(database.storage.minimumFreeBytes / 1_048_576)",
                ])
        }
        if hadFailure, database.storage.trouble()?.since == nil {
            logger.notice("the station's database takes writes again")
        }
    }

    /// The audit chain's head, to the journal when it has moved: anchors outside the database that
    /// `vhc audit verify --anchors` checks the log against, so cutting or rewriting it shows.
    func writeAnchor(_ last: inout String) {
        guard let line = (try? service.auditHead())??.line, line != last else { return }
        logger.notice("\(line)")
        last = line
    }

    /// `ok: camera streaming 30 fps, 3 open sessions, trust list 7` or `degraded: …`.
    package func statusLine() -> String {
        guard let status = try? service.status(camera: camera.cameraStatus()) else {
            return "degraded: the database cannot be read"
        }
        let camera = "camera \(status.camera.state.rawValue) \(Int(status.camera.framesPerSecond.rounded())) fps"
        let lists = status.trustList.map { "trust list \($0.sequence)" } ?? "no trust list"
        let summary = "\(camera), \(status.database.openSessions) open sessions, \(lists)"
        return "\(status.state.rawValue)\(status.problemSummary): \(summary)"
    }
}

/// The list files named in the configuration: installed at start, and again whenever one changes. A file
/// that is missing, unreadable or refused is logged when that is first seen and shown in the station's
/// status (`list_file_unusable`, with the key and path) until a good one is installed.
package final class ListFiles: Sendable {
    let trustList: String?
    let revocationList: String?
    let root: P256.Signing.PublicKey
    /// Each file's modification time at the last look (nil inside: it was missing).
    private let seen = Mutex<[String: Date?]>([:])

    package init(trustList: String?, revocationList: String?, root: P256.Signing.PublicKey) {
        self.trustList = trustList
        self.revocationList = revocationList
        self.root = root
    }

    /// Installs each configured list whose file changed since the last look. A list that is not
    /// newer than the held one is reported and left: the station keeps what it holds.
    package func installChanged(into service: StationService, logger: Logger) {
        let files = [("trust.trust_list", TrustState.Kind.trust, trustList), ("trust.revocation_list", .revocation, revocationList)]
        for (key, kind, path) in files {
            guard let path else { continue }
            let modified = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate]) as? Date
            let changed = seen.withLock { seen -> Bool in
                if let last = seen[path], last == modified { return false }
                seen[path] = .some(modified)
                return true
            }
            guard changed else { continue }
            func unusable(_ reason: String) {
                service.listFiles.report(.init(key: key, path: path, reason: reason))
                logger.error("list file unusable", metadata: ["key": "\(key)", "path": "\(path)", "reason": "\(reason)"])
            }
            guard modified != nil else {
                unusable("the file does not exist")
                continue
            }
            guard let data = FileManager.default.contents(atPath: path), data.count <= 65_536 else {
                unusable("the file cannot be read or is over 64 KiB")
                continue
            }
            do {
                let result = try service.installList(kind, cose: [UInt8](data), root: root)
                service.listFiles.clear(key)
                logger.info("list", metadata: ["kind": "\(kind.rawValue)", "result": "\(result)"])
            } catch {
                unusable("not installed: \(error)")
            }
        }
    }
}
