/// The CWT claims of a VHC1 token and its `vhc` map (§5), with the profile's rules.
/// The same type is parsed by the verifier and produced by the issuer, so both apply one rule set.
public struct TokenClaims: Hashable, Sendable {
    public var issuer: String
    public var issuedAt: Int64
    public var expiresAt: Int64
    /// `cti`: the one-time token id, 16 bytes.
    public var tokenID: [UInt8]
    public var holder: Holder
    public var delegation: Delegation?
    /// The 12-digit NHI card number, when the token carries it.
    public var cardNumber: String?

    public static let maximumLifetime: Int64 = 300
    public static let tokenIDLength = 16
    public static let maximumNameLength = 40

    public init(
        issuer: String, issuedAt: Int64, expiresAt: Int64, tokenID: [UInt8], holder: Holder,
        delegation: Delegation? = nil, cardNumber: String? = nil
    ) {
        self.issuer = issuer
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.tokenID = tokenID
        self.holder = holder
        self.delegation = delegation
        self.cardNumber = cardNumber
    }

    public enum Photo: Int64, Sendable, Hashable {
        /// The card has a verified photo.
        case verified = 0
        /// No photo yet (card under review): the clinic must check an ID document.
        case none = 1
    }

    public struct Holder: Hashable, Sendable {
        public var id: String
        public var name: String
        public var birthDate: CalendarDate
        public var photo: Photo
        public init(id: String, name: String, birthDate: CalendarDate, photo: Photo) {
            self.id = id
            self.name = name
            self.birthDate = birthDate
            self.photo = photo
        }
    }

    /// A family member or caregiver presenting the holder's card, for a date range.
    public struct Delegation: Hashable, Sendable {
        public var delegateID: String
        public var delegationID: [UInt8]
        public var validFrom: CalendarDate
        public var validTo: CalendarDate
        public init(delegateID: String, delegationID: [UInt8], validFrom: CalendarDate, validTo: CalendarDate) {
            self.delegateID = delegateID
            self.delegationID = delegationID
            self.validFrom = validFrom
            self.validTo = validTo
        }
    }

    /// A broken claims rule; every one is `claims_invalid`. The reason is for diagnostics only.
    public struct Violation: Error, Hashable, Sendable, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
    }

    enum Key {
        static let iss: CBOR = 1, exp: CBOR = 4, iat: CBOR = 6, cti: CBOR = 7, vhc: CBOR = -70000
        static let holderID: CBOR = 1, name: CBOR = 2, birth: CBOR = 3, photo: CBOR = 4
        static let delegation: CBOR = 5, cardNumber: CBOR = 6
        static let delegateID: CBOR = 1, delegationID: CBOR = 2, validFrom: CBOR = 3, validTo: CBOR = 4
    }
}

// MARK: - Parsing

extension TokenClaims {
    /// Reads claims from a verified payload, checking types, the closed key sets and every rule.
    public init(payload: CBOR, expectedIssuer: String) throws(Violation) {
        let claims = try Self.entries(of: payload, "payload", required: [Key.iss, Key.exp, Key.iat, Key.cti, Key.vhc])
        let vhc = try Self.entries(
            of: claims[Key.vhc]!, "vhc", required: [Key.holderID, Key.name, Key.birth, Key.photo],
            optional: [Key.delegation, Key.cardNumber])

        var delegation: Delegation? = nil
        if let value = vhc[Key.delegation] {
            let d = try Self.entries(
                of: value, "delegation", required: [Key.delegateID, Key.delegationID, Key.validFrom, Key.validTo])
            delegation = Delegation(
                delegateID: try Self.text(d[Key.delegateID]!, "delegate id"),
                delegationID: try Self.bytes(d[Key.delegationID]!, "delegation id"),
                validFrom: try Self.date(d[Key.validFrom]!, "valid-from"),
                validTo: try Self.date(d[Key.validTo]!, "valid-to"))
        }
        let photoValue = try Self.unsigned(vhc[Key.photo]!, "photo")
        guard let photo = Photo(rawValue: photoValue) else { throw Violation(reason: "photo is not 0 or 1") }
        self.init(
            issuer: try Self.text(claims[Key.iss]!, "iss"),
            issuedAt: try Self.unsigned(claims[Key.iat]!, "iat"),
            expiresAt: try Self.unsigned(claims[Key.exp]!, "exp"),
            tokenID: try Self.bytes(claims[Key.cti]!, "cti"),
            holder: Holder(
                id: try Self.text(vhc[Key.holderID]!, "holder id"),
                name: try Self.text(vhc[Key.name]!, "holder name"),
                birthDate: try Self.date(vhc[Key.birth]!, "birth date"),
                photo: photo),
            delegation: delegation,
            cardNumber: try vhc[Key.cardNumber].map { v throws(Violation) in try Self.text(v, "card number") })
        try validate(expectedIssuer: expectedIssuer)
    }

