import CloudProtocol
import Crypto
import Synchronization

/// Certificates already validated, by the SHA-256 of their DER: a station keeps its connection and
/// sends the same institution certificate with every request, and its practitioners sign with the
/// same certificates all day. An entry lasts a minute and never past the certificate's expiry; the
/// cache is bounded.
final class CertificateCache<Identity: CertifiedIdentity>: Sendable {
    private struct Entry {
        var identity: Identity
        var until: Int64
    }
    private let entries = Mutex<[SHA256Digest: Entry]>([:])
    let lifetime: Int64 = 60
    let capacity = 4096

    func lookup(_ der: [UInt8], now: Int64) -> Identity? {
        let key = SHA256.hash(data: der)
        return entries.withLock { entries in
            guard let entry = entries[key], entry.until >= now else { return nil }
            return entry.identity
        }
    }

    func store(_ der: [UInt8], _ identity: Identity, now: Int64) {
        let key = SHA256.hash(data: der)
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = Entry(identity: identity, until: min(now + lifetime, identity.validUntil))
        }
    }

    /// The cached identity, or the one `validate` reads (and then caches).
    func identity(
        _ der: [UInt8], now: Int64, validate: () async throws(CertificateAuthority.Refusal) -> Identity
    ) async throws(CertificateAuthority.Refusal) -> Identity {
        if let cached = lookup(der, now: now) { return cached }
        let identity = try await validate()
        store(der, identity, now: now)
        return identity
    }
}
