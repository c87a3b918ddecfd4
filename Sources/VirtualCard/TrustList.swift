import Crypto

/// What a trust-list key may sign (§7).
public enum KeyUsage: Int64, Sendable, Hashable, CaseIterable {
    case tokenSigning = 1
    case revocationListSigning = 2
}

/// A key published in the trust list.
public struct TrustedKey: Sendable {
    public let keyID: KeyID
    public let publicKey: P256.Signing.PublicKey
    public let usage: KeyUsage
    public let notBefore: Int64
    public let notAfter: Int64

    public func isValid(at now: Int64) -> Bool { notBefore <= now && now <= notAfter }
}

/// A list that does not load: `trust_list_invalid` or `revocation_list_invalid` by the list's kind.
public struct ListError: Error, Hashable, Sendable, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}

/// Limits and grace periods the profile sets for both signed lists.
public enum SignedList {
    public static let maximumSize = 65_536
    /// A list is still current this long past its `expires at`; a trust list may also be issued
    /// this far in the future.
    public static let gracePeriod: Int64 = 300

    /// Decodes a list's COSE_Sign1 and checks its algorithm and kid; any failure is a `ListError`.
    static func open(_ cose: [UInt8]) throws(ListError) -> (message: COSESign1, keyID: KeyID) {
        let message: COSESign1
        do { message = try COSESign1.decode(cose, maximumSize: maximumSize) } catch {
            throw ListError(reason: "not a COSE_Sign1 of the profile: \(error)")
        }
        guard message.isES256 else { throw ListError(reason: "not signed with ES256") }
        guard let keyID = message.keyID else { throw ListError(reason: "kid missing or not 8 bytes") }
        return (message, keyID)
    }

    static func entries(_ value: CBOR, _ name: String, keys: Set<CBOR>) throws(ListError) -> [CBOR: CBOR] {
        guard let map = value.map, Set(map.keys) == keys else {
            throw ListError(reason: "\(name) is not a map with exactly the keys \(keys.compactMap(\.integer).sorted())")
        }
        return map
    }

    static func unsigned(_ value: CBOR?, _ name: String) throws(ListError) -> Int64 {
        guard let integer = value?.integer, integer >= 0 else {
            throw ListError(reason: "\(name) is not an unsigned integer")
        }
        return integer
    }
}

/// The trust list (§7): the issuer's name and its keys, signed by the pinned root key.
public struct TrustList: Sendable {
    public let issuer: String
    public let sequence: Int64
    public let issuedAt: Int64
    public let expiresAt: Int64
    public let keys: [TrustedKey]

    /// Loads and authenticates a trust list. Time and the held sequence are judged by `problem(at:heldSequence:)`.
    public init(cose: [UInt8], root: P256.Signing.PublicKey) throws(ListError) {
        let (message, keyID) = try SignedList.open(cose)
        guard keyID == KeyID(publicKey: root) else { throw ListError(reason: "kid is not the root key's") }
        guard let signature = message.es256Signature, message.isSignatureValid(signature, for: root) else {
            throw ListError(reason: "signature does not verify with the root key")
        }
        let payload = try SignedList.entries(message.payload, "trust list", keys: [1, 2, 3, 4, 5])
        guard let issuer = payload[1]?.text else { throw ListError(reason: "issuer is not text") }
        guard let entries = payload[5]?.array else { throw ListError(reason: "keys are not an array") }
        var keys: [TrustedKey] = []
        for entry in entries {
            let fields = try SignedList.entries(entry, "key entry", keys: [1, 2, 3, 4, 5])
            guard let kidBytes = fields[1]?.bytes, let kid = KeyID(bytes: kidBytes) else {
                throw ListError(reason: "key entry kid is not 8 bytes")
            }
            guard let spki = fields[2]?.bytes,
                let publicKey = try? P256.Signing.PublicKey(derRepresentation: spki),
                Array(publicKey.derRepresentation) == spki
            else { throw ListError(reason: "key entry is not a P-256 SubjectPublicKeyInfo") }
            guard KeyID(subjectPublicKeyInfo: spki) == kid else {
                throw ListError(reason: "key entry kid is not the SHA-256 prefix of its key")
            }
            guard let usage = KeyUsage(rawValue: try SignedList.unsigned(fields[3], "key usage")) else {
                throw ListError(reason: "key usage is not 1 or 2")
            }
            keys.append(
                TrustedKey(
                    keyID: kid, publicKey: publicKey, usage: usage,
                    notBefore: try SignedList.unsigned(fields[4], "key nbf"),
                    notAfter: try SignedList.unsigned(fields[5], "key exp")))
        }
        self.issuer = issuer
        self.sequence = try SignedList.unsigned(payload[2], "sequence")
        self.issuedAt = try SignedList.unsigned(payload[3], "issued at")
        self.expiresAt = try SignedList.unsigned(payload[4], "expires at")
        self.keys = keys
    }

    /// The code every verification gets at `now` with this list, or `nil` when the list is usable.
    public func problem(at now: Int64, heldSequence: Int64?) -> VerificationCode? {
        if issuedAt > now.saturatingAdd(SignedList.gracePeriod) { return .trustListInvalid }
        if now > expiresAt.saturatingAdd(SignedList.gracePeriod) { return .trustListExpired }
        if let heldSequence, sequence < heldSequence { return .trustListRollback }
        return nil
    }

    /// Keys with this kid and usage whose validity window contains `now`.
    public func candidates(for keyID: KeyID, usage: KeyUsage, at now: Int64) -> [TrustedKey] {
        keys.filter { $0.keyID == keyID && $0.usage == usage && $0.isValid(at: now) }
    }

