/// `GET /v1/status`: everything the front desk's screen needs to say whether the station can work.
package struct StationStatus: Sendable, Codable, Equatable {
    package var institution: String
    package var now: Int64
    /// `ok`, or `degraded` with the reasons in `problems`.
    package var state: Health
    package var problems: [StatusProblem]
    package var camera: CameraStatus
    package var trustList: ListStatus?
    package var revocationList: ListStatus?
    package var clock: ClockStatus
    package var database: DatabaseStatus
    /// Event streams open now (front-desk screens, the HIS).
    package var eventStreams: Int
    /// The cloud link, when the station forwards visits to one.
    package var cloud: CloudStatus?
    /// Who is logged in to sign visit openings, masked, and until when.
    package var practitioner: PractitionerStatus?
    /// The last practitioner the cloud refused (their login ended with it), until the next login.
    package var practitionerRefusal: PractitionerRefusal?
    /// The last card login the card refused (a wrong or locked PIN), until a login succeeds.
    package var cardRefusal: CardRefusal?
    /// Configured list files the station cannot use (absent when there are none).
    package var listFiles: [ListFileProblem]?
    /// The configured handheld scanners (absent when there are none).
    package var scanners: [ScannerStatus]?
    /// The station's version (its Debian package's) and the commit it was built from.
    package var version: String?
    package var commit: String?

    package init(
        institution: String, now: Int64, state: Health, problems: [StatusProblem], camera: CameraStatus,
        trustList: ListStatus?, revocationList: ListStatus?, clock: ClockStatus, database: DatabaseStatus,
        eventStreams: Int, cloud: CloudStatus? = nil, practitioner: PractitionerStatus? = nil,
        practitionerRefusal: PractitionerRefusal? = nil, cardRefusal: CardRefusal? = nil,
        listFiles: [ListFileProblem]? = nil, scanners: [ScannerStatus]? = nil
    ) {
        self.scanners = scanners
        self.cardRefusal = cardRefusal
        self.listFiles = listFiles
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

    package enum Health: String, Sendable, Codable, Equatable {
        case ok, degraded
    }

    package struct ListStatus: Sendable, Codable, Equatable {
        package var sequence: Int64
        package var issuedAt: Int64
        package var expiresAt: Int64
        package var ageSeconds: Int64
        package var state: ListState
        package init(sequence: Int64, issuedAt: Int64, expiresAt: Int64, ageSeconds: Int64, state: ListState) {
            self.sequence = sequence
            self.issuedAt = issuedAt
            self.expiresAt = expiresAt
            self.ageSeconds = ageSeconds
            self.state = state
        }
    }

    package enum ListState: String, Sendable, Codable, Equatable {
        case current
        /// Past its expiry and the profile's grace period.
        case expired
    }

    package struct ClockStatus: Sendable, Codable, Equatable {
        package var highWater: Int64?
        package var state: ClockState
        package init(highWater: Int64?, state: ClockState) {
            self.highWater = highWater
            self.state = state
        }
    }

    package enum ClockState: String, Sendable, Codable, Equatable {
        case ok
        case rolledBack = "rolled_back"
    }

    package struct DatabaseStatus: Sendable, Codable, Equatable {
        /// `degraded` while `storage` says why.
        package var state: Health
        package var openSessions: Int
        package var auditRows: Int64
        /// Free space on the database's file system, in MiB, when it could be measured.
        package var freeMiB: Int64?
        /// The disk's trouble, while it lasts.
        package var storage: StorageTrouble?
        package init(
            state: Health, openSessions: Int, auditRows: Int64, freeMiB: Int64? = nil, storage: StorageTrouble? = nil
        ) {
            self.state = state
            self.openSessions = openSessions
            self.auditRows = auditRows
            self.freeMiB = freeMiB
            self.storage = storage
        }
    }

    /// A list file named in the configuration that the station cannot use.
    package struct ListFileProblem: Sendable, Codable, Equatable {
        /// `trust.trust_list` or `trust.revocation_list`.
        package var key: String
        package var path: String
        package var reason: String
        package init(key: String, path: String, reason: String) {
            self.key = key
            self.path = path
            self.reason = reason
        }
    }

    /// Why the station cannot (or soon will not) write its database: the disk is full, cannot be
    /// written, or has less free space than `storage.min_free_mib`.
    package struct StorageTrouble: Sendable, Codable, Equatable {
        /// `storage_full`, `storage_unavailable` or `storage_low`; also in `problems`.
        package var problem: StatusProblem
        package var detail: String
        /// When the first write failed for it (absent for low space, which is measured).
        package var since: Int64?
        package init(problem: StatusProblem, detail: String, since: Int64?) {
            self.problem = problem
            self.detail = detail
            self.since = since
        }
    }
}

extension StationStatus {
    /// The problems as a status line says them: ` (trust_list_expired, offline, 2 visits waiting)`; empty
    /// when there is none. Offline is said with what waits, not as a fault.
    package var problemSummary: String {
        var words = problems.filter { !$0.isNotice }.map(\.rawValue)
        if problems.contains(.cloudOffline) {
            let waiting = cloud?.outboxLength ?? 0
            words.append("offline, \(waiting) visit\(waiting == 1 ? "" : "s") waiting")
        }
        return words.isEmpty ? "" : " (\(words.joined(separator: ", ")))"
    }
}

/// What the station's status reports: a fault, which makes it degraded, or a notice, which does not.
package struct StatusProblem: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    package let rawValue: String
    package init(rawValue: String) { self.rawValue = rawValue }
    package var description: String { rawValue }

    /// Said, but not a fault: an offline station works by design (home care), its visits wait in the
    /// outbox; the outbox's own troubles (`outbox_undeliverable`) are faults.
    package var isNotice: Bool { self == .cloudOffline }

    package static let trustListUnavailable = StatusProblem(rawValue: "trust_list_unavailable")
    package static let trustListExpired = StatusProblem(rawValue: "trust_list_expired")
    package static let revocationListExpired = StatusProblem(rawValue: "revocation_list_expired")
    package static let clockRolledBack = StatusProblem(rawValue: "clock_rolled_back")
    /// A list file named in the configuration is missing, unreadable or refused (`listFiles` says which).
    package static let listFileUnusable = StatusProblem(rawValue: "list_file_unusable")
    /// A write failed: no space left on the database's disk. Scans are refused (507) until there is.
    package static let storageFull = StatusProblem(rawValue: "storage_full")
    /// A write failed: the database's disk or file cannot be written (I/O error, read-only).
    package static let storageUnavailable = StatusProblem(rawValue: "storage_unavailable")
    /// Less free space than `storage.min_free_mib` on the database's disk; nothing has failed yet.
    package static let storageLow = StatusProblem(rawValue: "storage_low")
    /// The cloud does not answer: scans open local sessions and their openings wait in the outbox.
    package static let cloudOffline = StatusProblem(rawValue: "cloud_offline")
    /// The cloud refused the logged-in practitioner's signature (`practitionerRefusal` says who and why):
    /// their login ended, and scans wait for another practitioner.
    package static let practitionerRefused = StatusProblem(rawValue: "practitioner_refused")
    /// A practitioner's card refused its PIN at a login (`cardRefusal` says how, and the tries left).
    package static let cardPINRefused = StatusProblem(rawValue: "card_pin_refused")
    /// Openings the cloud never answered within `cloud.give_up_hours` were given up (`cloud.undeliverable`).
    package static let outboxUndeliverable = StatusProblem(rawValue: "outbox_undeliverable")
    /// A configured handheld scanner is unplugged or cannot be opened (`scanners` says which and why).
    package static let scannerUnavailable = StatusProblem(rawValue: "scanner_unavailable")
    /// The camera is configured and not streaming: `camera_opening`, `camera_stalled`, …
    package static func camera(_ state: CameraStatus.State) -> StatusProblem {
        StatusProblem(rawValue: "camera_\(state.rawValue)")
    }
}

