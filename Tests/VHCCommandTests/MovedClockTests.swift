import Foundation
import TestSupport
import Testing

/// The seam of issue 25's laptop tests: the daemon under Debian's libfaketime, its clock moved while it runs.
/// The library rewrites `environ`, from which Swift on Linux finds `argv`: the daemon reads its arguments from
/// /proc/self/cmdline then, or it would start on /etc/vhc-station/station.yaml instead of the options given.
/// A clock file that libfaketime reads at every call: what a test writes there (an offset such as "+8h", or
/// seconds such as "+28200": libfaketime takes one unit an offset) is the wall clock of the processes started
/// with `environment`. Their monotonic clock is left alone: a suspended laptop's stops, only the wall clock jumps.
struct MovedClock {
    /// Debian's faketime, in the machine's multiarch folder.
    static let libfaketime: String = {
        let folders = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib")) ?? []
        return folders.sorted().map { "/usr/lib/\($0)/faketime/libfaketime.so.1" }
            .first { FileManager.default.fileExists(atPath: $0) }
            ?? "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
    }()
    let file: String

    init(in folder: TemporaryFolder) throws {
        file = folder.path("faketime")
        try set("+0")
    }

    func set(_ offset: String) throws { try offset.write(toFile: file, atomically: true, encoding: .utf8) }

    var environment: [String: String] {
        [
            "LD_PRELOAD": Self.libfaketime, "FAKETIME_TIMESTAMP_FILE": file, "FAKETIME_NO_CACHE": "1",
            "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        ]
    }
}

@Suite("vhc-stationd under libfaketime (a moved clock)")
struct MovedClockTests {
    static let libfaketime = MovedClock.libfaketime

    @Test("with its clock 8 hours ahead, the daemon takes its options and its status says the moved time")
    func movedClock() throws {
        #expect(FileManager.default.fileExists(atPath: Self.libfaketime), "apt-get install faketime (scripts/setup.sh)")
        let station = try DaemonTests.Station()
        try station.start(
            environment: ["LD_PRELOAD": Self.libfaketime, "FAKETIME": "+8h", "FAKETIME_DONT_FAKE_MONOTONIC": "1"])
        defer { station.stop() }
        let status = try station.client("status", "--json")
        #expect(status.status == 0, "\(status.stderr)\(station.logText)")
        let answer = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        let now = try #require(answer["now"] as? Int)
        let ahead = now - Int(Date().timeIntervalSince1970)
        #expect(abs(ahead - 8 * 3600) < 120, "the daemon's now is \(ahead) s ahead")
        let daemon = URL(fileURLWithPath: Command.vhc).deletingLastPathComponent().appendingPathComponent("vhc-stationd").path
        let version = try Command.run("/usr/bin/env", ["LD_PRELOAD=\(Self.libfaketime)", "FAKETIME=+8h", daemon, "--version"])
        #expect(version.status == 0 && version.stdout.contains(" ("), "the version, not the help: \(version.stdout)\(version.stderr)")
    }

    @Test("the lid closed 8 hours (SIGSTOP, the clock on, SIGCONT): the visit expired; the clock set back 10 minutes: refused as clock_rolled_back until it is right, never for good")
    func lidClosedAndClockBack() throws {
        let station = try DaemonTests.Station()
        let clock = try MovedClock(in: station.temporary)
        try station.start(environment: clock.environment)
        defer { station.stop() }
        let scanned = try station.client("submit", try station.token())
        #expect(scanned.status == 0 && scanned.stdout.hasPrefix("valid:"), "\(scanned.stdout)\(scanned.stderr)")
        func sessionStates() throws -> [String] {
            let listed = try station.client("sessions", "list", "--json")
            let answer = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any]
            return ((answer?["sessions"] as? [[String: Any]]) ?? []).compactMap { $0["state"] as? String }
        }
        #expect(try sessionStates() == ["active"])

        // The lid closes: the daemon stops; the wall clock runs 8 hours; the lid opens.
        let pid = try #require(station.process?.processIdentifier)
        kill(pid, SIGSTOP)
        try clock.set("+8h")
        kill(pid, SIGCONT)
        var states: [String] = []
        _ = try polled(seconds: 10) {
            states = try sessionStates()
            return states == ["expired"]
        }
        #expect(states == ["expired"], "the one-hour visit expired during the 8 hours, as documented")

