import CloudProtocol
import Crypto
import Synchronization

/// Institution certificates already validated, by the SHA-256 of their DER: a station keeps its
/// connection and sends the same certificate with every request. An entry lasts a minute and never
/// past the certificate's expiry; the cache is bounded.
final class CertificateCache: Sendable {
    private struct Entry {
        var identity: InstitutionIdentity
        var until: Int64
    }
    private let entries = Mutex<[SHA256Digest: Entry]>([:])
    let lifetime: Int64 = 60
    let capacity = 4096

    func lookup(_ der: [UInt8], now: Int64) -> InstitutionIdentity? {
        let key = SHA256.hash(data: der)
        return entries.withLock { entries in
            guard let entry = entries[key], entry.until >= now else { return nil }
            return entry.identity
        }
    }

    func store(_ der: [UInt8], _ identity: InstitutionIdentity, now: Int64) {
        let key = SHA256.hash(data: der)
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = Entry(identity: identity, until: min(now + lifetime, identity.validUntil))
        }
    }
}
