import CloudProtocol
import Crypto
import Foundation
import VirtualCard

/// The cloud's state behind one small interface: one-time use across every station is a shared-database
/// problem, so a second backend (several cloud instances on one PostgreSQL) implements this and nothing
/// else changes. Every method that changes state does all of it in one transaction.
public protocol CloudStore: Sendable {
    /// §5: what the cloud answered to `requestID` before, if anything.
    func priorRequest(_ requestID: [UInt8], payloadDigest: [UInt8]) async throws -> PriorRequest
    /// §6: whether this practitioner has used `nonce` before.
    func isNonceUsed(_ nonce: [UInt8], practitioner: String) async throws -> Bool
    /// §3 steps 6 and 8 again and the opening itself, atomically: the request id, the nonce, the
    /// token's one-time use, the day's visit sequence, the grant and the audit row.
    func commitOpening(_ opening: OpeningCommit) async throws -> OpeningOutcome
    /// A grant as issued, or nil.
    func grant(_ grant: String) async throws -> StoredGrant?
    /// §7: records token ids consumed offline; answers those consumed before (elsewhere or here).
    func recordConsumed(
        _ ids: [(tokenID: [UInt8], at: Int64)], institution: String, now: Int64
    ) async throws
        -> [ConsumedAnswer.DoubleUse]
    /// A station's audit head, kept so its log can later be proven not cut.
    func recordAuditHead(_ head: AuditHeadUpload, institution: String, now: Int64) async throws
    func auditHeads(station: String, institution: String) async throws -> [AuditHeadList.Head]
    /// The current signed list of a kind, if one was published.
    func currentList(_ kind: ListKind) async throws -> PublishedList?
    /// Publishes a list if its sequence is above the current one's; returns whether it did.
    func publish(_ list: PublishedList, now: Int64) async throws -> Bool
    /// Appends an audit row of its own.
    func audit(at: Int64, kind: String, subject: String, detail: [String: String]) async throws
    /// Checks the audit chain.
    func verifyAudit() async throws -> (rows: Int, intact: Bool, firstBroken: String?)
}

/// What the cloud knows of a request id (§5).
public enum PriorRequest: Sendable, Equatable {
    case none
    /// The same payload: the first answer, sent again with 200.
    case same(VisitGrant)
    /// Another payload under the same id.
    case otherPayload
}

/// Everything one successful visit opening writes.
public struct OpeningCommit: Sendable {
    public var requestID: [UInt8]
    public var payloadDigest: [UInt8]
    public var nonce: [UInt8]
    public var practitioner: String
    public var institution: String
    public var setting: CareSetting
    public var tokenID: [UInt8]
    public var patientID: String
    public var scannedAt: Int64
    public var expiresAt: Int64
    public var now: Int64
    /// The answer, given the visit sequence number the store allocated and a fresh grant.
    public var answer: @Sendable (_ visitSequence: Int, _ grant: String) -> VisitGrant
}

public enum OpeningOutcome: Sendable, Equatable {
    case opened(VisitGrant)
    /// A concurrent copy of the same request won the race: its answer.
    case repeated(VisitGrant)
    case otherPayload
    case nonceReused
    case tokenReplayed
}

/// A visit grant as the cloud keeps it: bound to the institution and the practitioner.
public struct StoredGrant: Sendable, Equatable {
    public var grant: String
    public var institution: String
    public var practitioner: String
    public var patientID: String
    public var setting: CareSetting
    public var openedAt: Int64
    public var expiresAt: Int64
}

public enum ListKind: String, Sendable, CaseIterable {
    case trust, revocation
}

/// A signed list as served: its COSE bytes, sequence, times and strong ETag.
public struct PublishedList: Sendable, Equatable {
    public var kind: ListKind
    public var sequence: Int64
    public var issuedAt: Int64
    public var expiresAt: Int64
    public var cose: [UInt8]
    /// A strong ETag: the quoted hex SHA-256 of the bytes.
    public var etag: String

    public init(kind: ListKind, sequence: Int64, issuedAt: Int64, expiresAt: Int64, cose: [UInt8]) {
        self.kind = kind
        self.sequence = sequence
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.cose = cose
        self.etag = "\"" + Hex.encode(SHA256.hash(data: cose)) + "\""
    }
}
