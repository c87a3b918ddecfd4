import Foundation
import Prometheus
import StationBuild
import StationMetrics
import StationModels
import TestSupport
import Testing

/// The station's metrics (issue 25): what a scrape shows, by Prometheus' rules (Debian's promtool), with
/// no holder data in any label.
@Suite("Metrics: the station's figures in Prometheus' text format")
struct StationMetricsTests {
    static func status(cloud: CloudStatus? = nil, degraded: Bool = false) -> StationStatus {
        StationStatus(
            institution: "0123456789", now: 1_800_000_000, state: degraded ? .degraded : .ok,
            problems: degraded ? [.cloudOffline] : [],
            camera: CameraStatus(state: .streaming, device: "/dev/video0", framesPerSecond: 29),
            trustList: .init(sequence: 3, issuedAt: 1_799_996_400, expiresAt: 1_800_086_400, ageSeconds: 3600, state: .current),
            revocationList: nil, clock: .init(highWater: 1_800_000_000, state: .ok),
            database: .init(state: .ok, openSessions: 2, auditRows: 10, freeMiB: 1024), eventStreams: 1, cloud: cloud)
    }

    /// The value of the sample whose line starts with `series` (name and labels as printed).
    static func value(_ text: String, _ series: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    @Test("scans count by outcome and source; a source the station does not name is other; frames and sign-ins count")
    func counters() {
        let exposition = PrometheusExposition(version: "9.9.9", commit: "abcdef123456")
        let metrics = exposition.metrics
        metrics.scanned(OutcomeCode(rawValue: "valid"), source: "camera")
        metrics.scanned(OutcomeCode(rawValue: "valid"), source: "camera")
        metrics.scanned(OutcomeCode(rawValue: "replayed"), source: "handheld")
        metrics.scanned(OutcomeCode(rawValue: "valid"), source: "A123456789")  // an API client's own word
        metrics.frameDecoded(in: .milliseconds(12))
        metrics.frameDecoded(in: .milliseconds(3))
        metrics.framesDropped(4, reason: "skipped")
        metrics.signIn(accepted: true)
        metrics.signIn(accepted: false)
        metrics.signIn(accepted: false)
        let text = exposition.scrape(Self.status(), residentBytes: 50_000_000)
        #expect(Self.value(text, #"vhc_scans_total{outcome="valid",source="camera"}"#) == 2)
        #expect(Self.value(text, #"vhc_scans_total{outcome="replayed",source="handheld"}"#) == 1)
        #expect(Self.value(text, #"vhc_scans_total{outcome="valid",source="other"}"#) == 1)
        #expect(!text.contains("A123456789"), "an ID number an API client sent as its source is in no label")
        #expect(Self.value(text, "vhc_camera_frames_total") == 2)
        #expect(Self.value(text, #"vhc_frame_decode_seconds_bucket{le="0.005"}"#) == 1)
        #expect(Self.value(text, #"vhc_frame_decode_seconds_bucket{le="0.02"}"#) == 2)
        #expect(Self.value(text, "vhc_frame_decode_seconds_count") == 2)
        #expect(Self.value(text, #"vhc_camera_frames_dropped_total{reason="skipped"}"#) == 4)
        #expect(Self.value(text, #"vhc_web_sign_ins_total{outcome="refused"}"#) == 2)
        #expect(Self.value(text, #"vhc_build_info{version="9.9.9",commit="abcdef123456"}"#) == 1)
        #expect(Self.value(text, "vhc_resident_memory_bytes") == 50_000_000)
    }

    @Test("the gauges follow the status at each scrape: lists, sessions, the outbox and the cloud, degraded")
    func gauges() {
        let exposition = PrometheusExposition(version: "1", commit: "unknown")
        let offline = CloudStatus(state: .offline, outboxLength: 3, oldestOutboxAgeSeconds: 700, awaitingPractitioner: 1, undeliverable: 2)
        var text = exposition.scrape(Self.status(cloud: offline, degraded: true), residentBytes: nil)
        #expect(Self.value(text, #"vhc_list_age_seconds{list="trust"}"#) == 3600)
        #expect(Self.value(text, #"vhc_list_expiry_timestamp_seconds{list="trust"}"#) == 1_800_086_400)
        #expect(Self.value(text, "vhc_open_sessions") == 2 && Self.value(text, "vhc_event_streams") == 1)
        #expect(Self.value(text, "vhc_outbox_openings") == 3 && Self.value(text, "vhc_outbox_oldest_age_seconds") == 700)
        #expect(Self.value(text, "vhc_outbox_undeliverable") == 2 && Self.value(text, "vhc_outbox_awaiting_practitioner") == 1)
        #expect(Self.value(text, "vhc_cloud_reachable") == 0 && Self.value(text, "vhc_degraded") == 1)
        #expect(Self.value(text, "vhc_storage_free_bytes") == Double(1 << 30))
        text = exposition.scrape(
            Self.status(cloud: CloudStatus(state: .online, lastContactAt: 1_799_999_990)), residentBytes: nil)
        #expect(Self.value(text, "vhc_outbox_openings") == 0 && Self.value(text, "vhc_outbox_oldest_age_seconds") == 0)
        #expect(Self.value(text, "vhc_cloud_reachable") == 1 && Self.value(text, "vhc_degraded") == 0)
        #expect(Self.value(text, "vhc_cloud_last_contact_timestamp_seconds") == 1_799_999_990)
    }

    @Test("every metric has its help and type, and promtool check metrics (Debian's prometheus) finds nothing")
    func promtoolAccepts() throws {
        let exposition = PrometheusExposition(version: BuildInfo.version, commit: BuildInfo.commit)
        exposition.metrics.scanned(OutcomeCode(rawValue: "valid"), source: "api")
        exposition.metrics.frameDecoded(in: .milliseconds(7))
        exposition.metrics.framesDropped(1, reason: "broken")
        exposition.metrics.signIn(accepted: true)
        let text = exposition.scrape(Self.status(cloud: CloudStatus(state: .online)), residentBytes: 1 << 25)
        for family in StationMetrics.families {
            #expect(text.contains("# HELP \(family.name) "), "\(family.name) has its help")
            #expect(text.contains("# TYPE \(family.name) "), "\(family.name) has its type")
        }
        let result = try Command.run(Command.promtool, ["check", "metrics"], stdin: Data(text.utf8))
        #expect(result.status == 0, "promtool check metrics: \(result.stdout)\(result.stderr)")
    }

    @Test("the build's stamp: VERSION's version, and the commit's first 12 hex digits")
    func buildStamp() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let version = try String(contentsOf: root.appendingPathComponent("VERSION"), encoding: .utf8)
        #expect(BuildInfo.version == version.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(BuildInfo.commit == "unknown" || (BuildInfo.commit.count == 12 && BuildInfo.commit.allSatisfy(\.isHexDigit)))
        #expect(BuildInfo.description == "\(BuildInfo.version) (\(BuildInfo.commit))")
    }
}