    /// The map's entries, after checking that it has every required key and no other.
    static func entries(
        of value: CBOR, _ name: String, required: Set<CBOR>, optional: Set<CBOR> = []
    ) throws(Violation) -> [CBOR: CBOR] {
        guard let map = value.map else { throw Violation(reason: "\(name) is not a map") }
        guard required.isSubset(of: map.keys) else { throw Violation(reason: "\(name) lacks a required key") }
        guard map.keys.allSatisfy({ required.contains($0) || optional.contains($0) }) else {
            throw Violation(reason: "\(name) has a key the profile does not list")
        }
        return map
    }

    static func text(_ value: CBOR, _ name: String) throws(Violation) -> String {
        guard let text = value.text else { throw Violation(reason: "\(name) is not text") }
        return text
    }

    static func bytes(_ value: CBOR, _ name: String) throws(Violation) -> [UInt8] {
        guard let bytes = value.bytes else { throw Violation(reason: "\(name) is not a byte string") }
        return bytes
    }

    static func unsigned(_ value: CBOR, _ name: String) throws(Violation) -> Int64 {
        guard let integer = value.integer, integer >= 0 else {
            throw Violation(reason: "\(name) is not an unsigned integer")
        }
        return integer
    }

    static func date(_ value: CBOR, _ name: String) throws(Violation) -> CalendarDate {
        guard let date = CalendarDate(yyyymmdd: try unsigned(value, name)) else {
            throw Violation(reason: "\(name) is not a real YYYYMMDD date")
        }
        return date
    }
}

// MARK: - Rules

extension TokenClaims {
    /// Every value rule of §5, for claims already of the right types.
    public func validate(expectedIssuer: String) throws(Violation) {
        guard issuer == expectedIssuer else { throw Violation(reason: "iss does not match the trust list's issuer") }
        guard expiresAt > issuedAt, expiresAt - issuedAt <= Self.maximumLifetime else {
            throw Violation(reason: "lifetime exp − iat is not within 1…300 seconds")
        }
        guard tokenID.count == Self.tokenIDLength else { throw Violation(reason: "cti is not 16 bytes") }
        guard TaiwanID.isValid(holder.id) else { throw Violation(reason: "holder id is not a valid Taiwan ID number") }
        let scalars = holder.name.unicodeScalars
        guard (1...Self.maximumNameLength).contains(scalars.count) else {
            throw Violation(reason: "holder name is not 1 to 40 Unicode scalars")
        }
        guard !scalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw Violation(reason: "holder name has a control character")
        }
        guard holder.birthDate.year >= 1900, holder.birthDate <= CalendarDate(taipeiDateAt: issuedAt) else {
            throw Violation(reason: "birth date is before 1900 or after the date of issue")
        }
        if let delegation {
            guard TaiwanID.isValid(delegation.delegateID) else {
                throw Violation(reason: "delegate id is not a valid Taiwan ID number")
            }
            guard delegation.delegateID != holder.id else { throw Violation(reason: "delegate is the holder") }
            guard (8...16).contains(delegation.delegationID.count) else {
                throw Violation(reason: "delegation id is not 8 to 16 bytes")
            }
            guard delegation.validFrom <= delegation.validTo else {
                throw Violation(reason: "delegation valid-from is after valid-to")
            }
        }
        if let cardNumber {
            guard cardNumber.utf8.count == 12, cardNumber.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
                throw Violation(reason: "card number is not 12 digits")
            }
        }
    }
}

// MARK: - Encoding

extension TokenClaims {
    public var cbor: CBOR {
        var vhc: [CBOR: CBOR] = [
            Key.holderID: .text(holder.id), Key.name: .text(holder.name),
            Key.birth: .integer(holder.birthDate.yyyymmdd), Key.photo: .integer(holder.photo.rawValue),
        ]
        if let delegation {
            vhc[Key.delegation] = .map([
                Key.delegateID: .text(delegation.delegateID), Key.delegationID: .bytes(delegation.delegationID),
                Key.validFrom: .integer(delegation.validFrom.yyyymmdd),
                Key.validTo: .integer(delegation.validTo.yyyymmdd),
            ])
        }
        if let cardNumber { vhc[Key.cardNumber] = .text(cardNumber) }
        return .map([
            Key.iss: .text(issuer), Key.exp: .integer(expiresAt), Key.iat: .integer(issuedAt),
            Key.cti: .bytes(tokenID), Key.vhc: .map(vhc),
        ])
    }
}
