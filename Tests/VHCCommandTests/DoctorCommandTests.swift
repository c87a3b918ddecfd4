import Foundation
import TestSupport
import Testing

/// `vhc doctor` against a live daemon (issue 25): a line a check, OK, WARN or FAIL in both languages, and the
/// exit status they make; a daemon that is down is a FAIL that says how to start it.
@Suite("vhc doctor (live, over the Unix socket)")
struct DoctorCommandTests {
    @Test("a running station without a camera or a cloud: its checks OK; down, the daemon FAILs with exit 2")
    func doctor() throws {
        let station = try DaemonTests.Station()
        try station.start()
        defer { station.stop() }
        let config = station.temporary.path("station.yaml")
        try """
        institution: "0123456789"
        camera:
          path: ""
        trust:
          root: \(station.temporary.path("root.pub"))
          trust_list: \(station.temporary.path("tl.cose"))
        storage:
          database: \(station.database)
        api:
          socket: \(station.socket)
        """.write(toFile: config, atomically: false, encoding: .utf8)
        let result = try Command.vhc("doctor", "--config", config, in: station.folder)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        for check in ["configuration", "daemon", "camera", "clock", "cloud", "database", "disk"] {
            #expect(lines.contains { $0.hasPrefix("OK    \(check):") }, "\(check): \(result.stdout)")
        }
        // The test's trust list expires a day after it was made: OK in its first second, then a warning.
        #expect(
            lines.contains { $0.hasPrefix("OK    lists: trust list sequence 1") || $0.hasPrefix("WARN  lists: the trust list expires in") },
            "\(result.stdout)")
        #expect(result.stdout.contains("設定檔可讀取"))
        // The unit: installed or not on this machine, its line is there, and the status follows the lines.
        #expect(lines.contains { $0.contains(" unit:") })
        let worst = lines.contains { $0.hasPrefix("FAIL") } ? 2 : lines.contains { $0.hasPrefix("WARN") } ? 1 : 0
        #expect(result.status == Int32(worst), "\(result.stdout)\(result.stderr)")

        let json = try Command.vhc("doctor", "--config", config, "--json", in: station.folder)
        let findings = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(findings.contains { $0["check"] as? String == "daemon" && $0["level"] as? String == "OK" })
        #expect(findings.contains { $0["check"] as? String == "lists" && ["OK", "WARN"].contains($0["level"] as? String) })

        station.stop()
        let down = try Command.vhc("doctor", "--config", config, in: station.folder)
        #expect(down.status == 2 && down.stdout.contains("FAIL  daemon:") && down.stdout.contains("systemctl start vhc-stationd"))
    }
}