        let later = try station.client("submit", try station.token(at: Date().addingTimeInterval(8 * 3600)))
        #expect(later.status == 0 && later.stdout.hasPrefix("valid:"), "a card shown after the lid opens: \(later.stdout)")
        // The clock set back 10 minutes behind what the station has seen: said, and scans refused.
        try clock.set("+28200")  // 7 h 50 min
        Thread.sleep(forTimeInterval: 0.3)
        let behind = try station.client("status")
        #expect(behind.stdout.contains("degraded (clock_rolled_back)"), "\(behind.stdout)")
        let refused = try station.client("submit", try station.token(at: Date().addingTimeInterval(7 * 3600 + 50 * 60)))
        #expect(refused.status == 1 && refused.stdout.hasPrefix("clock_rolled_back:"), "\(refused.stdout)\(refused.stderr)")
        // Never for good: once the clock is right again, the station is.
        try clock.set("+8h")
        Thread.sleep(forTimeInterval: 0.3)
        let right = try station.client("status")
        #expect(right.stdout.hasPrefix("station 0123456789: ok"), "\(right.stdout)")
        let again = try station.client("submit", try station.token(at: Date().addingTimeInterval(8 * 3600)))
        #expect(again.status == 0 && again.stdout.hasPrefix("valid:"), "\(again.stdout)\(again.stderr)")
    }

    @Test("the camera gone after the lid opens and back 5 s later: the station says so, then reopens it and reads the next card")
    func cameraGoneAfterResume() throws {
        let station = try DaemonTests.Station()
        let clock = try MovedClock(in: station.temporary)
        // The fake camera's scene directory is its device node: renamed away, the camera is unplugged.
        let scene = station.temporary.path("frames"), away = station.temporary.path("frames-unplugged")
        try FileManager.default.createDirectory(atPath: scene, withIntermediateDirectories: true)
        _ = try station.token(png: scene + "/phone.png")
        try station.start(camera: "fake:" + scene, environment: clock.environment)
        defer { station.stop() }
        func camera() throws -> [String: Any] {
            let status = try station.client("status", "--json")
            let answer = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
            return answer?["camera"] as? [String: Any] ?? [:]
        }
        func waitFor(_ what: String, _ condition: () throws -> Bool) throws {
            if try !polled(seconds: 15, condition) {
                Issue.record("timed out waiting for \(what): \(try camera()) \(station.logText)")
            }
        }
        try waitFor("the first card read by the camera") {
            try station.client("sessions", "list", "--state", "active").stdout.contains("A123456789")
        }

        // The lid closes for 8 hours; across the suspend the USB camera is re-enumerated: gone as the lid opens.
        let pid = try #require(station.process?.processIdentifier)
        kill(pid, SIGSTOP)
        try clock.set("+8h")
        try FileManager.default.moveItem(atPath: scene, toPath: away)
        kill(pid, SIGCONT)
        try waitFor("the camera reported unplugged") {
            let seen = try camera()
            return seen["state"] as? String == "waiting_for_device" && seen["lastError"] as? String == "camera_unplugged"
        }
        let status = try station.client("status")
        #expect(status.stdout.contains("camera_waiting_for_device"), "\(status.stdout)")
        // Back 5 s later, with the next patient's phone in front of it.
        Thread.sleep(forTimeInterval: 5)
        try FileManager.default.removeItem(atPath: away + "/phone.png")
        _ = try station.token(id: "B123456780", png: away + "/phone.png", at: Date().addingTimeInterval(8 * 3600))
        try FileManager.default.moveItem(atPath: away, toPath: scene)
        try waitFor("the camera reopened and the next card read") {
            try station.client("sessions", "list", "--state", "active").stdout.contains("B123456780")
        }
        let reopened = try camera()
        #expect(reopened["state"] as? String == "streaming" && reopened["lastError"] == nil, "\(reopened)")
        #expect(station.logText.contains("camera unplugged; waiting for it"), "\(station.logText)")
    }
}
