import Crypto

/// Where the station records consumed token ids (§6.4). The verifier calls it last, and only for a
/// token that passed every other check; implementations must make the check-and-record atomic.
/// Used only for the duration of one `verify` call, so it need not be `Sendable` (the station's runs
/// inside a database transaction).
public protocol ConsumedTokenStore {
    /// Records `tokenID` as consumed until `keepUntil` (epoch seconds). Returns `false` when it was
    /// already recorded. May purge entries whose `keepUntil` is before `now`.
    func consume(tokenID: [UInt8], keepUntil: Int64, now: Int64) throws -> Bool
}

/// The sequence numbers the station already holds: a list with a lower one is a rollback.
public struct HeldSequences: Hashable, Sendable {
    public var trustList: Int64?
    public var revocationList: Int64?
    public init(trustList: Int64? = nil, revocationList: Int64? = nil) {
        self.trustList = trustList
        self.revocationList = revocationList
    }
}

/// The outcome of one verification: a profile code, the token when valid, and a reason for people.
public struct Verification: Sendable {
    public let code: VerificationCode
    /// The verified claims; set only when `code == .valid`.
    public let claims: TokenClaims?
    /// What exactly failed, for diagnostics. Never contains the token text.
    public let detail: String

    public var isValid: Bool { code == .valid }

    static func failure(_ code: VerificationCode, _ detail: String? = nil) -> Verification {
        Verification(code: code, claims: nil, detail: detail ?? code.reason)
    }
}

/// The VHC1 verifier (§1–§7): pure, no I/O and no clock; `now` and the replay store are parameters.
public struct TokenVerifier: Sendable {
    public static let prefix = "VHC1:"
    public static let maximumTokenSize = 1024
    public static let defaultSkew: Int64 = 60
    public static let skewRange: ClosedRange<Int64> = 0...120

    // The two lists load separately, so each fault is reported in the profile's order: a trust
    // list that fails to load, then the trust list's time and sequence, then the revocation list.
    private let loadedTrustList: Result<TrustList, ListError>
    private let loadedRevocationList: Result<RevocationList?, ListError>

    public var trustList: TrustList? { try? loadedTrustList.get() }
    public var revocationList: RevocationList? { (try? loadedRevocationList.get()) ?? nil }

    public init(trustList: TrustList, revocationList: RevocationList?) {
        loadedTrustList = .success(trustList)
        loadedRevocationList = .success(revocationList)
    }

    /// Loads the lists as held. A list that does not load is the result of every verification
    /// (`trust_list_invalid`, `revocation_list_invalid`), as the profile says.
    public init(root: P256.Signing.PublicKey, trustList: [UInt8], revocationList: [UInt8]?) {
        loadedTrustList = Result { () throws(ListError) in try TrustList(cose: trustList, root: root) }
        switch (loadedTrustList, revocationList) {
        case (_, nil): loadedRevocationList = .success(nil)
        case (.failure(let error), _): loadedRevocationList = .failure(error)  // unreported: the trust list fails first
        case (.success(let trust), let bytes?):
            loadedRevocationList = Result { () throws(ListError) in try RevocationList(cose: bytes, trustList: trust) }
        }
    }

    /// The text with at most one trailing `\n` or `\r\n` removed, nothing else (§1): what the verifier
    /// reads, and what a visit opening carries (cloud-protocol §3, key 1).
    public static func withoutTrailingNewline(_ text: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var text = text
        if text.last == UInt8(ascii: "\n") {
            text = text.dropLast()
            if text.last == UInt8(ascii: "\r") { text = text.dropLast() }
        }
        return text
    }

    /// Verifies a token's text at `now` (epoch seconds) with `skew` seconds of clock tolerance.
    /// Throws only when the replay store fails; every verdict about the token is a `Verification`.
    public func verify(
        _ text: String, at now: Int64, skew: Int64 = defaultSkew, held: HeldSequences = HeldSequences(),
        consumedTokens: (any ConsumedTokenStore)? = nil, listsJudgedAt: Int64? = nil
    ) throws -> Verification {
        try verify(
            Array(text.utf8), at: now, skew: skew, held: held, consumedTokens: consumedTokens,
            listsJudgedAt: listsJudgedAt)
    }

