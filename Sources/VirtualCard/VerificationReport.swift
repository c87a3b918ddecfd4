/// The JSON object `vhc verify` prints (§9), also what the station's API will return for a scan.
/// Keys are the profile's; `reason` is an addition for people.
public struct VerificationReport: Codable, Hashable, Sendable {
    public var result: String
    public var code: String
    public var reason: String
    public var holder: Holder?
    public var idCheckRequired: Bool?
    public var delegation: Delegation??
    public var cardNumber: String??
    public var tokenId: String?
    public var issuedAt: String?
    public var expiresAt: String?

    public struct Holder: Codable, Hashable, Sendable {
        public var id: String
        public var name: String
        public var birthDate: String
        public var photo: String
    }

    public struct Delegation: Codable, Hashable, Sendable {
        public var delegateId: String
        public var delegationId: String
        public var validFrom: String
        public var validTo: String
    }

    public init(_ verification: Verification) {
        result = verification.isValid ? "valid" : "invalid"
        code = verification.code.rawValue
        reason = verification.code.reason
        guard let claims = verification.claims else { return }
        holder = Holder(
            id: claims.holder.id, name: claims.holder.name, birthDate: claims.holder.birthDate.iso,
            photo: claims.holder.photo == .verified ? "verified" : "none")
        idCheckRequired = claims.holder.photo == .none
        delegation = .some(
            claims.delegation.map {
                Delegation(
                    delegateId: $0.delegateID, delegationId: Hex.encode($0.delegationID), validFrom: $0.validFrom.iso,
                    validTo: $0.validTo.iso)
            })
        cardNumber = .some(claims.cardNumber)
        tokenId = Hex.encode(claims.tokenID)
        issuedAt = UTCTimestamp.iso8601(claims.issuedAt)
        expiresAt = UTCTimestamp.iso8601(claims.expiresAt)
    }

    enum CodingKeys: String, CodingKey {
        case result, code, reason, holder, idCheckRequired, delegation, cardNumber, tokenId, issuedAt, expiresAt
    }

    // Valid reports carry `delegation` and `cardNumber` as explicit nulls; invalid ones omit them.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(result, forKey: .result)
        try c.encode(code, forKey: .code)
        try c.encode(reason, forKey: .reason)
        try c.encodeIfPresent(holder, forKey: .holder)
        try c.encodeIfPresent(idCheckRequired, forKey: .idCheckRequired)
        if let delegation { try c.encode(delegation, forKey: .delegation) }
        if let cardNumber { try c.encode(cardNumber, forKey: .cardNumber) }
        try c.encodeIfPresent(tokenId, forKey: .tokenId)
        try c.encodeIfPresent(issuedAt, forKey: .issuedAt)
        try c.encodeIfPresent(expiresAt, forKey: .expiresAt)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        result = try c.decode(String.self, forKey: .result)
        code = try c.decode(String.self, forKey: .code)
        reason = try c.decodeIfPresent(String.self, forKey: .reason) ?? ""
        holder = try c.decodeIfPresent(Holder.self, forKey: .holder)
        idCheckRequired = try c.decodeIfPresent(Bool.self, forKey: .idCheckRequired)
        if c.contains(.delegation) { delegation = .some(try c.decodeIfPresent(Delegation.self, forKey: .delegation)) }
        if c.contains(.cardNumber) { cardNumber = .some(try c.decodeIfPresent(String.self, forKey: .cardNumber)) }
        tokenId = try c.decodeIfPresent(String.self, forKey: .tokenId)
        issuedAt = try c.decodeIfPresent(String.self, forKey: .issuedAt)
        expiresAt = try c.decodeIfPresent(String.self, forKey: .expiresAt)
    }
}
