/// The phone app's side of the cloud (the project's, docs/cloud-openapi.yaml): tokens for a card,
/// delegations, and answers to remote consent. The app authenticates with `Authorization: Bearer`
/// and the patient's app secret, the sandbox's stand-in for the app login.

/// `POST /v1/app/tokens`: a token for the caller's own card, or for `card` when it is delegated to
/// the caller today.
public struct AppTokenRequest: Sendable, Codable, Equatable {
    public var card: String?
    public init(card: String? = nil) { self.card = card }
}

/// A token as the app shows it: the QR text, its id, and when it stops being valid.
public struct AppToken: Sendable, Codable, Equatable {
    /// The token text (`VHC1:` and Base45) to put in a QR code.
    public var token: String
    /// The `cti`, 32 hex digits.
    public var tokenId: String
    public var issuedAt: Int64
    public var expiresAt: Int64
    /// The delegation the token carries, when it is for someone else's card.
    public var delegationId: String?
    public init(token: String, tokenId: String, issuedAt: Int64, expiresAt: Int64, delegationId: String?) {
        self.token = token
        self.tokenId = tokenId
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.delegationId = delegationId
    }
}

/// `POST /v1/app/delegations`: let `delegateId` show the caller's card from `validFrom` to `validTo`
/// (`YYYY-MM-DD`, Asia/Taipei, both included).
public struct DelegationRequest: Sendable, Codable, Equatable {
    public var delegateId: String
    public var validFrom: String
    public var validTo: String
    public init(delegateId: String, validFrom: String, validTo: String) {
        self.delegateId = delegateId
        self.validFrom = validFrom
        self.validTo = validTo
    }
    /// The longest delegation the sandbox grants, in days.
    public static let maximumDays = 366
    /// How many delegations a card may hold that are not cancelled.
    public static let maximumActive = 10
}

public enum DelegationState: String, Sendable, Codable, Equatable {
    case scheduled, active, expired, cancelled
}

public struct Delegation: Sendable, Codable, Equatable {
    /// 16 random bytes as 32 hex digits: the token's delegation id and the revocation list's entry.
    public var id: String
    public var holderId: String
    public var delegateId: String
    public var validFrom: String
    public var validTo: String
    public var createdAt: Int64
    public var cancelledAt: Int64?
    /// As of the answer's time.
    public var state: DelegationState
    public init(
        id: String, holderId: String, delegateId: String, validFrom: String, validTo: String, createdAt: Int64,
        cancelledAt: Int64?, state: DelegationState
    ) {
        self.id = id
        self.holderId = holderId
        self.delegateId = delegateId
        self.validFrom = validFrom
        self.validTo = validTo
        self.createdAt = createdAt
        self.cancelledAt = cancelledAt
        self.state = state
    }
}

/// `GET /v1/app/delegations`: those the caller gave (`granted`) and those given to the caller
/// (`received`), newest first.
public struct DelegationList: Sendable, Codable, Equatable {
    public var granted: [Delegation]
    public var received: [Delegation]
    public init(granted: [Delegation], received: [Delegation]) {
        self.granted = granted
        self.received = received
    }
}

// MARK: - Remote consent

/// `POST /v1/consents` (an institution, over mutual TLS): ask a patient's consent for a remote visit.
public struct ConsentRequest: Sendable, Codable, Equatable {
    public var patientId: String
    public var setting: CareSetting
    public init(patientId: String, setting: CareSetting) {
        self.patientId = patientId
        self.setting = setting
    }
    /// Settings a consent may be asked for: the remote ones.
    public static let remoteSettings: Set<CareSetting> = [.telemedicine, .videoConsultation]
    /// How long the patient has to answer, in seconds.
    public static let answerWindow: Int64 = 600
}

public enum ConsentState: String, Sendable, Codable, Equatable {
    /// Asked; not answered yet.
    case pending
    /// Approved; the token is handed over once, on the institution's next poll.
    case approved
    /// The token was handed over.
    case collected
    case refused
    /// Not answered within ten minutes.
    case expired
}

/// A consent request as the institution sees it. `token` is present only in the answer that hands
/// it over (the first poll after approval); the cloud does not keep it.
public struct Consent: Sendable, Codable, Equatable {
    public var id: String
    public var institution: String
    /// Masked (`A12****789`): the institution knows whom it asked.
    public var patient: String
    public var setting: CareSetting
    public var state: ConsentState
    public var requestedAt: Int64
    public var expiresAt: Int64
    public var answeredAt: Int64?
    public var token: String?
    public init(
        id: String, institution: String, patient: String, setting: CareSetting, state: ConsentState,
        requestedAt: Int64, expiresAt: Int64, answeredAt: Int64?, token: String?
    ) {
        self.id = id
        self.institution = institution
        self.patient = patient
        self.setting = setting
        self.state = state
        self.requestedAt = requestedAt
        self.expiresAt = expiresAt
        self.answeredAt = answeredAt
        self.token = token
    }
}

/// `GET /v1/app/consents`: what is waiting for the patient's answer.
public struct PendingConsents: Sendable, Codable, Equatable {
    public var consents: [PendingConsent]
    public init(consents: [PendingConsent]) { self.consents = consents }

    public struct PendingConsent: Sendable, Codable, Equatable {
        public var id: String
        public var institution: String
        public var institutionName: String
        public var setting: CareSetting
        public var requestedAt: Int64
        public var expiresAt: Int64
        public init(
            id: String, institution: String, institutionName: String, setting: CareSetting, requestedAt: Int64,
            expiresAt: Int64
        ) {
            self.id = id
            self.institution = institution
            self.institutionName = institutionName
            self.setting = setting
            self.requestedAt = requestedAt
            self.expiresAt = expiresAt
        }
    }
}

/// `POST /v1/app/consents/{id}`: the patient's answer.
public struct ConsentAnswer: Sendable, Codable, Equatable {
    public var approve: Bool
    public init(approve: Bool) { self.approve = approve }
}
