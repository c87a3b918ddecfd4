/// The verifier's result codes: exactly the closed set of the VHC1 profile (token-profile.md §9).
///
/// The raw values are the wire strings that `vhc verify`, the station's API and the tests compare.
/// The order of the cases is the order in which the profile checks a token (§6); list codes follow.
public enum VerificationCode: String, Sendable, CaseIterable, Codable {
    case valid
    case prefixMissing = "prefix_missing"
    case prefixUnsupported = "prefix_unsupported"
    case base45Invalid = "base45_invalid"
    case cborInvalid = "cbor_invalid"
    case coseInvalid = "cose_invalid"
    case algorithmUnsupported = "algorithm_unsupported"
    case kidInvalid = "kid_invalid"
    case keyUnknown = "key_unknown"
    case signatureInvalid = "signature_invalid"
    case claimsInvalid = "claims_invalid"
    case notYetValid = "not_yet_valid"
    case expired
    case delegationNotYetValid = "delegation_not_yet_valid"
    case delegationExpired = "delegation_expired"
    case delegationRevoked = "delegation_revoked"
    case revocationListUnavailable = "revocation_list_unavailable"
    case replayed
    case trustListInvalid = "trust_list_invalid"
    case trustListExpired = "trust_list_expired"
    case trustListRollback = "trust_list_rollback"
    case revocationListInvalid = "revocation_list_invalid"

    /// A short reason in plain English, for people (front desk, logs). Not compared by anything.
    public var reason: String {
        switch self {
        case .valid: "The card is valid."
        case .prefixMissing: "This is not a virtual NHI card code."
        case .prefixUnsupported: "This card code uses a newer format than this station supports."
        case .base45Invalid: "The code text is damaged (not valid Base45)."
        case .cborInvalid: "The card data is malformed."
        case .coseInvalid: "The card's signature envelope is malformed."
        case .algorithmUnsupported: "The card is signed with an unsupported algorithm."
        case .kidInvalid: "The card does not name its signing key correctly."
        case .keyUnknown: "The card was signed by a key this station does not trust (or no longer trusts)."
        case .signatureInvalid: "The card's signature does not verify: it may be forged or altered."
        case .claimsInvalid: "The card's contents break the profile's rules."
        case .notYetValid: "The card code is not valid yet: check the station's clock."
        case .expired: "The card code has expired: ask the patient to refresh the code in the app."
        case .delegationNotYetValid: "The delegation has not started yet."
        case .delegationExpired: "The delegation has ended."
        case .delegationRevoked: "The patient has cancelled this delegation."
        case .revocationListUnavailable: "No current delegation revocation list: delegated cards cannot be checked."
        case .replayed: "This card code was already used: ask for a fresh code."
        case .trustListInvalid: "The station's trust list is invalid."
        case .trustListExpired: "The station's trust list has expired: update it."
        case .trustListRollback: "The trust list is older than the one the station already holds."
        case .revocationListInvalid: "The station's delegation revocation list is invalid."
        }
    }
}
