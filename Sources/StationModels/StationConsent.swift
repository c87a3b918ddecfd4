/// A remote-consent request as the station keeps and shows it (`POST /v1/consents`, `GET /v1/consents`,
/// `POST /v1/consents/{id}/cancel`): the patient masked, never the token an approval hands over.
package struct StationConsent: Sendable, Codable, Equatable {
    package enum State: String, Sendable, Codable, CaseIterable {
        /// Asked; the patient has not answered. Followed again after a restart.
        case pending
        /// Approved: the visit it opened is `sessionId` (absent when its token was not accepted: `code`).
        case approved
        case refused
        /// Not answered within the window, or the cloud lost it (`code` says which).
        case expired
        /// Withdrawn at the station before the patient answered.
        case cancelled
    }

    package var id: String
    /// The station's institution, which asked; kept for clients of the first version of this answer.
    package var institution: String
    /// `A12****789`.
    package var patient: String
    package var setting: String
    package var state: State
    package var requestedAt: Int64
    package var expiresAt: Int64
    package var endedAt: Int64?
    /// Why it ended as it did: `consent_refused`, `consent_expired`, `consent_cancelled`, a scan's code.
    package var code: String?
    package var sessionId: String?

    package init(
        id: String, institution: String, patient: String, setting: String, state: State, requestedAt: Int64,
        expiresAt: Int64, endedAt: Int64? = nil, code: String? = nil, sessionId: String? = nil
    ) {
        self.id = id
        self.institution = institution
        self.patient = patient
        self.setting = setting
        self.state = state
        self.requestedAt = requestedAt
        self.expiresAt = expiresAt
        self.endedAt = endedAt
        self.code = code
        self.sessionId = sessionId
    }
}

/// `GET /v1/consents`: the station's requests of the last day, newest first.
package struct StationConsentList: Sendable, Codable, Equatable {
    package var consents: [StationConsent]
    package init(consents: [StationConsent]) { self.consents = consents }
}
