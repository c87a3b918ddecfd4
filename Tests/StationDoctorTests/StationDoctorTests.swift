import Foundation
import StationConfiguration
import StationDoctor
import StationModels
import Testing

/// `vhc doctor`'s judgement (issue 25): each check's OK, WARN and FAIL, with what to do in both languages,
/// and the exit status they make.
@Suite("vhc doctor: what a clinic is told, check by check")
struct StationDoctorTests {
    typealias Facts = StationDoctor.Facts

    static let now: Int64 = 1_800_000_000

    static func config(cloud: Bool = false, camera: Bool = true) throws -> StationConfig {
        var overrides = ["institution": "0123456789", "trust.root": "/etc/vhc-station/root.pub"]
        if camera { overrides["camera.path"] = "/dev/vhc-camera" }
        guard cloud else { return try StationConfig.load(path: nil, overrides: overrides) }
        // The cloud's keys are read from a file only.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("vhc-doctor-\(UUID()).yaml")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(
            """
            cloud:
              url: https://cloud.example:8443
              ca: /etc/vhc-station/cloud-ca.pem
              certificate: /etc/vhc-station/institution-cert.pem
              key: /etc/vhc-station/institution-key.pem
              station: desk-1
            """.utf8
        ).write(to: file)
        return try StationConfig.load(path: file.path, overrides: overrides)
    }

    static func status(
        camera: CameraStatus.State = .streaming, trustExpiresIn: Int64? = 7 * 86_400, rolledBack: Bool = false,
        cloud: CloudStatus? = nil, practitioner: Bool = false, freeMiB: Int64 = 5000, revocation: Bool = true
    ) -> StationStatus {
        var status = StationStatus(
            institution: "0123456789", now: now, state: .ok, problems: [],
            camera: CameraStatus(state: camera, device: "/dev/vhc-camera", framesPerSecond: 29.7),
            trustList: trustExpiresIn.map {
                .init(
                    sequence: 4, issuedAt: now - 7200, expiresAt: now + $0, ageSeconds: 7200,
                    state: $0 < 0 ? .expired : .current)
            },
            revocationList: revocation ? .init(sequence: 2, issuedAt: now - 600, expiresAt: now + 86_400, ageSeconds: 600, state: .current) : nil,
            clock: .init(highWater: now, state: rolledBack ? .rolledBack : .ok),
            database: .init(state: .ok, openSessions: 0, auditRows: 3, freeMiB: freeMiB), eventStreams: 0,
            cloud: cloud)
        if practitioner {
            status.practitioner = PractitionerStatus(
                id: "F22****133", name: "林**", profession: "physician", since: now - 60, until: now + 3600)
        }
        status.version = "0.25.0"
        return status
    }

    static func findings(_ facts: Facts) -> [String: StationDoctor.Finding] {
        Dictionary(StationDoctor.examine(facts).map { ($0.check, $0) }, uniquingKeysWith: { first, _ in first })
    }

    @Test("a healthy station: every check OK, exit 0")
    func healthy() throws {
        let facts = Facts(
            config: .success(try Self.config()), status: .success(Self.status()), cloudClockOffset: nil,
            unitExposure: 1.3)
        let findings = StationDoctor.examine(facts)
        #expect(findings.allSatisfy { $0.level == .ok }, "\(findings)")
        #expect(Set(findings.map(\.check)) == ["configuration", "daemon", "camera", "lists", "revocations", "clock", "cloud", "database", "disk", "unit"])
        #expect(findings.allSatisfy { !$0.zhHant.isEmpty && !$0.en.isEmpty })
        #expect(StationDoctor.exitStatus(findings) == 0)
    }

    @Test("a configuration that does not load is the one FAIL, with its key; exit 2")
    func badConfiguration() {
        let facts = Facts(
            config: .failure(.init("station.yaml: camera.size: expected WIDTHxHEIGHT")),
            status: .failure(.init("down", denied: false)))
        let findings = StationDoctor.examine(facts)
        #expect(findings.count == 1 && findings[0].level == .fail && findings[0].en.contains("camera.size"))
        #expect(StationDoctor.exitStatus(findings) == 2)
    }

    @Test("the daemon: down says how to start it; a socket refused says to join the group vhc")
    func daemon() throws {
        let down = Self.findings(Facts(config: .success(try Self.config()), status: .failure(.init("cannot reach", denied: false))))
        #expect(down["daemon"]?.level == .fail && down["daemon"]?.en.contains("systemctl start vhc-stationd") == true)
        let denied = Self.findings(Facts(config: .success(try Self.config()), status: .failure(.init("cannot reach", denied: true))))
        #expect(denied["daemon"]?.en.contains("usermod -aG vhc") == true && denied["daemon"]?.zhHant.contains("vhc 群組") == true)
        #expect(denied["unit"]?.level == .warn, "what can be seen without the daemon is still checked")
    }

    @Test("the camera: not streaming is said by what opening the device found: gone, not ours, held")
    func camera() throws {
        let config = try Self.config()
        func camera(_ probe: StationDoctor.DeviceProbe) -> StationDoctor.Finding? {
            Self.findings(Facts(config: .success(config), status: .success(Self.status(camera: .waitingForDevice)), device: probe))["camera"]
        }
        #expect(camera(.denied)?.level == .fail && camera(.denied)?.en.contains("udev rule") == true)
        #expect(camera(.busy)?.en.contains("another program") == true)
        #expect(camera(.missing)?.en.contains("plug the camera in") == true)
        #expect(camera(.opened)?.level == .fail)
        // The daemon's own reason, when it gives one, over what this account's probe found.
        var held = Self.status(camera: .waitingForDevice)
        held.camera.lastError = "camera_busy"
        let judged = Self.findings(Facts(config: .success(config), status: .success(held), device: .opened))["camera"]
        #expect(judged?.level == .fail && judged?.en.contains("another program") == true)
        let none = Self.findings(Facts(config: .success(try Self.config(camera: false)), status: .success(Self.status(camera: .none))))
        #expect(none["camera"]?.level == .ok)
    }

    @Test("the lists: none or expired FAIL, expiring within a day WARN")
    func lists() throws {
        let config = try Self.config()
        func lists(_ expiresIn: Int64?) -> StationDoctor.Finding.Level? {
            Self.findings(Facts(config: .success(config), status: .success(Self.status(trustExpiresIn: expiresIn))))["lists"]?.level
        }
        #expect(lists(nil) == .fail)
        #expect(lists(-3 * 86_400) == .fail)
        #expect(lists(3600) == .warn)
        #expect(lists(7 * 86_400) == .ok)
        let none = Self.findings(Facts(config: .success(config), status: .success(Self.status(revocation: false))))
        #expect(none["revocations"]?.level == .warn && none["revocations"]?.en.contains("delegated cards") == true)
    }

    @Test("the clock: rolled back FAIL; against the cloud's Date: beyond the skew FAIL, beyond half WARN")
    func clock() throws {
        let config = try Self.config(cloud: true)
        func clock(_ offset: Int64?, rolledBack: Bool = false) -> StationDoctor.Finding? {
            Self.findings(
                Facts(
                    config: .success(config), status: .success(Self.status(rolledBack: rolledBack, cloud: CloudStatus(state: .online))),
                    cloudClockOffset: offset))["clock"]
        }
        #expect(clock(nil, rolledBack: true)?.level == .fail && clock(nil, rolledBack: true)?.en.contains("vhc clock reset") == true)
        #expect(clock(300)?.level == .fail && clock(300)?.en.contains("300 s behind") == true)
        #expect(clock(-90)?.level == .warn && clock(-90)?.en.contains("ahead of") == true)
        #expect(clock(5)?.level == .ok)
    }

    @Test("the cloud: offline is a WARN with the visits waiting; no practitioner WARN; a refused one FAIL")
    func cloud() throws {
        let config = try Self.config(cloud: true)
        let offline = CloudStatus(
            state: .offline, lastError: "cannot reach the cloud", outboxLength: 2, oldestOutboxAgeSeconds: 600)
        let found = Self.findings(Facts(config: .success(config), status: .success(Self.status(cloud: offline))))
        #expect(found["cloud"]?.level == .warn && found["cloud"]?.en.contains("2 visit(s) waiting, the oldest 10 min") == true)
        #expect(found["cloud"]?.zhHant.contains("2 筆就醫待上傳") == true)
        #expect(found["practitioner"]?.level == .warn && found["practitioner"]?.en.contains("vhc login") == true)
        var refused = Self.status(cloud: CloudStatus(state: .online))
        refused.practitionerRefusal = .init(
            practitioner: .init(id: "F22****133", name: "林**", profession: "physician", since: 0, until: 1),
            code: "practitioner_not_affiliated", at: Self.now)
        let judged = Self.findings(Facts(config: .success(config), status: .success(refused)))
        #expect(judged["practitioner"]?.level == .fail && judged["practitioner"]?.en.contains("practitioner_not_affiliated") == true)
        let signedIn = Self.findings(Facts(config: .success(config), status: .success(Self.status(cloud: CloudStatus(state: .online), practitioner: true))))
        #expect(signedIn["cloud"]?.level == .ok && signedIn["practitioner"]?.level == .ok)
    }

    @Test("the disk below twice storage.min_free_mib WARN; the unit's exposure above 1.5 WARN")
    func diskAndUnit() throws {
        let config = try Self.config()
        func disk(_ free: Int64) -> StationDoctor.Finding.Level? {
            Self.findings(Facts(config: .success(config), status: .success(Self.status(freeMiB: free))))["disk"]?.level
        }
        #expect(disk(50) == .warn && disk(150) == .warn && disk(5000) == .ok, "low space warns; a full disk fails as the database's")
        let loose = Self.findings(Facts(config: .success(config), status: .success(Self.status()), unitExposure: 4.2))
        #expect(loose["unit"]?.level == .warn && loose["unit"]?.en.contains("drop-in") == true)
        #expect(StationDoctor.exitStatus(Array(loose.values)) == 1)
    }
}
