import VirtualCard

/// The phone app's side of the cloud (the project's, docs/cloud-openapi.yaml): tokens for a card,
/// delegations, and answers to remote consent. The app authenticates with `Authorization: Bearer`
/// and the patient's app secret, the sandbox's stand-in for the app login.

/// `POST /v1/app/tokens`: a token for the caller's own card, or for `card` when it is delegated to
/// the caller today.
package struct AppTokenRequest: Sendable, Codable, Equatable {
    package var card: String?
    package init(card: String? = nil) { self.card = card }

    /// `card` may be left out, not sent as null.
    package init(from decoder: any Decoder) throws {
        card = try decoder.container(keyedBy: CodingKeys.self).decodeUnlessAbsent(String.self, forKey: .card)
    }
}

/// A token as the app shows it: the QR text, its id, and when it stops being valid.
package struct AppToken: Sendable, Codable, Equatable {
    /// The token text (`VHC1:` and Base45) to put in a QR code.
    package var token: String
    /// The `cti`, 32 hex digits.
    package var tokenId: String
    package var issuedAt: Int64
    package var expiresAt: Int64
    /// The delegation the token carries, when it is for someone else's card.
    package var delegationId: String?
    package init(token: String, tokenId: String, issuedAt: Int64, expiresAt: Int64, delegationId: String?) {
        self.token = token
        self.tokenId = tokenId
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.delegationId = delegationId
    }
}

/// `POST /v1/app/delegations`: let `delegateId` show the caller's card from `validFrom` to `validTo`
/// (`YYYY-MM-DD`, Asia/Taipei, both included).
package struct DelegationRequest: Sendable, Codable, Equatable {
    package var delegateId: String
    package var validFrom: String
    package var validTo: String
    package init(delegateId: String, validFrom: String, validTo: String) {
        self.delegateId = delegateId
        self.validFrom = validFrom
        self.validTo = validTo
    }
    /// The longest delegation the sandbox grants, in days.
    package static let maximumDays = 366
    /// How many delegations a card may hold that are not cancelled.
    package static let maximumActive = 10
}

package enum DelegationState: String, Sendable, Codable, Equatable {
    case scheduled, active, expired, cancelled
}

package struct Delegation: Sendable, Codable, Equatable {
    /// 16 random bytes as 32 hex digits: the token's delegation id and the revocation list's entry.
    package var id: String
    package var holderId: String
    package var delegateId: String
    package var validFrom: String
    package var validTo: String
    package var createdAt: Int64
    package var cancelledAt: Int64?
    /// As of the answer's time.
    package var state: DelegationState
    package init(
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
package struct DelegationList: Sendable, Codable, Equatable {
    package var granted: [Delegation]
    package var received: [Delegation]
    package init(granted: [Delegation], received: [Delegation]) {
        self.granted = granted
        self.received = received
    }
}

// MARK: - Remote consent

/// `POST /v1/consents` (an institution, over mutual TLS): ask a patient's consent for a remote visit.
package struct ConsentRequest: Sendable, Codable, Equatable {
    package var patientId: String
    package var setting: CareSetting
    package init(patientId: String, setting: CareSetting) {
        self.patientId = patientId
        self.setting = setting
    }
    /// Settings a consent may be asked for: the remote ones.
    package static let remoteSettings: Set<CareSetting> = [.telemedicine, .videoConsultation]
    /// How long the patient has to answer, in seconds.
    package static let answerWindow: Int64 = 600
}

package enum ConsentState: String, Sendable, Codable, Equatable {
    /// Asked; not answered yet.
    case pending
    /// Approved; the token is handed over once, on the institution's next poll.
    case approved
    /// The token was handed over.
    case collected
    case refused
    /// Not answered within ten minutes.
    case expired
    /// Withdrawn by the institution that asked (`DELETE /v1/consents/{id}`) before the patient answered.
    case cancelled
}

/// A consent request as the institution sees it. `token` is present only in the answer that hands
/// it over (the first poll after approval); the cloud does not keep it.
package struct Consent: Sendable, Codable, Equatable {
    package var id: String
    package var institution: String
    /// Masked (`A12****789`): the institution knows whom it asked.
    package var patient: String
    package var setting: CareSetting
    package var state: ConsentState
    package var requestedAt: Int64
    package var expiresAt: Int64
    package var answeredAt: Int64?
    package var token: String?
    package init(
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
package struct PendingConsents: Sendable, Codable, Equatable {
    package var consents: [PendingConsent]
    package init(consents: [PendingConsent]) { self.consents = consents }

    package struct PendingConsent: Sendable, Codable, Equatable {
        package var id: String
        package var institution: String
        package var institutionName: String
        package var setting: CareSetting
        package var requestedAt: Int64
        package var expiresAt: Int64
        package init(
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
package struct ConsentAnswer: Sendable, Codable, Equatable {
    package var approve: Bool
    package init(approve: Bool) { self.approve = approve }
}
