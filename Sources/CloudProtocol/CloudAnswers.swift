import VirtualCard

/// The answer to a visit opening (cloud-protocol.md §3): `201` the first time, `200` with the same
/// answer for the same request again (§5). `cardNumber` and `delegation` are written as `null` when
/// absent, as the protocol shows them, so the encoding is spelled out rather than synthesised.
package struct VisitGrant: Sendable, Codable, Equatable {
    /// Opaque, at least 128 bits of randomness; bound to the institution and the practitioner.
    package var grant: String
    /// Four digits, from `0001` per institution and Asia/Taipei calendar day.
    package var visitSequence: String
    /// ISO 8601: the scan time.
    package var openedAt: String
    package var expiresAt: String
    /// Forwarded more than 300 s after it was signed (after an offline period).
    package var deferred: Bool
    package var patient: Patient
    package var delegation: Delegation?
    package var idCheckRequired: Bool
    /// 就醫識別碼, an extension of the sandbox (docs/cloud.md): 20 letters or digits when the cloud issues
    /// one. The station never requires it: absent, or not 20 letters and digits, it reads as none.
    package var treatmentNumber: String?

    package init(
        grant: String, visitSequence: String, openedAt: String, expiresAt: String, deferred: Bool, patient: Patient,
        delegation: Delegation?, idCheckRequired: Bool, treatmentNumber: String? = nil
    ) {
        self.grant = grant
        self.visitSequence = visitSequence
        self.openedAt = openedAt
        self.expiresAt = expiresAt
        self.deferred = deferred
        self.patient = patient
        self.delegation = delegation
        self.idCheckRequired = idCheckRequired
        self.treatmentNumber = treatmentNumber
    }

    /// 20 ASCII letters or digits.
    package static func isTreatmentNumber(_ text: String) -> Bool {
        text.utf8.count == 20
            && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }
    }

    /// The card data. The station reads the details it only shows (sex, card issue date, insurance
    /// status) as optional: a value it does not know, or none, must not lose a visit the cloud has
    /// opened. The cloud always sends them. `photo` is `verified` only when it says so.
    package struct Patient: Sendable, Codable, Equatable {
        package var cardNumber: String?
        package var id: String
        package var name: String
        /// `YYYY-MM-DD`.
        package var birthDate: String
        package var sex: Sex?
        package var cardIssuedAt: String?
        package var insuranceStatus: InsuranceStatus?
        package var photo: PhotoStatus

        package init(
            cardNumber: String?, id: String, name: String, birthDate: String, sex: Sex?, cardIssuedAt: String?,
            insuranceStatus: InsuranceStatus?, photo: PhotoStatus
        ) {
            self.cardNumber = cardNumber
            self.id = id
            self.name = name
            self.birthDate = birthDate
            self.sex = sex
            self.cardIssuedAt = cardIssuedAt
            self.insuranceStatus = insuranceStatus
            self.photo = photo
        }

        enum CodingKeys: String, CodingKey {
            case cardNumber, id, name, birthDate, sex, cardIssuedAt, insuranceStatus, photo
        }

        package init(from decoder: any Decoder) throws {
            let values = try decoder.container(keyedBy: CodingKeys.self)
            id = try values.decode(String.self, forKey: .id)
            name = try values.decode(String.self, forKey: .name)
            birthDate = try values.decode(String.self, forKey: .birthDate)
            cardNumber = Lenient.value(String.self, values, .cardNumber)
            sex = Lenient.value(Sex.self, values, .sex)
            cardIssuedAt = Lenient.value(String.self, values, .cardIssuedAt)
            insuranceStatus = Lenient.value(InsuranceStatus.self, values, .insuranceStatus)
            // Not a type to make optional: `PhotoStatus.none` and `nil` would read alike.
            photo = Lenient.value(PhotoStatus.self, values, .photo) ?? PhotoStatus.none
        }

        package func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(cardNumber, forKey: .cardNumber)  // null when absent
            try container.encode(id, forKey: .id)
            try container.encode(name, forKey: .name)
            try container.encode(birthDate, forKey: .birthDate)
            try container.encode(sex, forKey: .sex)
            try container.encode(cardIssuedAt, forKey: .cardIssuedAt)
            try container.encode(insuranceStatus, forKey: .insuranceStatus)
            try container.encode(photo, forKey: .photo)
        }
    }

    package struct Delegation: Sendable, Codable, Equatable {
        package var delegateId: String
        /// Lower-case hex.
        package var delegationId: String
        package init(delegateId: String, delegationId: String) {
            self.delegateId = delegateId
            self.delegationId = delegationId
        }
    }

    enum CodingKeys: String, CodingKey {
        case grant, visitSequence, openedAt, expiresAt, deferred, patient, delegation, idCheckRequired, treatmentNumber
    }

    /// What the station needs is required (the grant, its sequence and times, the patient); `deferred`
    /// and `idCheckRequired` read as false and `delegation` as none when absent or not of their type,
    /// so a cloud's variation there does not keep an opened visit from being recorded.
    package init(from decoder: any Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        grant = try values.decode(String.self, forKey: .grant)
        visitSequence = try values.decode(String.self, forKey: .visitSequence)
        openedAt = try values.decode(String.self, forKey: .openedAt)
        expiresAt = try values.decode(String.self, forKey: .expiresAt)
        patient = try values.decode(Patient.self, forKey: .patient)
        deferred = Lenient.value(Bool.self, values, .deferred) ?? false
        delegation = Lenient.value(Delegation.self, values, .delegation)
        idCheckRequired = Lenient.value(Bool.self, values, .idCheckRequired) ?? false
        treatmentNumber = Lenient.value(String.self, values, .treatmentNumber).flatMap { Self.isTreatmentNumber($0) ? $0 : nil }
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(grant, forKey: .grant)
        try container.encode(visitSequence, forKey: .visitSequence)
        try container.encode(openedAt, forKey: .openedAt)
        try container.encode(expiresAt, forKey: .expiresAt)
        try container.encode(deferred, forKey: .deferred)
        try container.encode(patient, forKey: .patient)
        try container.encode(delegation, forKey: .delegation)  // null when absent
        try container.encode(idCheckRequired, forKey: .idCheckRequired)
        try container.encodeIfPresent(treatmentNumber, forKey: .treatmentNumber)  // absent when none: an extension
    }
}

