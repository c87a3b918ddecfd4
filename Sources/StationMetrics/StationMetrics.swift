import CoreMetrics
import StationModels
import Synchronization

/// The station's metrics for a fleet's monitoring (issue 25), recorded through swift-metrics: the station's
/// parts call these methods, and the factory given decides where the figures go (the daemon's Prometheus
/// registry, `PrometheusExposition`; nowhere by default, so a test or a tool pays nothing). Every metric is
/// named and described once, in `families`. No label carries holder data: outcomes, sources and list kinds
/// are closed sets, and a source an API client names is counted as `other`.
package final class StationMetrics: Sendable {
    /// One metric's name, its help text and its kind, as `GET /metrics` shows it.
    package struct Family: Sendable, Equatable {
        package enum Kind: Sendable, Equatable {
            case counter, gauge
            /// A histogram of durations, in seconds, with these upper bounds.
            case histogram([Duration])
        }
        package let name: String
        package let help: String
        package let kind: Kind
    }

    package static let buildInfo = Family(
        name: "vhc_build_info", help: "The station's version and commit (always 1).", kind: .gauge)
    package static let scans = Family(
        name: "vhc_scans_total", help: "Codes verified, by outcome code and source (camera, handheld, api, his...).",
        kind: .counter)
    package static let frameDecode = Family(
        name: "vhc_frame_decode_seconds", help: "Time to decode one camera frame (every pass of the ladder it took).",
        kind: .histogram([.milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(20), .milliseconds(40),
                          .milliseconds(80), .milliseconds(160), .milliseconds(320), .seconds(1)]))
    package static let framesRead = Family(
        name: "vhc_camera_frames_total", help: "Frames the camera delivered and the station decoded.", kind: .counter)
    package static let framesDropped = Family(
        name: "vhc_camera_frames_dropped_total",
        help: "Frames not decoded: skipped for a newer one while the decoder was busy, or broken.", kind: .counter)
    package static let cameraStreaming = Family(
        name: "vhc_camera_streaming", help: "1 while the camera streams, 0 otherwise (or no camera).", kind: .gauge)
    package static let outbox = Family(
        name: "vhc_outbox_openings", help: "Signed visit openings the cloud has not answered yet.", kind: .gauge)
    package static let outboxOldest = Family(
        name: "vhc_outbox_oldest_age_seconds", help: "Age of the oldest opening in the outbox (0 when empty).",
        kind: .gauge)
    package static let awaitingPractitioner = Family(
        name: "vhc_outbox_awaiting_practitioner", help: "Scans waiting for a practitioner to sign their opening.",
        kind: .gauge)
    package static let undeliverable = Family(
        name: "vhc_outbox_undeliverable", help: "Openings given up without an answer after cloud.give_up_hours.",
        kind: .gauge)
    package static let cloudReachable = Family(
        name: "vhc_cloud_reachable", help: "1 when the cloud answered the last attempt, 0 when it did not or was not tried.",
        kind: .gauge)
    package static let cloudLastContact = Family(
        name: "vhc_cloud_last_contact_timestamp_seconds", help: "When the cloud last answered (epoch seconds; 0: never).",
        kind: .gauge)
    package static let listAge = Family(
        name: "vhc_list_age_seconds", help: "Age of the installed trust or revocation list, from its issue time.",
        kind: .gauge)
    package static let listExpiry = Family(
        name: "vhc_list_expiry_timestamp_seconds", help: "When the installed list expires (epoch seconds).", kind: .gauge)
    package static let eventStreams = Family(
        name: "vhc_event_streams", help: "Event streams open now (front-desk pages, the HIS).", kind: .gauge)
    package static let openSessions = Family(
        name: "vhc_open_sessions", help: "Visit sessions open now.", kind: .gauge)
    package static let degraded = Family(
        name: "vhc_degraded", help: "1 while GET /v1/status says degraded (its problems say why).", kind: .gauge)
    package static let freeDisk = Family(
        name: "vhc_storage_free_bytes", help: "Free space on the database's file system.", kind: .gauge)
    package static let signIns = Family(
        name: "vhc_web_sign_ins_total", help: "Front-desk page sign-in links redeemed (accepted) or refused.",
        kind: .counter)
    package static let residentMemory = Family(
        name: "vhc_resident_memory_bytes", help: "The daemon's resident memory (VmRSS).", kind: .gauge)

    package static let families: [Family] = [
        buildInfo, scans, frameDecode, framesRead, framesDropped, cameraStreaming, outbox, outboxOldest,
        awaitingPractitioner, undeliverable, cloudReachable, cloudLastContact, listAge, listExpiry, eventStreams,
        openSessions, degraded, freeDisk, signIns, residentMemory,
    ]

    /// The sources the station itself names; any other an API client sends is counted as `other`.
    package static let knownSources: Set<String> = [
        "camera", "handheld", "image", "capture", "consent", "api", "his", "cli",
    ]

    private let factory: any MetricsFactory
    /// Each metric and label set made once and kept: the label sets are closed, so this stays small, and
    /// a frame or a scan then costs one lookup, not a registration under the registry's lock.
    private let counters = Handles<CoreMetrics.Counter>()
    private let gauges = Handles<Meter>()
    private let decodeTimer: CoreMetrics.Timer

    package init(factory: any MetricsFactory = NOOPMetricsHandler.instance) {
        self.factory = factory
        decodeTimer = CoreMetrics.Timer(label: Self.frameDecode.name, dimensions: [], factory: factory)
    }

    private func counter(_ family: Family, _ labels: [(String, String)] = []) -> CoreMetrics.Counter {
        counters.handle(family.name, labels) { CoreMetrics.Counter(label: family.name, dimensions: labels, factory: factory) }
    }

    private func gauge(_ family: Family, _ labels: [(String, String)] = []) -> Meter {
        gauges.handle(family.name, labels) { Meter(label: family.name, dimensions: labels, factory: factory) }
    }

    /// A code verified: its outcome and where it came from.
    package func scanned(_ code: OutcomeCode, source: String) {
        let source = Self.knownSources.contains(source) ? source : "other"
        counter(Self.scans, [("outcome", code.rawValue), ("source", source)]).increment()
    }

    /// One camera frame decoded.
    package func frameDecoded(in duration: Duration) {
        decodeTimer.recordNanoseconds(
            duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
        counter(Self.framesRead).increment()
    }

    /// Frames the camera had completed that were not decoded.
    package func framesDropped(_ count: Int, reason: String) {
        guard count > 0 else { return }
        counter(Self.framesDropped, [("reason", reason)]).increment(by: count)
    }

    /// A front-desk page sign-in link redeemed, or refused (unknown, used or expired).
    package func signIn(accepted: Bool) {
        counter(Self.signIns, [("outcome", accepted ? "accepted" : "refused")]).increment()
    }

    /// The gauges, from the station's status at a scrape.
    package func observe(_ status: StationStatus, residentBytes: Int?, version: String, commit: String) {
        gauge(Self.buildInfo, [("version", version), ("commit", commit)]).set(1)
        gauge(Self.cameraStreaming).set(status.camera.state == .streaming ? 1 : 0)
        gauge(Self.eventStreams).set(status.eventStreams)
        gauge(Self.openSessions).set(status.database.openSessions)
        gauge(Self.degraded).set(status.state == .degraded ? 1 : 0)
        if let free = status.database.freeMiB { gauge(Self.freeDisk).set(Int64(free) * 1_048_576) }
        for (kind, list) in [("trust", status.trustList), ("revocation", status.revocationList)] {
            guard let list else { continue }
            gauge(Self.listAge, [("list", kind)]).set(list.ageSeconds)
            gauge(Self.listExpiry, [("list", kind)]).set(list.expiresAt)
        }
        if let cloud = status.cloud {
            gauge(Self.outbox).set(cloud.outboxLength)
            gauge(Self.outboxOldest).set(cloud.oldestOutboxAgeSeconds ?? 0)
            gauge(Self.awaitingPractitioner).set(cloud.awaitingPractitioner)
            gauge(Self.undeliverable).set(cloud.undeliverable)
            gauge(Self.cloudReachable).set(cloud.state == .online ? 1 : 0)
            gauge(Self.cloudLastContact).set(cloud.lastContactAt ?? 0)
        }
        if let residentBytes { gauge(Self.residentMemory).set(residentBytes) }
    }
}

/// Metric handles by name and labels, made on first use.
final class Handles<Handle: Sendable>: Sendable {
    private let made = Mutex<[String: Handle]>([:])

    func handle(_ name: String, _ labels: [(String, String)], make: () -> Handle) -> Handle {
        let key = ([name] + labels.map { "\($0.0)=\($0.1)" }).joined(separator: "\u{1F}")
        return made.withLock { table in
            if let known = table[key] { return known }
            let handle = make()
            table[key] = handle
            return handle
        }
    }
}
