import Foundation
import Station
import VirtualCard

/// What the camera side reports for `GET /v1/status`: the daemon's capture pipeline fills it, tests
/// give a fixed one.
public struct CameraStatus: Sendable, Codable, Equatable {
    /// `streaming`, `opening`, `waiting_for_device`, `stalled`, `failed` or `none` (no camera configured).
    public var state: String
    public var device: String?
    public var framesPerSecond: Double
    /// The last code read (masked holder and outcome code), when there was one.
    public var lastRead: LastRead?

    public struct LastRead: Sendable, Codable, Equatable {
        public var at: Int64
        public var code: String
        public var holder: String?
        public init(at: Int64, code: String, holder: String?) {
            self.at = at
            self.code = code
            self.holder = holder
        }
    }

    public init(state: String, device: String? = nil, framesPerSecond: Double = 0, lastRead: LastRead? = nil) {
        self.state = state
        self.device = device
        self.framesPerSecond = framesPerSecond
        self.lastRead = lastRead
    }

    public static let none = CameraStatus(state: "none")
}

/// The source of the camera's status for the API.
public protocol CameraStatusProviding: Sendable {
    func cameraStatus() -> CameraStatus
}

/// A status that never changes (no camera, or tests).
public struct FixedCameraStatus: CameraStatusProviding {
    public let status: CameraStatus
    public init(_ status: CameraStatus) { self.status = status }
    public func cameraStatus() -> CameraStatus { status }
}

/// `GET /v1/status`: everything the front desk's screen needs to say whether the station can work.
public struct StationStatus: Sendable, Codable, Equatable {
    public var institution: String
    public var now: Int64
    /// `ok`, or `degraded` with the reasons in `problems`.
    public var state: String
    public var problems: [String]
    public var camera: CameraStatus
    public var trustList: ListStatus?
    public var revocationList: ListStatus?
    public var clock: ClockStatus
    public var database: DatabaseStatus
    /// Event streams open now (front-desk screens, the HIS).
    public var eventStreams: Int

    public struct ListStatus: Sendable, Codable, Equatable {
        public var sequence: Int64
        public var issuedAt: Int64
        public var expiresAt: Int64
        public var ageSeconds: Int64
        /// `current` or `expired` (past its expiry and the profile's grace period).
        public var state: String
    }

    public struct ClockStatus: Sendable, Codable, Equatable {
        public var highWater: Int64?
        /// `ok` or `rolled_back`.
        public var state: String
    }

    public struct DatabaseStatus: Sendable, Codable, Equatable {
        public var state: String
        public var openSessions: Int
        public var auditRows: Int64
    }

    /// Reads the station's state at its clock's now.
    public static func read(_ service: StationService, camera: CameraStatus) throws -> StationStatus {
        let now = service.clock()
        var problems: [String] = []
        func list(_ kind: TrustState.Kind) throws -> ListStatus? {
            guard let held = try service.trust.held(kind) else { return nil }
            let expired = now > held.expiresAt + SignedList.gracePeriod
            if expired { problems.append(kind == .trust ? "trust_list_expired" : "revocation_list_expired") }
            return ListStatus(
                sequence: held.sequence, issuedAt: held.issuedAt, expiresAt: held.expiresAt,
                ageSeconds: now - held.issuedAt, state: expired ? "expired" : "current")
        }
        let trustList = try list(.trust)
        if trustList == nil { problems.append("trust_list_unavailable") }
        let revocationList = try list(.revocation)
        let highWater = try service.trust.highWater()
        let rolledBack = TrustState.isRolledBack(now: now, highWater: highWater, skew: service.settings.skewSeconds)
        if rolledBack { problems.append("clock_rolled_back") }
        if !["streaming", "none"].contains(camera.state) { problems.append("camera_\(camera.state)") }
        let open = try service.sessions.openCount()
        return StationStatus(
            institution: service.settings.institution, now: now, state: problems.isEmpty ? "ok" : "degraded",
            problems: problems, camera: camera, trustList: trustList, revocationList: revocationList,
            clock: ClockStatus(highWater: highWater, state: rolledBack ? "rolled_back" : "ok"),
            database: DatabaseStatus(state: "ok", openSessions: open, auditRows: try service.audit.count()),
            eventStreams: service.events.subscriberCount)
    }
}