/// What the camera side reports for `GET /v1/status`: the daemon's capture pipeline fills it, tests
/// give a fixed one.
package struct CameraStatus: Sendable, Codable, Equatable {
    package var state: State
    package var device: String?
    package var framesPerSecond: Double
    /// The last code read (masked holder and outcome code), when there was one.
    package var lastRead: LastRead?
    /// Reads dropped before verification because the payload is not text a token can be, by reason
    /// (a binary code, a web address in UTF-8): a clerk's "why does it not react?".
    package var ignoredReads: IgnoredReads
    /// Why the camera last failed to open or failed while open (`camera_permission_denied`,
    /// `camera_busy`, `camera_missing`…), until it streams again.
    package var lastError: String?

    /// Counts of dropped reads, one per frame and pass that read such a code.
    package struct IgnoredReads: Sendable, Codable, Equatable {
        /// Nothing left once a trailing newline is removed.
        package var empty: Int
        /// A byte outside printable ASCII.
        package var notPrintableASCII: Int
        package init(empty: Int = 0, notPrintableASCII: Int = 0) {
            self.empty = empty
            self.notPrintableASCII = notPrintableASCII
        }
    }

    package enum State: String, Sendable, Codable, Equatable, CaseIterable {
        case streaming, opening, stalled, failed
        case waitingForDevice = "waiting_for_device"
        /// No camera configured.
        case none
    }

    package struct LastRead: Sendable, Codable, Equatable {
        package var at: Int64
        package var code: OutcomeCode
        package var holder: String?
        package init(at: Int64, code: OutcomeCode, holder: String?) {
            self.at = at
            self.code = code
            self.holder = holder
        }
    }

    enum CodingKeys: String, CodingKey { case state, device, framesPerSecond, lastRead, ignoredReads, lastError }

    /// `ignoredReads` may be absent: a daemon from before it was counted.
    package init(from decoder: any Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        state = try values.decode(State.self, forKey: .state)
        device = try values.decodeIfPresent(String.self, forKey: .device)
        framesPerSecond = try values.decode(Double.self, forKey: .framesPerSecond)
        lastRead = try values.decodeIfPresent(LastRead.self, forKey: .lastRead)
        ignoredReads = try values.decodeIfPresent(IgnoredReads.self, forKey: .ignoredReads) ?? .init()
        lastError = try values.decodeIfPresent(String.self, forKey: .lastError)
    }

    package init(
        state: State, device: String? = nil, framesPerSecond: Double = 0, lastRead: LastRead? = nil,
        ignoredReads: IgnoredReads = .init()
    ) {
        self.state = state
        self.device = device
        self.framesPerSecond = framesPerSecond
        self.lastRead = lastRead
        self.ignoredReads = ignoredReads
    }

    package static let none = CameraStatus(state: .none)
}

