import AuditChain
import CloudProtocol
import Crypto
import Foundation
import VirtualCard

/// The cloud's state behind one small interface: one-time use across every station is a shared-database
/// problem, so a second backend (several cloud instances on one PostgreSQL) implements this and nothing
/// else changes. Every method that changes state does all of it in one transaction.
package protocol CloudStore: Sendable {
    /// §5 and §6 in one read: what the cloud answered to `requestID` before, if anything, and whether
    /// this practitioner has used `nonce` before.
    func precheck(
        _ requestID: [UInt8], payloadDigest: [UInt8], nonce: [UInt8], practitioner: String
    ) async throws
        -> (prior: PriorRequest, nonceUsed: Bool)
    /// §3 steps 6 and 8 again and the opening itself, atomically: the request id, the nonce, the
    /// token's one-time use, the day's visit sequence, the grant and the audit row.
    func commitOpening(_ opening: OpeningCommit) async throws -> OpeningOutcome
    /// Keeps a refusal at §3 step 7 or 8 as the request id's answer and marks the nonce seen, unless the
    /// request id is already known.
    func recordRefusal(_ refusal: RefusalRecord) async throws
    /// A grant as issued, or nil.
    func grant(_ grant: String) async throws -> StoredGrant?
    /// §7: records token ids consumed offline; answers those consumed before at another institution.
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
    /// Stores a patient's records (made at `init` or `patient add`).
    func storeRecords(_ records: [StoredRecord], patientID: String) async throws
    /// One page of a patient's records in a category, newest first, as stored JSON; and the total.
    func records(
        patientID: String, category: RecordCategory, offset: Int, limit: Int
    ) async throws
        -> (total: Int, payloads: [String])
    // MARK: The app side

    /// Keeps the SHA-256 of a patient's app secret (made at `init` or `patient add`).
    func registerAppCredential(secretHash: [UInt8], patientID: String) async throws
    /// The patient whose app secret hashes to `secretHash`, if any.
    func patient(appSecretHash: [UInt8]) async throws -> String?
    /// Stores a new delegation unless the holder already has `maximumActive` not cancelled and not
    /// past their end on `today`, or twice that counting cancelled ones not ended (each stays on the
    /// revocation list until it ends); returns whether it did. Audited.
    func createDelegation(
        _ delegation: StoredDelegation, maximumActive: Int, today: CalendarDate
    ) async throws
        -> Bool
    /// Delegations given by (`holder`) or to (`delegate`) a patient, newest first.
    func delegations(holder: String) async throws -> [StoredDelegation]
    func delegations(delegate: String) async throws -> [StoredDelegation]
    /// Cancels the holder's delegation `id`; returns it as it now is and whether this call cancelled
    /// it, or nil if the holder has no such delegation. Audited.
    func cancelDelegation(
        _ id: [UInt8], holder: String, now: Int64
    ) async throws
        -> (delegation: StoredDelegation, cancelledNow: Bool)?
    /// The revocation list's entries: cancelled delegations that have not ended before `today` (the
    /// caller passes a day far enough back for late openings).
    func revokedDelegations(today: CalendarDate) async throws -> [RevocationList.Entry]

    // MARK: Remote consent

    /// Stores a new pending consent request. Audited.
    func createConsent(_ consent: StoredConsent) async throws
    func consent(_ id: String) async throws -> StoredConsent?
    /// The patient's requests still pending at `now`, oldest first.
    func pendingConsents(patientID: String, now: Int64) async throws -> [StoredConsent]
    /// The patient's answer, once, before the request expires. Audited.
    func answerConsent(
        _ id: String, patientID: String, approve: Bool, now: Int64
    ) async throws
        -> ConsentAnswerOutcome
    /// Marks an approved request collected with the id of the token handed over; false when another
    /// poll collected it first. Audited.
    func collectConsent(_ id: String, tokenID: [UInt8], now: Int64) async throws -> Bool
    /// The asking institution withdraws its still-pending request `id`. Audited.
    func cancelConsent(_ id: String, institution: String, now: Int64) async throws -> ConsentCancelOutcome

    /// Appends an audit row of its own.
    func audit(at: Int64, kind: AuditKind, subject: String, detail: [String: String]) async throws
    /// Checks the audit chain.
    func verifyAudit() async throws -> (rows: Int, intact: Bool, firstBroken: String?)
}

/// What the cloud knows of a request id (§5).
package enum PriorRequest: Sendable, Equatable {
    case none
    /// The same payload: the first answer, sent again with 200.
    case same(VisitGrant)
    /// The same payload, refused the first time at step 7 or 8: the same refusal again.
    case refused(CloudProblem)
    /// Another payload under the same id.
    case otherPayload
}

/// A request refused after the idempotency and nonce checks (§3 steps 7 and 8).
package struct RefusalRecord: Sendable {
    package var requestID: [UInt8]
    package var payloadDigest: [UInt8]
    package var nonce: [UInt8]
    package var practitioner: String
    package var problem: CloudProblem
    package var now: Int64
}

