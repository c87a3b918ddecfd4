import Crypto
import Foundation
import Logging
import Synchronization
import VirtualCard

/// Signs and publishes the trust list and the delegation revocation list (token-profile §7) with the
/// sandbox issuer's keys: at start, on a timer well before they expire, and whenever a delegation is
/// cancelled. Sequence numbers only rise (the store refuses a lower one). It also hands the visit
/// opener a verifier over the lists currently served.
package final class ListPublisher: Sendable {
    package struct Keys: Sendable {
        package var root: P256.Signing.PrivateKey
        package var token: P256.Signing.PrivateKey
        package var revocation: P256.Signing.PrivateKey
        package init(root: P256.Signing.PrivateKey, token: P256.Signing.PrivateKey, revocation: P256.Signing.PrivateKey)
        {
            self.root = root
            self.token = token
            self.revocation = revocation
        }
    }

    /// How long a published list is valid, and how long before its expiry it is replaced.
    package struct Schedule: Sendable {
        package var trustListLifetime: Int64 = 7 * 86_400
        package var revocationListLifetime: Int64 = 86_400
        /// A list with less than this fraction of its lifetime left is replaced.
        package var renewFraction: Double = 0.5
        package init() {}
    }

    let keys: Keys
    let issuer: String
    /// The window the token and revocation keys are published with in the trust list.
    let keyValidity: ClosedRange<Int64>
    let store: any CloudStore
    let schedule: Schedule
    let revocations: @Sendable () async throws -> [RevocationList.Entry]
    private let current = Mutex<(trust: PublishedList, revocation: PublishedList, verifier: TokenVerifier)?>(nil)

    package init(
        keys: Keys, issuer: String, keyValidity: ClosedRange<Int64>, store: any CloudStore,
        schedule: Schedule = .init(),
        revocations: @escaping @Sendable () async throws -> [RevocationList.Entry]
    ) {
        self.keys = keys
        self.issuer = issuer
        self.keyValidity = keyValidity
        self.store = store
        self.schedule = schedule
        self.revocations = revocations
    }

    /// The lists as served now. `refresh` must have run once.
    package func served() -> (trust: PublishedList, revocation: PublishedList)? {
        current.withLock { $0.map { ($0.trust, $0.revocation) } }
    }

    /// A verifier over the lists served now.
    func verifier() throws -> TokenVerifier {
        guard let verifier = current.withLock({ $0?.verifier }) else {
            throw CloudListsUnavailable()
        }
        return verifier
    }

    /// Loads what the store holds and publishes a new list of each kind that is missing, expiring
    /// (`force` for the revocation list: a delegation was just cancelled).
    package func refresh(now: Int64, forceRevocation: Bool = false) async throws {
        var trust = try await store.currentList(.trust)
        if trust == nil || isDue(trust!, lifetime: schedule.trustListLifetime, now: now) {
            let sequence = (trust?.sequence ?? 0) + 1
            let cose = try TrustList.build(
                issuer: issuer, sequence: sequence, issuedAt: now, expiresAt: now + schedule.trustListLifetime,
                keys: [
                    .init(
                        publicKey: keys.token.publicKey, usage: .tokenSigning, notBefore: keyValidity.lowerBound,
                        notAfter: keyValidity.upperBound),
                    .init(
                        publicKey: keys.revocation.publicKey, usage: .revocationListSigning,
                        notBefore: keyValidity.lowerBound, notAfter: keyValidity.upperBound),
                ], root: keys.root)
            let list = PublishedList(
                kind: .trust, sequence: sequence, issuedAt: now, expiresAt: now + schedule.trustListLifetime, cose: cose
            )
            _ = try await store.publish(list, now: now)
            trust = try await store.currentList(.trust)
        }
        var revocation = try await store.currentList(.revocation)
        if forceRevocation || revocation == nil
            || isDue(revocation!, lifetime: schedule.revocationListLifetime, now: now)
        {
            // A concurrent refresh may publish the same sequence first with entries read before a
            // cancellation committed; a forced refresh then tries again above it, so the list served
            // always includes the cancellation.
            for _ in 0..<5 {
                let sequence = (revocation?.sequence ?? 0) + 1
                let expiresAt = now + schedule.revocationListLifetime
                let entries = try await revocations()
                let cose = try RevocationList.build(
                    issuer: issuer, sequence: sequence, issuedAt: now, expiresAt: expiresAt, entries: entries,
                    signer: keys.revocation)
                let list = PublishedList(
                    kind: .revocation, sequence: sequence, issuedAt: now, expiresAt: expiresAt, cose: cose)
                let published = try await store.publish(list, now: now)
                revocation = try await store.currentList(.revocation)
                if published || !forceRevocation { break }
            }
        }
        guard let trust, let revocation else { throw CloudListsUnavailable() }
        let verifier = TokenVerifier(root: keys.root.publicKey, trustList: trust.cose, revocationList: revocation.cose)
        current.withLock { held in
            // A slower concurrent refresh must not put back older lists.
            if let held, held.trust.sequence > trust.sequence || held.revocation.sequence > revocation.sequence {
                return
            }
            held = (trust, revocation, verifier)
        }
    }

    func isDue(_ list: PublishedList, lifetime: Int64, now: Int64) -> Bool {
        Double(list.expiresAt - now) < Double(lifetime) * schedule.renewFraction
    }
}

/// The cloud holds no usable lists (it failed to sign or store them).
struct CloudListsUnavailable: Error, CustomStringConvertible {
    var description: String { "the cloud has no current trust or revocation list" }
}
