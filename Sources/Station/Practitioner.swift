import CloudProtocol
import Crypto
import Foundation
import StationModels
import SwiftASN1
import Synchronization
import VirtualCard

/// The practitioner card's equivalent (cloud-protocol.md §1): a signing certificate from the cloud's CA
/// and its key, in memory (a key file) or on a card (PKCS#11) that signs each opening itself. The daemon
/// holds it for a shift.
package struct PractitionerCredential: Sendable {
    package let identity: PractitionerIdentity
    /// The certificate, DER, as the opening's `x5chain` carries it.
    package let certificate: [UInt8]
    let signer: any ES256Signer
    /// The card, when the key is on one: asked whether it is still there before each signature.
    let card: (any PractitionerCard)?
    package let since: Int64
    package let until: Int64

    package struct Invalid: Error, CustomStringConvertible {
        package let description: String
    }

    /// Checks the certificate against the cloud's CA at `now` (validity, issuer, `digitalSignature`, an
    /// ID number and a profession in the subject) and that `keyPEM` is its key. The shift ends at
    /// `until`, or earlier when the certificate does.
    package init(
        certificatePEM: String, keyPEM: String, authority: CertificateAuthority, now: Int64, until: Int64
    ) async throws(Invalid) {
        let key: P256.Signing.PrivateKey
        do { key = try P256.Signing.PrivateKey(pemRepresentation: keyPEM) } catch {
            throw Invalid(description: "the key is not an unencrypted PEM P-256 private key")
        }
        try await self.init(
            certificate: try Self.der(certificatePEM), signer: key, card: nil, authority: authority, now: now,
            until: until)
    }

    /// The same with the key on `card`: the certificate is `certificatePEM`, or the card's own.
    package init(
        card: any PractitionerCard, certificatePEM: String?, authority: CertificateAuthority, now: Int64, until: Int64
    ) async throws(Invalid) {
        let der: [UInt8]
        if let certificatePEM {
            der = try Self.der(certificatePEM)
        } else if let own = card.certificate {
            der = own
        } else {
            throw Invalid(description: "the card holds no certificate beside the key: give it with --certificate")
        }
        try await self.init(certificate: der, signer: card.signer, card: card, authority: authority, now: now, until: until)
    }

    private init(
        certificate der: [UInt8], signer: any ES256Signer, card: (any PractitionerCard)?,
        authority: CertificateAuthority, now: Int64, until: Int64
    ) async throws(Invalid) {
        do { identity = try await authority.practitioner(der: der, at: now) } catch {
            throw Invalid(description: "not a practitioner certificate of the cloud's CA: \(error)")
        }
        guard signer.publicKey.rawRepresentation == identity.publicKey.rawRepresentation else {
            throw Invalid(description: "the key does not belong to the certificate")
        }
        self.certificate = der
        self.signer = signer
        self.card = card
        since = now
        self.until = min(until, identity.validUntil)
    }

    private static func der(_ pem: String) throws(Invalid) -> [UInt8] {
        do { return try PEMDocument(pemString: pem).derBytes } catch {
            throw Invalid(description: "the certificate is not PEM")
        }
    }

    /// Signs `opening` as this practitioner: a tagged COSE_Sign1 with the certificate in its header.
    /// Throws `SigningFailed` when the key could not sign (a card pulled out).
    package func sign(_ opening: VisitOpening) throws(SigningFailed) -> [UInt8] {
        do { return try opening.signed(by: signer, certificate: certificate) } catch {
            throw SigningFailed(description: "\(error)")
        }
    }

    package struct SigningFailed: Error, CustomStringConvertible {
        package let description: String
    }

    /// Whether its signatures are made on a card (slow enough to be made outside a transaction).
    package var signsOnCard: Bool { card != nil }

    /// An opening signed ahead of the scan's transaction (`StationPolicy`), and by whom.
    package struct Presigned: Sendable {
        let opening: VisitOpening
        let body: [UInt8]
        let certificate: [UInt8]
        let since: Int64

        /// Whether it is still good for this scan: the same login's, over the same token and forwarding.
        func matches(_ signer: PractitionerCredential, token: String, forwarding: Outbox.Forwarding) -> Bool {
            signer.certificate == certificate && signer.since == since && opening.token == token
                && opening.institution == forwarding.institution && opening.setting == forwarding.setting
        }
    }

    /// The opening of a scan of `token` at `now`, signed now; nil when the key cannot sign (the scan
    /// then goes the usual way, inside its transaction).
    func presign(token: String, forwarding: Outbox.Forwarding, at now: Int64) -> Presigned? {
        let opening = VisitOpening(
            token: token, institution: forwarding.institution, setting: forwarding.setting, signedAt: now,
            scannedAt: now)
        guard let body = try? sign(opening) else { return nil }
        return Presigned(opening: opening, body: body, certificate: certificate, since: since)
    }

    /// Whether it can sign now: always with a key file; with a card, while the card is there.
    package var canSign: Bool { card?.isPresent() ?? true }

    /// As shared screens and logs show the practitioner, and which kind of credential signs (never more).
    package var status: PractitionerStatus {
        PractitionerStatus(
            id: TaiwanID.masked(identity.id), name: PersonName.masked(identity.name),
            profession: identity.profession.rawValue, since: since, until: until,
            credential: card == nil ? "file" : "pkcs11")
    }
}

