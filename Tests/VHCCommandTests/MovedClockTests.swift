import Foundation
import TestSupport
import Testing

/// The seam of issue 25's laptop tests: the daemon under Debian's libfaketime, its clock moved while it runs.
/// The library rewrites `environ`, from which Swift on Linux finds `argv`: the daemon reads its arguments from
/// /proc/self/cmdline then, or it would start on /etc/vhc-station/station.yaml instead of the options given.
@Suite("vhc-stationd under libfaketime (a moved clock)")
struct MovedClockTests {
    static let libfaketime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"  // Debian's faketime

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
}