    /// The same, for text as bytes exactly as scanned or read (it need not be UTF-8).
    ///
    /// `listsJudgedAt` is when the lists' own times are judged (issued at, expiry, signer windows,
    /// "current"), when that differs from the token's time `now`: the cloud checks a token read hours
    /// ago, offline, at the time it was read, against the lists it holds today (cloud protocol §3.7).
    public func verify(
        _ text: [UInt8], at now: Int64, skew: Int64 = defaultSkew, held: HeldSequences = HeldSequences(),
        consumedTokens: (any ConsumedTokenStore)? = nil, listsJudgedAt: Int64? = nil
    ) throws -> Verification {
        let listTime = listsJudgedAt ?? now
        let trustList: TrustList
        let revocationList: RevocationList?
        switch loadedTrustList {
        case .failure(let error): return .failure(.trustListInvalid, "trust list: \(error.reason)")
        case .success(let list): trustList = list
        }
        if let code = trustList.problem(at: listTime, heldSequence: held.trustList) { return .failure(code) }
        switch loadedRevocationList {
        case .failure(let error): return .failure(.revocationListInvalid, "revocation list: \(error.reason)")
        case .success(let list): revocationList = list
        }
        if let code = revocationList?.problem(at: listTime, heldSequence: held.revocationList) {
            return .failure(code)
        }
        let skew = min(max(skew, Self.skewRange.lowerBound), Self.skewRange.upperBound)

        // §1 Text form.
        let utf8 = Self.withoutTrailingNewline(text[...])
        // Compare bytes, not characters: the match is exact and case-sensitive.
        guard utf8.starts(with: Self.prefix.utf8) else {
            let head = Array(utf8.prefix(5))
            let isOtherVersion =
                head.count == 5 && head[0...2] == Array("VHC".utf8)[...] && head[4] == UInt8(ascii: ":")
                && ((0x32...0x39).contains(head[3]) || (0x41...0x5A).contains(head[3]))
            return .failure(isOtherVersion ? .prefixUnsupported : .prefixMissing)
        }
        let body = utf8.dropFirst(Self.prefix.utf8.count)

        // §2 Base45.
        guard !body.isEmpty, let cose = Base45.decode(body) else { return .failure(.base45Invalid) }

        // §3, §4 CBOR and COSE structure.
        let message: COSESign1
        do { message = try COSESign1.decode(cose, maximumSize: Self.maximumTokenSize) } catch {
            switch error {
            case .cbor(let cause): return .failure(.cborInvalid, "\(cause)")
            case .structure(let reason): return .failure(.coseInvalid, reason)
            }
        }
        guard message.isES256 else { return .failure(.algorithmUnsupported) }
        guard let keyID = message.keyID else { return .failure(.kidInvalid) }
        let candidates = trustList.candidates(for: keyID, usage: .tokenSigning, at: now)
        guard !candidates.isEmpty else { return .failure(.keyUnknown, "no current token-signing key \(keyID)") }
        guard let signature = message.es256Signature,
            candidates.contains(where: { message.isSignatureValid(signature, for: $0.publicKey) })
        else { return .failure(.signatureInvalid) }

        // §5 Claims, read only now that the signature verified.
        let claims: TokenClaims
        do { claims = try TokenClaims(payload: message.payload, expectedIssuer: trustList.issuer) } catch {
            return .failure(.claimsInvalid, error.reason)
        }

        // §6 Time and state.
        if claims.issuedAt > now.saturatingAdd(skew) { return .failure(.notYetValid) }
        if now > claims.expiresAt.saturatingAdd(skew) { return .failure(.expired) }
        if let delegation = claims.delegation {
            let today = CalendarDate(taipeiDateAt: now)
            if today < delegation.validFrom { return .failure(.delegationNotYetValid) }
            if today > delegation.validTo { return .failure(.delegationExpired) }
            guard let revocationList, revocationList.isCurrent(at: listTime) else {
                return .failure(.revocationListUnavailable)
            }
            if revocationList.isRevoked(delegation.delegationID) { return .failure(.delegationRevoked) }
        }
        if let consumedTokens {
            let keepUntil = claims.expiresAt.saturatingAdd(skew)
            guard try consumedTokens.consume(tokenID: claims.tokenID, keepUntil: keepUntil, now: now) else {
                return .failure(.replayed)
            }
        }
        return Verification(code: .valid, claims: claims, detail: VerificationCode.valid.reason)
    }
}