/// Who is logged in now: one practitioner at a time, taking turns. In memory only; a restart logs out.
package final class PractitionerDesk: Sendable {
    private let state = Mutex<(current: PractitionerCredential?, refusal: PractitionerRefusal?)>((nil, nil))
    private let cardRefusalState = Mutex<CardRefusal?>(nil)

    package init() {}

    /// The logged-in practitioner at `now`; nil when nobody is, the shift is over, or their card is gone
    /// (the maintenance tick then ends the shift, recorded).
    package func credential(at now: Int64) -> PractitionerCredential? {
        guard let held = state.withLock({ $0.current }), held.until > now, held.canSign else { return nil }
        return held
    }

    /// The last practitioner the cloud refused, until the next login.
    package var refusal: PractitionerRefusal? { state.withLock { $0.refusal } }

    /// The last card that refused its PIN, until a login succeeds.
    package var cardRefusal: CardRefusal? {
        get { cardRefusalState.withLock { $0 } }
        set { cardRefusalState.withLock { $0 = newValue } }
    }

    /// Takes the desk; returns who held it before (a turn ends when the next one logs in).
    @discardableResult
    package func login(_ credential: PractitionerCredential) -> PractitionerCredential? {
        let previous = state.withLock { state in
            defer { state = (credential, nil) }
            return state.current
        }
        cardRefusal = nil
        previous?.card?.close()
        return previous
    }

    /// Clears the desk; returns who was logged in.
    @discardableResult
    package func logout() -> PractitionerCredential? {
        let held = state.withLock { state in
            defer { state.current = nil }
            return state.current
        }
        held?.card?.close()
        return held
    }

    /// The cloud refused an opening signed with `certificate`: when that is who holds the desk, their
    /// login ends (every later opening would be refused alike) and the refusal is kept for the status.
    /// Returns the credential that ended.
    package func refuse(certificate: [UInt8], code: String, at now: Int64) -> PractitionerCredential? {
        state.withLock { state in
            guard let held = state.current, held.certificate == certificate else { return nil }
            state = (nil, PractitionerRefusal(practitioner: held.status, code: code, at: now))
            return held
        }
    }

    /// A login the cloud refused: kept for the status like a refusal of a signed opening; whoever holds
    /// the desk keeps it.
    package func noteRefusal(_ refusal: PractitionerRefusal) {
        state.withLock { $0.refusal = refusal }
    }

    /// Clears a shift that ended before `now`, or whose card was pulled out; returns it with why
    /// (`shift_ended`, `card_removed`), so it can be audited once.
    package func endShiftIfDue(now: Int64) -> (ended: PractitionerCredential, reason: String)? {
        guard let held = state.withLock({ $0.current }) else { return nil }
        let reason: String
        if held.until <= now {
            reason = "shift_ended"
        } else if !held.canSign {
            reason = "card_removed"
        } else {
            return nil
        }
        // Only if the same login still holds the desk (another may have taken it meanwhile).
        let cleared = state.withLock { state -> Bool in
            guard let current = state.current, current.since == held.since, current.certificate == held.certificate
            else { return false }
            state.current = nil
            return true
        }
        guard cleared else { return nil }
        held.card?.close()
        return (held, reason)
    }
}
