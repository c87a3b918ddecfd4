/// `GET /v1/status`: everything the front desk's screen needs to say whether the station can work.
public struct StationStatus: Sendable, Codable, Equatable {
    public var institution: String
    public var now: Int64
    /// `ok`, or `degraded` with the reasons in `problems`.
    public var state: Health
    public var problems: [StatusProblem]
    public var camera: CameraStatus
    public var trustList: ListStatus?
    public var revocationList: ListStatus?
    public var clock: ClockStatus
    public var database: DatabaseStatus
    /// Event streams open now (front-desk screens, the HIS).
    public var eventStreams: Int
    /// The cloud link, when the station forwards visits to one.
    public var cloud: CloudStatus?
    /// Who is logged in to sign visit openings, masked, and until when.
    public var practitioner: PractitionerStatus?
    /// The last practitioner the cloud refused (their login ended with it), until the next login.
    public var practitionerRefusal: PractitionerRefusal?

    public init(
        institution: String, now: Int64, state: Health, problems: [StatusProblem], camera: CameraStatus,
        trustList: ListStatus?, revocationList: ListStatus?, clock: ClockStatus, database: DatabaseStatus,
        eventStreams: Int, cloud: CloudStatus? = nil, practitioner: PractitionerStatus? = nil,
        practitionerRefusal: PractitionerRefusal? = nil
    ) {
        self.institution = institution
        self.now = now
        self.state = state
        self.problems = problems
        self.camera = camera
        self.trustList = trustList
        self.revocationList = revocationList
        self.clock = clock
        self.database = database
        self.eventStreams = eventStreams
        self.cloud = cloud
        self.practitioner = practitioner
        self.practitionerRefusal = practitionerRefusal
    }

    public enum Health: String, Sendable, Codable, Equatable {
        case ok, degraded
    }

    public struct ListStatus: Sendable, Codable, Equatable {
        public var sequence: Int64
        public var issuedAt: Int64
        public var expiresAt: Int64
        public var ageSeconds: Int64
        public var state: ListState
        public init(sequence: Int64, issuedAt: Int64, expiresAt: Int64, ageSeconds: Int64, state: ListState) {
            self.sequence = sequence
            self.issuedAt = issuedAt
            self.expiresAt = expiresAt
            self.ageSeconds = ageSeconds
            self.state = state
        }
    }

    public enum ListState: String, Sendable, Codable, Equatable {
        case current
        /// Past its expiry and the profile's grace period.
        case expired
    }

    public struct ClockStatus: Sendable, Codable, Equatable {
        public var highWater: Int64?
        public var state: ClockState
        public init(highWater: Int64?, state: ClockState) {
            self.highWater = highWater
            self.state = state
        }
    }

    public enum ClockState: String, Sendable, Codable, Equatable {
        case ok
        case rolledBack = "rolled_back"
    }

    public struct DatabaseStatus: Sendable, Codable, Equatable {
        public var state: Health
        public var openSessions: Int
        public var auditRows: Int64
        public init(state: Health, openSessions: Int, auditRows: Int64) {
            self.state = state
            self.openSessions = openSessions
            self.auditRows = auditRows
        }
    }
}

/// Why the station says it is degraded.
public struct StatusProblem: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    public static let trustListUnavailable = StatusProblem(rawValue: "trust_list_unavailable")
    public static let trustListExpired = StatusProblem(rawValue: "trust_list_expired")
    public static let revocationListExpired = StatusProblem(rawValue: "revocation_list_expired")
    public static let clockRolledBack = StatusProblem(rawValue: "clock_rolled_back")
    /// The cloud does not answer: scans open local sessions and their openings wait in the outbox.
    public static let cloudOffline = StatusProblem(rawValue: "cloud_offline")
    /// The cloud refused the logged-in practitioner's signature (`practitionerRefusal` says who and why):
    /// their login ended, and scans wait for another practitioner.
    public static let practitionerRefused = StatusProblem(rawValue: "practitioner_refused")
    /// Openings the cloud never answered within `cloud.give_up_hours` were given up (`cloud.undeliverable`).
    public static let outboxUndeliverable = StatusProblem(rawValue: "outbox_undeliverable")
    /// The camera is configured and not streaming: `camera_opening`, `camera_stalled`, …
    public static func camera(_ state: CameraStatus.State) -> StatusProblem {
        StatusProblem(rawValue: "camera_\(state.rawValue)")
    }
}

/// What the camera side reports for `GET /v1/status`: the daemon's capture pipeline fills it, tests
/// give a fixed one.
public struct CameraStatus: Sendable, Codable, Equatable {
    public var state: State
    public var device: String?
    public var framesPerSecond: Double
    /// The last code read (masked holder and outcome code), when there was one.
    public var lastRead: LastRead?
    /// Reads dropped before verification because the payload is not text a token can be, by reason
    /// (a binary code, a web address in UTF-8): a clerk's "why does it not react?".
    public var ignoredReads: IgnoredReads

    /// Counts of dropped reads, one per frame and pass that read such a code.
    public struct IgnoredReads: Sendable, Codable, Equatable {
        /// Nothing left once a trailing newline is removed.
        public var empty: Int
        /// A byte outside printable ASCII.
        public var notPrintableASCII: Int
        public init(empty: Int = 0, notPrintableASCII: Int = 0) {
            self.empty = empty
            self.notPrintableASCII = notPrintableASCII
        }
    }