    /// Builds and signs a trust list with the root key.
    public static func build(
        issuer: String, sequence: Int64, issuedAt: Int64, expiresAt: Int64, keys: [Entry],
        root: P256.Signing.PrivateKey
    ) throws -> [UInt8] {
        let entries: [CBOR] = keys.map { key in
            let spki = Array(key.publicKey.derRepresentation)
            return .map([
                1: .bytes(KeyID(subjectPublicKeyInfo: spki).bytes), 2: .bytes(spki), 3: .integer(key.usage.rawValue),
                4: .integer(key.notBefore), 5: .integer(key.notAfter),
            ])
        }
        let payload = CBOR.map([
            1: .text(issuer), 2: .integer(sequence), 3: .integer(issuedAt), 4: .integer(expiresAt), 5: .array(entries),
        ])
        return try COSESign1.sign(payload: CBOREncoder.encode(payload), with: root)
    }

    /// A key to publish, as the builder takes it.
    public struct Entry: Sendable {
        public var publicKey: P256.Signing.PublicKey
        public var usage: KeyUsage
        public var notBefore: Int64
        public var notAfter: Int64
        public init(publicKey: P256.Signing.PublicKey, usage: KeyUsage, notBefore: Int64, notAfter: Int64) {
            self.publicKey = publicKey
            self.usage = usage
            self.notBefore = notBefore
            self.notAfter = notAfter
        }
    }
}

/// The delegation revocation list (§7), signed by a trust-list key of usage 2.
public struct RevocationList: Sendable {
    public let issuer: String
    public let sequence: Int64
    public let issuedAt: Int64
    public let expiresAt: Int64
    public let entries: [Entry]
    /// The trust-list keys (kid, usage 2) whose signature verifies; their validity windows are
    /// judged at verification time. More than one only when a key is listed more than once.
    public let signers: [TrustedKey]
    let revokedIDs: Set<[UInt8]>

    public struct Entry: Hashable, Sendable {
        public var delegationID: [UInt8]
        public var revokedAt: Int64
        /// The delegation's valid-to: the entry may be dropped after it.
        public var keepUntil: CalendarDate
        public init(delegationID: [UInt8], revokedAt: Int64, keepUntil: CalendarDate) {
            self.delegationID = delegationID
            self.revokedAt = revokedAt
            self.keepUntil = keepUntil
        }
    }

    public init(cose: [UInt8], trustList: TrustList) throws(ListError) {
        let (message, keyID) = try SignedList.open(cose)
        guard let signature = message.es256Signature else { throw ListError(reason: "signature is not 64 bytes") }
        let signers = trustList.keys.filter {
            $0.keyID == keyID && $0.usage == .revocationListSigning
                && message.isSignatureValid(signature, for: $0.publicKey)
        }
        guard !signers.isEmpty else { throw ListError(reason: "not signed by a revocation-list key of the trust list") }
        let payload = try SignedList.entries(message.payload, "revocation list", keys: [1, 2, 3, 4, 5])
        guard let issuer = payload[1]?.text, issuer == trustList.issuer else {
            throw ListError(reason: "issuer is not the trust list's issuer")
        }
        guard let items = payload[5]?.array else { throw ListError(reason: "entries are not an array") }
        var entries: [Entry] = []
        for item in items {
            let fields = try SignedList.entries(item, "revocation entry", keys: [1, 2, 3])
            guard let id = fields[1]?.bytes else { throw ListError(reason: "delegation id is not a byte string") }
            guard let keepUntil = CalendarDate(yyyymmdd: try SignedList.unsigned(fields[3], "keep until")) else {
                throw ListError(reason: "keep until is not a YYYYMMDD date")
            }
            entries.append(
                Entry(
                    delegationID: id, revokedAt: try SignedList.unsigned(fields[2], "revoked at"), keepUntil: keepUntil)
            )
        }
        self.issuer = issuer
        self.sequence = try SignedList.unsigned(payload[2], "sequence")
        self.issuedAt = try SignedList.unsigned(payload[3], "issued at")
        self.expiresAt = try SignedList.unsigned(payload[4], "expires at")
        self.entries = entries
        self.signers = signers
        self.revokedIDs = Set(entries.map(\.delegationID))
    }

    /// `revocation_list_invalid` when the signing key is outside its window or the list rolls back.
    public func problem(at now: Int64, heldSequence: Int64?) -> VerificationCode? {
        guard signers.contains(where: { $0.isValid(at: now) }) else { return .revocationListInvalid }
        if let heldSequence, sequence < heldSequence { return .revocationListInvalid }
        return nil
    }

    /// Current: not past `expires at` plus the grace period.
    public func isCurrent(at now: Int64) -> Bool { now <= expiresAt.saturatingAdd(SignedList.gracePeriod) }

    public func isRevoked(_ delegationID: [UInt8]) -> Bool { revokedIDs.contains(delegationID) }

    public static func build(
        issuer: String, sequence: Int64, issuedAt: Int64, expiresAt: Int64, entries: [Entry],
        signer: P256.Signing.PrivateKey
    ) throws -> [UInt8] {
        let items: [CBOR] = entries.map {
            .map([1: .bytes($0.delegationID), 2: .integer($0.revokedAt), 3: .integer($0.keepUntil.yyyymmdd)])
        }
        let payload = CBOR.map([
            1: .text(issuer), 2: .integer(sequence), 3: .integer(issuedAt), 4: .integer(expiresAt), 5: .array(items),
        ])
        return try COSESign1.sign(payload: CBOREncoder.encode(payload), with: signer)
    }
}

extension Int64 {
    /// Addition that stops at the bounds: times from untrusted lists and tokens may be huge.
    func saturatingAdd(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }
}
