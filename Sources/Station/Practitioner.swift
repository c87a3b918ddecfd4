import CloudProtocol
import Crypto
import Foundation
import StationModels
import SwiftASN1
import Synchronization
import VirtualCard

/// The practitioner card's equivalent (cloud-protocol.md §1): a signing certificate from the cloud's CA
/// and its key. The daemon keeps it in memory for a shift and signs each visit opening with it.
package struct PractitionerCredential: Sendable {
    package let identity: PractitionerIdentity
    /// The certificate, DER, as the opening's `x5chain` carries it.
    package let certificate: [UInt8]
    let key: P256.Signing.PrivateKey
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
        let der: [UInt8]
        do { der = try PEMDocument(pemString: certificatePEM).derBytes } catch {
            throw Invalid(description: "the certificate is not PEM")
        }
        do { identity = try await authority.practitioner(der: der, at: now) } catch {
            throw Invalid(description: "not a practitioner certificate of the cloud's CA: \(error)")
        }
        do { key = try P256.Signing.PrivateKey(pemRepresentation: keyPEM) } catch {
            throw Invalid(description: "the key is not an unencrypted PEM P-256 private key")
        }
        guard key.publicKey.rawRepresentation == identity.publicKey.rawRepresentation else {
            throw Invalid(description: "the key does not belong to the certificate")
        }
        self.certificate = der
        since = now
        self.until = min(until, identity.validUntil)
    }

    /// Signs `opening` as this practitioner: a tagged COSE_Sign1 with the certificate in its header.
    package func sign(_ opening: VisitOpening) throws -> [UInt8] {
        try opening.signed(by: key, certificate: certificate)
    }

    /// As shared screens and logs show the practitioner.
    package var status: PractitionerStatus {
        PractitionerStatus(
            id: TaiwanID.masked(identity.id), name: PersonName.masked(identity.name),
            profession: identity.profession.rawValue, since: since, until: until)
    }
}

/// Who is logged in now: one practitioner at a time, taking turns. In memory only; a restart logs out.
package final class PractitionerDesk: Sendable {
    private let state = Mutex<(current: PractitionerCredential?, refusal: PractitionerRefusal?)>((nil, nil))

    package init() {}

    /// The logged-in practitioner at `now`; nil when nobody is or the shift is over.
    package func credential(at now: Int64) -> PractitionerCredential? {
        state.withLock { state in state.current.flatMap { $0.until > now ? $0 : nil } }
    }

    /// The last practitioner the cloud refused, until the next login.
    package var refusal: PractitionerRefusal? { state.withLock { $0.refusal } }

    /// Takes the desk; returns who held it before (a turn ends when the next one logs in).
    @discardableResult
    package func login(_ credential: PractitionerCredential) -> PractitionerCredential? {
        state.withLock { state in
            defer { state = (credential, nil) }
            return state.current
        }
    }

    /// Clears the desk; returns who was logged in.
    @discardableResult
    package func logout() -> PractitionerCredential? {
        state.withLock { state in
            defer { state.current = nil }
            return state.current
        }
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

    /// Clears a shift that ended before `now`; returns it, so it can be audited once.
    package func endShiftIfDue(now: Int64) -> PractitionerCredential? {
        state.withLock { state in
            guard let ended = state.current, ended.until <= now else { return nil }
            state.current = nil
            return ended
        }
    }
}
