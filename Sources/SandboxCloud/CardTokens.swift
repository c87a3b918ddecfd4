import CloudProtocol
import VirtualCard

/// Issues the tokens a patient's app shows, and the one a remote consent hands over: the token
/// profile's claims for a sandbox patient, signed with the sandbox's token key, 5-minute life and a
/// fresh `cti` each time.
package struct CardTokens: Sendable {
    let issuer: TokenIssuer
    package static let lifetime: Int64 = 300

    package init(issuer: TokenIssuer) { self.issuer = issuer }

    /// A token for `patient`'s card, carrying `delegation` when a delegate shows it.
    package func issue(
        for patient: SandboxManifest.Patient, delegation: StoredDelegation?, now: Int64
    ) throws
        -> AppToken
    {
        guard let birthDate = CalendarDate(iso: patient.birthDate) else {
            throw CloudProblem(.internalError, "the sandbox's record of this patient is damaged")
        }
        let tokenID = TokenIssuer.newTokenID()
        let claims = TokenClaims(
            issuer: issuer.issuer, issuedAt: now, expiresAt: now + Self.lifetime, tokenID: tokenID,
            holder: .init(
                id: patient.id, name: patient.name, birthDate: birthDate,
                photo: patient.photo == .none ? .none : .verified),
            delegation: delegation.map {
                .init(delegateID: $0.delegateID, delegationID: $0.id, validFrom: $0.validFrom, validTo: $0.validTo)
            },
            cardNumber: patient.cardNumber)
        return AppToken(
            token: try issuer.issue(claims), tokenId: Hex.encode(tokenID), issuedAt: now,
            expiresAt: now + Self.lifetime, delegationId: delegation.map { Hex.encode($0.id) })
    }
}