/// The station's link to the cloud: reachable or not, and what waits to be sent.
package struct CloudStatus: Sendable, Codable, Equatable {
    package var state: Connection
    /// The cloud's last answer (any answer, refusals too), epoch seconds.
    package var lastContactAt: Int64?
    /// Why the last attempt failed, when it did.
    package var lastError: String?
    /// Signed openings the cloud has not answered yet.
    package var outboxLength: Int
    package var oldestOutboxAgeSeconds: Int64?
    /// Scans waiting for a practitioner to log in and sign them.
    package var awaitingPractitioner: Int
    /// When the lists were last fetched from the cloud (changed or not), epoch seconds.
    package var listsCheckedAt: Int64?
    /// Openings given up after `cloud.give_up_hours` without an answer (kept for the clinic to follow
    /// up, their tokens wiped), and the last one's error.
    package var undeliverable: Int
    package var lastUndeliverableError: String?
    /// Where the institution's TLS key is: `file`, or `pkcs11` (a card or token). Never the key itself.
    package var institutionKey: String?

    package enum Connection: String, Sendable, Codable, Equatable {
        case online, offline
        /// Not tried since the daemon started.
        case unknown
    }

    enum CodingKeys: String, CodingKey {
        case state, lastContactAt, lastError, outboxLength, oldestOutboxAgeSeconds, awaitingPractitioner
        case listsCheckedAt, undeliverable, lastUndeliverableError, institutionKey
    }

    /// `undeliverable` may be absent: a daemon from before openings were given up.
    package init(from decoder: any Decoder) throws {
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
        institutionKey = try values.decodeIfPresent(String.self, forKey: .institutionKey)
    }

    package init(
        state: Connection, lastContactAt: Int64? = nil, lastError: String? = nil, outboxLength: Int = 0,
        oldestOutboxAgeSeconds: Int64? = nil, awaitingPractitioner: Int = 0, listsCheckedAt: Int64? = nil,
        undeliverable: Int = 0, lastUndeliverableError: String? = nil, institutionKey: String? = nil
    ) {
        self.institutionKey = institutionKey
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
package struct PractitionerStatus: Sendable, Codable, Equatable {
    package var id: String
    package var name: String
    /// `physician`, `nurse`, `pharmacist`, `other`.
    package var profession: String
    package var since: Int64
    package var until: Int64
    /// What signs: `file` (a key in memory) or `pkcs11` (a card); absent from an older daemon.
    package var credential: String?
    package init(
        id: String, name: String, profession: String, since: Int64, until: Int64, credential: String? = nil
    ) {
        self.id = id
        self.name = name
        self.profession = profession
        self.since = since
        self.until = until
        self.credential = credential
    }
}

/// A practitioner's card that refused a login: `pin_incorrect` or `pin_locked`, what the card said of the
/// PIN's tries (`not_low`, `count_low`, `final_try`, `locked`), and when. Nothing of the PIN.
package struct CardRefusal: Sendable, Codable, Equatable {
    package var code: String
    package var pinTries: String?
    package var at: Int64
    package init(code: String, pinTries: String?, at: Int64) {
        self.code = code
        self.pinTries = pinTries
        self.at = at
    }
}

/// A practitioner whose signature the cloud refused (`code`: `practitioner_not_affiliated`,
/// `practitioner_certificate_invalid`, `request_signature_invalid`), masked, and when.
package struct PractitionerRefusal: Sendable, Codable, Equatable {
    package var practitioner: PractitionerStatus
    package var code: String
    package var at: Int64
    package init(practitioner: PractitionerStatus, code: String, at: Int64) {
        self.practitioner = practitioner
        self.code = code
        self.at = at
    }
}