/// Optional members read from the network: absent, null or not of their type all read as nil.
enum Lenient {
    static func value<T: Decodable, Key: CodingKey>(
        _ type: T.Type, _ container: KeyedDecodingContainer<Key>, _ key: Key
    ) -> T? {
        (try? container.decodeIfPresent(type, forKey: key)) ?? nil
    }
}

package enum Sex: String, Sendable, Codable, CaseIterable { case male = "M", female = "F" }
package enum InsuranceStatus: String, Sendable, Codable, CaseIterable { case active, suspended }
package enum PhotoStatus: String, Sendable, Codable, CaseIterable { case verified, none }

/// `POST /v1/consumed` (§7): token ids a station consumed while offline, with when.
package struct ConsumedUpload: Sendable, Codable, Equatable {
    /// 32 lower- or upper-case hex digits each.
    package var tokenIds: [String]
    /// Epoch seconds, one per token id.
    package var consumedAt: [Int64]
    package init(tokenIds: [String], consumedAt: [Int64]) {
        self.tokenIds = tokenIds
        self.consumedAt = consumedAt
    }
    /// The most ids one upload may carry.
    package static let maximumCount = 1000
}

/// The answer to a consumed-id upload: the ids already consumed elsewhere; the rest are now recorded.
package struct ConsumedAnswer: Sendable, Codable, Equatable {
    package var doubleUse: [DoubleUse]
    package init(doubleUse: [DoubleUse]) { self.doubleUse = doubleUse }

    package struct DoubleUse: Sendable, Codable, Equatable {
        package var tokenId: String
        /// The institution that consumed it first.
        package var firstInstitution: String
        /// Epoch seconds of the first consumption.
        package var firstAt: Int64
        package init(tokenId: String, firstInstitution: String, firstAt: Int64) {
            self.tokenId = tokenId
            self.firstInstitution = firstInstitution
            self.firstAt = firstAt
        }
    }
}