/// Everything one successful visit opening writes.
package struct OpeningCommit: Sendable {
    package var requestID: [UInt8]
    package var payloadDigest: [UInt8]
    package var nonce: [UInt8]
    package var practitioner: String
    package var institution: String
    package var setting: CareSetting
    package var tokenID: [UInt8]
    package var patientID: String
    package var scannedAt: Int64
    package var expiresAt: Int64
    package var now: Int64
    /// The answer, given the visit sequence number the store allocated and a fresh grant.
    package var answer: @Sendable (_ visitSequence: Int, _ grant: String) -> VisitGrant
}

package enum OpeningOutcome: Sendable, Equatable {
    case opened(VisitGrant)
    /// A concurrent copy of the same request won the race: its answer.
    case repeated(VisitGrant)
    case otherPayload
    case nonceReused
    case tokenReplayed
}

/// A visit grant as the cloud keeps it: bound to the institution and the practitioner.
package struct StoredGrant: Sendable, Equatable {
    package var grant: String
    package var institution: String
    package var practitioner: String
    package var patientID: String
    package var setting: CareSetting
    package var openedAt: Int64
    package var expiresAt: Int64
}

package enum ListKind: String, Sendable, CaseIterable {
    case trust, revocation
}

/// A signed list as served: its COSE bytes, sequence, times and strong ETag.
package struct PublishedList: Sendable, Equatable {
    package var kind: ListKind
    package var sequence: Int64
    package var issuedAt: Int64
    package var expiresAt: Int64
    package var cose: [UInt8]
    /// A strong ETag: the quoted hex SHA-256 of the bytes.
    package var etag: String

    package init(kind: ListKind, sequence: Int64, issuedAt: Int64, expiresAt: Int64, cose: [UInt8]) {
        self.kind = kind
        self.sequence = sequence
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.cose = cose
        self.etag = "\"" + Hex.encode(SHA256.hash(data: cose)) + "\""
    }
}

/// A medical record as stored: its category, date (`YYYY-MM-DD`, for newest-first order) and JSON.
package struct StoredRecord: Sendable, Equatable {
    package var category: RecordCategory
    package var date: String
    package var json: String
    package init(category: RecordCategory, date: String, json: String) {
        self.category = category
        self.date = date
        self.json = json
    }
}

/// A delegation as the cloud keeps it.
package struct StoredDelegation: Sendable, Equatable {
    package var id: [UInt8]
    package var holderID: String
    package var delegateID: String
    package var validFrom: CalendarDate
    package var validTo: CalendarDate
    package var createdAt: Int64
    package var cancelledAt: Int64?

    /// Usable on `today`: not cancelled, and `today` within its dates.
    package func isUsable(on today: CalendarDate) -> Bool {
        cancelledAt == nil && validFrom <= today && today <= validTo
    }

    package func state(on today: CalendarDate) -> DelegationState {
        if cancelledAt != nil { return .cancelled }
        if today < validFrom { return .scheduled }
        return today > validTo ? .expired : .active
    }

    /// The wire shape, with its state on `today`.
    package func wire(on today: CalendarDate) -> Delegation {
        Delegation(
            id: Hex.encode(id), holderId: holderID, delegateId: delegateID, validFrom: validFrom.iso,
            validTo: validTo.iso, createdAt: createdAt, cancelledAt: cancelledAt, state: state(on: today))
    }
}

/// A consent request as the cloud keeps it: never the token handed over, only its id.
package struct StoredConsent: Sendable, Equatable {
    package enum State: String, Sendable { case pending, approved, collected, refused, cancelled }
    package var id: String
    package var institution: String
    package var patientID: String
    package var setting: CareSetting
    package var requestedAt: Int64
    package var expiresAt: Int64
    package var state: State
    package var answeredAt: Int64?
    package var tokenID: [UInt8]?

    /// The state as the protocol reports it at `now`: a request not answered, or an approval not
    /// collected, within the request's window has expired.
    package func reported(at now: Int64) -> ConsentState {
        switch state {
        case .pending: now > expiresAt ? .expired : .pending
        case .approved: now > (answeredAt ?? expiresAt) + (expiresAt - requestedAt) ? .expired : .approved
        case .collected: .collected
        case .refused: .refused
        case .cancelled: .cancelled
        }
    }
}

package enum ConsentAnswerOutcome: Sendable, Equatable {
    case answered(StoredConsent)
    case unknown
    case alreadyAnswered
    case expired
    /// The institution withdrew it first.
    case cancelled
}

/// What an institution's withdrawal of its consent request came to.
package enum ConsentCancelOutcome: Sendable, Equatable {
    /// Withdrawn now, or already withdrawn (the same answer again).
    case cancelled(StoredConsent)
    case unknown
    /// The patient answered first (approved, collected or refused).
    case answered
    case expired
}
