import ArgumentParser
import StationModels

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show the station daemon's state: camera, lists, clock, sessions.")
    @OptionGroup var daemon: DaemonOptions

    func run() async throws {
        let reply = try await DaemonClient(socketPath: daemon.socketPath).call(
            .GET, "/v1/status", as: StationStatus.self)
        if daemon.json { return Printer.json(reply.body) }
        let status = reply.answer
        print("station \(status.institution): \(status.state.rawValue)" + status.problemSummary)
        if let version = status.version { print("daemon: vhc-stationd \(version) (\(status.commit ?? "unknown"))") }
        print("camera: \(status.camera.state.rawValue), \(status.camera.framesPerSecond) frames/s")
        let ignored = status.camera.ignoredReads
        if ignored.empty + ignored.notPrintableASCII > 0 {
            print(
                "  reads ignored (not token text): \(ignored.notPrintableASCII) not printable ASCII, \(ignored.empty) empty"
            )
        }
        for (name, list) in [("trust list", status.trustList), ("revocation list", status.revocationList)] {
            if let list {
                print(
                    "\(name): sequence \(list.sequence), \(list.state.rawValue), \(Printer.age(list.ageSeconds)) old, "
                        + "expires \(Printer.time(list.expiresAt))")
            } else {
                print("\(name): none")
            }
        }
        for file in status.listFiles ?? [] {
            print("\(file.key): '\(file.path)' cannot be used: \(file.reason)")
        }
        print("clock: \(status.clock.state.rawValue)")
        print("open sessions: \(status.database.openSessions)")
        if let storage = status.database.storage {
            let words =
                switch storage.problem {
                case .storageFull: "the disk is full, scans are not recorded"
                case .storageUnavailable: "the database cannot be written, scans are not recorded"
                default: "the disk is nearly full"
                }
            print(
                "storage: \(words) (\(storage.detail))"
                    + (storage.since.map { " since \(Printer.time($0))" } ?? ""))
        } else if let free = status.database.freeMiB {
            print("storage: \(free) MiB free")
        }
        if let cloud = status.cloud {
            let oldest = cloud.oldestOutboxAgeSeconds.map { ", oldest \(Printer.age($0))" } ?? ""
            print(
                "cloud: \(cloud.state.rawValue), outbox \(cloud.outboxLength)\(oldest), "
                    + "awaiting a practitioner \(cloud.awaitingPractitioner)"
                    + (cloud.lastError.map { " (last error: \($0))" } ?? ""))
            if cloud.undeliverable > 0 {
                print(
                    "undeliverable: \(cloud.undeliverable) visit openings given up after cloud.give_up_hours"
                        + (cloud.lastUndeliverableError.map { " (last error: \($0))" } ?? ""))
            }
            switch cloud.institutionKey {
            case "pkcs11"?: print("institution key: on a PKCS#11 token (never read)")
            case "file"?: print("institution key: in a file")
            default: break
            }
            if let card = status.cardRefusal {
                print(
                    "a practitioner's card refused its PIN: \(card.code)"
                        + (card.pinTries.map { " (the card says: \($0))" } ?? "") + " at \(Printer.time(card.at))")
            }
            if let who = status.practitioner {
                print("practitioner: " + Printer.practitioner(who))
            } else {
                print("practitioner: nobody logged in")
            }
            if let refusal = status.practitionerRefusal {
                print(
                    "practitioner refused by the cloud (\(refusal.code)) at \(Printer.time(refusal.at)): "
                        + "\(refusal.practitioner.name) \(refusal.practitioner.id); "
                        + "log in with another practitioner's card")
            }
        }
    }
}