/// `POST /v1/audit-heads`: a station's audit chain head, so its log can later be proven not cut.
package struct AuditHeadUpload: Sendable, Codable, Equatable {
    /// The station's own name for itself (host name or configured id), 1 to 64 characters.
    package var station: String
    /// The last row's sequence number, which is also the row count.
    package var sequence: Int64
    /// The last row's hash, 64 hex digits.
    package var hash: String
    package init(station: String, sequence: Int64, hash: String) {
        self.station = station
        self.sequence = sequence
        self.hash = hash
    }
}

/// The heads the cloud holds for one station, newest first (`GET /v1/audit-heads`).
package struct AuditHeadList: Sendable, Codable, Equatable {
    package var heads: [Head]
    package init(heads: [Head]) { self.heads = heads }
    package struct Head: Sendable, Codable, Equatable {
        package var station: String
        package var sequence: Int64
        package var hash: String
        /// Epoch seconds when the cloud received it.
        package var receivedAt: Int64
        package init(station: String, sequence: Int64, hash: String, receivedAt: Int64) {
            self.station = station
            self.sequence = sequence
            self.hash = hash
            self.receivedAt = receivedAt
        }
    }
}

/// `GET /v1/visits/{grant}`: a grant's binding and life, for a station that checks it is still usable.
package struct GrantStatus: Sendable, Codable, Equatable {
    package var grant: String
    package var institution: String
    package var setting: CareSetting
    package var openedAt: String
    package var expiresAt: String
    package init(grant: String, institution: String, setting: CareSetting, openedAt: String, expiresAt: String) {
        self.grant = grant
        self.institution = institution
        self.setting = setting
        self.openedAt = openedAt
        self.expiresAt = expiresAt
    }
}

/// `GET /v1/health`: whether the cloud serves lists, and their sequence numbers.
package struct CloudHealth: Sendable, Codable, Equatable {
    package var status: String
    package var trustListSequence: Int64?
    package var revocationListSequence: Int64?
    /// The server's connections by state and what it did to keep them in bounds; absent when the
    /// routes run without a server (tests).
    package var connections: Connections?

    package struct Connections: Sendable, Codable, Equatable {
        /// Still in the TLS handshake, or their certificate being checked.
        package var handshaking: Int
        /// Handshake done without a valid institution certificate.
        package var anonymous: Int
        /// Handshake done with a valid institution certificate.
        package var authenticated: Int
        package var limit: Int
        /// Of `limit`, the slots only authenticated connections may use.
        package var reservedForAuthenticated: Int
        /// Since the start: unauthenticated connections closed for a newer one, connections refused
        /// (every slot authenticated, or a certificate over its limit), handshakes that took too long,
        /// requests whose head or body came too slowly.
        package var evicted: Int
        package var refused: Int
        package var handshakesTimedOut: Int
        package var requestsTooSlow: Int
        package init(
            handshaking: Int, anonymous: Int, authenticated: Int, limit: Int, reservedForAuthenticated: Int,
            evicted: Int, refused: Int, handshakesTimedOut: Int, requestsTooSlow: Int
        ) {
            self.handshaking = handshaking
            self.anonymous = anonymous
            self.authenticated = authenticated
            self.limit = limit
            self.reservedForAuthenticated = reservedForAuthenticated
            self.evicted = evicted
            self.refused = refused
            self.handshakesTimedOut = handshakesTimedOut
            self.requestsTooSlow = requestsTooSlow
        }
    }

    package init(
        status: String, trustListSequence: Int64?, revocationListSequence: Int64?, connections: Connections? = nil
    ) {
        self.status = status
        self.trustListSequence = trustListSequence
        self.revocationListSequence = revocationListSequence
        self.connections = connections
    }
}