    public enum State: String, Sendable, Codable, Equatable, CaseIterable {
        case streaming, opening, stalled, failed
        case waitingForDevice = "waiting_for_device"
        /// No camera configured.
        case none
    }

    public struct LastRead: Sendable, Codable, Equatable {
        public var at: Int64
        public var code: OutcomeCode
        public var holder: String?
        public init(at: Int64, code: OutcomeCode, holder: String?) {
            self.at = at
            self.code = code
            self.holder = holder
        }
    }

    enum CodingKeys: String, CodingKey { case state, device, framesPerSecond, lastRead, ignoredReads }

    /// `ignoredReads` may be absent: a daemon from before it was counted.
    public init(from decoder: any Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        state = try values.decode(State.self, forKey: .state)
        device = try values.decodeIfPresent(String.self, forKey: .device)
        framesPerSecond = try values.decode(Double.self, forKey: .framesPerSecond)
        lastRead = try values.decodeIfPresent(LastRead.self, forKey: .lastRead)
        ignoredReads = try values.decodeIfPresent(IgnoredReads.self, forKey: .ignoredReads) ?? .init()
    }

    public init(
        state: State, device: String? = nil, framesPerSecond: Double = 0, lastRead: LastRead? = nil,
        ignoredReads: IgnoredReads = .init()
    ) {
        self.state = state
        self.device = device
        self.framesPerSecond = framesPerSecond
        self.lastRead = lastRead
        self.ignoredReads = ignoredReads
    }

    public static let none = CameraStatus(state: .none)
}

/// The station's link to the cloud: reachable or not, and what waits to be sent.
public struct CloudStatus: Sendable, Codable, Equatable {
    public var state: Connection
    /// The cloud's last answer (any answer, refusals too), epoch seconds.
    public var lastContactAt: Int64?
    /// Why the last attempt failed, when it did.
    public var lastError: String?
    /// Signed openings the cloud has not answered yet.
    public var outboxLength: Int
    public var oldestOutboxAgeSeconds: Int64?
    /// Scans waiting for a practitioner to log in and sign them.
    public var awaitingPractitioner: Int
    /// When the lists were last fetched from the cloud (changed or not), epoch seconds.
    public var listsCheckedAt: Int64?
    /// Openings given up after `cloud.give_up_hours` without an answer (kept for the clinic to follow
    /// up, their tokens wiped), and the last one's error.
    public var undeliverable: Int
    public var lastUndeliverableError: String?

    public enum Connection: String, Sendable, Codable, Equatable {
        case online, offline
        /// Not tried since the daemon started.
        case unknown
    }

    enum CodingKeys: String, CodingKey {
        case state, lastContactAt, lastError, outboxLength, oldestOutboxAgeSeconds, awaitingPractitioner
        case listsCheckedAt, undeliverable, lastUndeliverableError
    }

    /// `undeliverable` may be absent: a daemon from before openings were given up.
    public init(from decoder: any Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        state = try values.decode(Connection.self, forKey: .state)
        lastContactAt = try values.decodeIfPresent(Int64.self, forKey: .lastContactAt)
        lastError = try values.decodeIfPresent(String.self, forKey: .lastError)
        outboxLength = try values.decode(Int.self, forKey: .outboxLength)
        oldestOutboxAgeSeconds = try values.decodeIfPresent(Int64.self, forKey: .oldestOutboxAgeSeconds)
        awaitingPractitioner = try values.decode(Int.self, forKey: .awaitingPractitioner)
        listsCheckedAt = try values.decodeIfPresent(Int64.self, forKey: .listsCheckedAt)
        undeliverable = try values.decodeIfPresent(Int.self, forKey: .undeliverable) ?? 0
        lastUndeliverableError = try values.decodeIfPresent(String.self, forKey: .lastUndeliverableError)
    }

    public init(
        state: Connection, lastContactAt: Int64? = nil, lastError: String? = nil, outboxLength: Int = 0,
        oldestOutboxAgeSeconds: Int64? = nil, awaitingPractitioner: Int = 0, listsCheckedAt: Int64? = nil,
        undeliverable: Int = 0, lastUndeliverableError: String? = nil
    ) {
        self.state = state
        self.lastContactAt = lastContactAt
        self.lastError = lastError
        self.outboxLength = outboxLength
        self.oldestOutboxAgeSeconds = oldestOutboxAgeSeconds
        self.awaitingPractitioner = awaitingPractitioner
        self.listsCheckedAt = listsCheckedAt
        self.undeliverable = undeliverable
        self.lastUndeliverableError = lastUndeliverableError
    }
}

/// The practitioner logged in at the station (masked, for shared screens) and the end of the shift.
public struct PractitionerStatus: Sendable, Codable, Equatable {
    public var id: String
    public var name: String
    /// `physician`, `nurse`, `pharmacist`, `other`.
    public var profession: String
    public var since: Int64
    public var until: Int64
    public init(id: String, name: String, profession: String, since: Int64, until: Int64) {
        self.id = id
        self.name = name
        self.profession = profession
        self.since = since
        self.until = until
    }
}

/// A practitioner whose signature the cloud refused (`code`: `practitioner_not_affiliated`,
/// `practitioner_certificate_invalid`, `request_signature_invalid`), masked, and when.
public struct PractitionerRefusal: Sendable, Codable, Equatable {
    public var practitioner: PractitionerStatus
    public var code: String
    public var at: Int64
    public init(practitioner: PractitionerStatus, code: String, at: Int64) {
        self.practitioner = practitioner
        self.code = code
        self.at = at
    }
}
