import VirtualCard

/// A practitioner's card as the station's core sees it: a key that signs on the card, the certificate
/// the card keeps beside it, and whether the card is still there. Opened by the runtime (PKCS#11) at a
/// login and held by the desk for the shift.
package protocol PractitionerCard: Sendable {
    var signer: any ES256Signer { get }
    /// The certificate (DER) beside the key, when the card holds one.
    var certificate: [UInt8]? { get }
    /// Whether the card can still sign (its session alive).
    func isPresent() -> Bool
    /// The shift is over: log out of the card.
    func close()
}

/// What opens a practitioner's card for a login (the runtime's PKCS#11 reader).
package protocol PractitionerCardReader: Sendable {
    /// Opens the key `uri` names on the module at `module` (nil: the default), logging in with `pin`
    /// exactly once.
    func open(uri: String, module: String?, pin: [UInt8]) throws(CardError) -> any PractitionerCard
}

/// Why a card could not be opened, with a stable code for the API and `vhc`.
package struct CardError: Error, Equatable, CustomStringConvertible {
    /// `pin_incorrect`, `pin_locked`, `token_removed`, `module_not_allowed`, `module_unavailable`,
    /// `not_found`, `ambiguous`, `refused`, `uri_invalid`, `failed`.
    package let code: String
    package let detail: String
    /// What the token says of the PIN's tries left (`not_low`, `count_low`, `final_try`, `locked`), after
    /// a wrong PIN.
    package let pinTries: String?

    package init(code: String, detail: String, pinTries: String? = nil) {
        self.code = code
        self.detail = detail
        self.pinTries = pinTries
    }

    package var description: String { "\(code): \(detail)" + (pinTries.map { " (PIN tries: \($0))" } ?? "") }
}
