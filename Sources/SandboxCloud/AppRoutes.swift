import AuditChain
import CloudProtocol
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import VirtualCard

/// The patient's app: tokens for a card, delegations, answers to remote consent. No client
/// certificate: the app proves who it is with `Authorization: Bearer` and the patient's app secret.
extension CloudRoutes {
    func registerApp(on router: Router<CloudRequestContext>) {
        router.post("/v1/app/tokens") { request, _ in try await appToken(request) }
        router.get("/v1/app/delegations") { request, _ in try await listDelegations(request) }
        router.post("/v1/app/delegations") { request, _ in try await createDelegation(request) }
        router.delete("/v1/app/delegations/{id}") { request, context in try await cancelDelegation(request, context) }
        router.get("/v1/app/consents") { request, _ in try await pendingConsents(request) }
        router.post("/v1/app/consents/{id}") { request, context in try await answerConsent(request, context) }
    }

    /// The patient whose app secret the request carries.
    func appPatient(_ request: Request) async throws -> SandboxManifest.Patient {
        guard let header = request.headers[.authorization], header.utf8.count <= 512,
            header.hasPrefix("Bearer "), let secret = AppSecret(text: String(header.dropFirst(7)))
        else {
            throw CloudProblem(.appCredentialInvalid, "send Authorization: Bearer and the patient's app secret")
        }
        guard let id = try await cloud.store.patient(appSecretHash: secret.hash),
            let patient = cloud.registry.patient(id)
        else {
            throw CloudProblem(.appCredentialInvalid, "the app secret is not known")
        }
        return patient
    }

    var today: CalendarDate { CalendarDate(taipeiDateAt: cloud.clock()) }

    /// A token for the caller's own card, or for a card delegated to the caller today.
    func appToken(_ request: Request) async throws -> Response {
        let caller = try await appPatient(request)
        let asked = try await decode(AppTokenRequest.self, request, limit: 1024)
        let now = cloud.clock()
        guard let card = asked.card, card != caller.id else {
            let token = try cloud.tokens.issue(for: caller, delegation: nil, now: now)
            try await auditToken(token, holder: caller.id, delegate: nil, now: now)
            return try json(token, status: .created)
        }
        guard TaiwanID.isValid(card) else { throw CloudProblem(.requestMalformed, "card must be a valid ID number") }
        let today = CalendarDate(taipeiDateAt: now)
        guard
            let delegation = try await cloud.store.delegations(delegate: caller.id).first(where: {
                $0.holderID == card && $0.isUsable(on: today)
            }), let holder = cloud.registry.patient(card)
        else {
            throw CloudProblem(.cardNotDelegated, "no delegation of this card to you is valid today")
        }
        let token = try cloud.tokens.issue(for: holder, delegation: delegation, now: now)
        try await auditToken(token, holder: holder.id, delegate: caller.id, now: now)
        return try json(token, status: .created)
    }

    func auditToken(_ token: AppToken, holder: String, delegate: String?, now: Int64) async throws {
        var detail = ["holder": TaiwanID.masked(holder), "tokenId": token.tokenId]
        if let delegate { detail["delegate"] = TaiwanID.masked(delegate) }
        try await cloud.store.audit(at: now, kind: .appTokenIssued, subject: token.tokenId, detail: detail)
    }

    func listDelegations(_ request: Request) async throws -> Response {
        let caller = try await appPatient(request)
        let today = self.today
        return try json(
            DelegationList(
                granted: try await cloud.store.delegations(holder: caller.id).map { $0.wire(on: today) },
                received: try await cloud.store.delegations(delegate: caller.id).map { $0.wire(on: today) }))
    }

    func createDelegation(_ request: Request) async throws -> Response {
        let caller = try await appPatient(request)
        let asked = try await decode(DelegationRequest.self, request, limit: 1024)
        let now = cloud.clock()
        let today = CalendarDate(taipeiDateAt: now)
        guard TaiwanID.isValid(asked.delegateId), asked.delegateId != caller.id else {
            throw CloudProblem(.delegationInvalid, "delegateId must be a valid ID number other than your own")
        }
        guard let from = CalendarDate(iso: asked.validFrom), let to = CalendarDate(iso: asked.validTo) else {
            throw CloudProblem(.delegationInvalid, "validFrom and validTo must be dates as YYYY-MM-DD")
        }
        let limit = CalendarDate(taipeiDateAt: today.taipeiMidnight + Int64(DelegationRequest.maximumDays) * 86_400)
        guard today <= from, from <= to, to <= limit else {
            throw CloudProblem(
                .delegationInvalid,
                "the dates must run forwards from today (\(today.iso)) and end by \(limit.iso)")
        }
        let delegation = StoredDelegation(
            id: VisitOpening.random(), holderID: caller.id, delegateID: asked.delegateId, validFrom: from,
            validTo: to, createdAt: now, cancelledAt: nil)
        guard
            try await cloud.store.createDelegation(
                delegation, maximumActive: DelegationRequest.maximumActive, today: today)
        else {
            throw CloudProblem(
                .delegationInvalid,
                "a card may have at most \(DelegationRequest.maximumActive) delegations open, and "
                    + "\(2 * DelegationRequest.maximumActive) counting cancelled ones that have not ended")
        }
        return try json(delegation.wire(on: today), status: .created)
    }

    /// Cancels a delegation the caller gave, and publishes a revocation list with it at once.
    func cancelDelegation(_ request: Request, _ context: CloudRequestContext) async throws -> Response {
        let caller = try await appPatient(request)
        let text = try context.parameters.require("id")
        let now = cloud.clock()
        guard text.utf8.count == 32, let id = Hex.decode(text),
            let outcome = try await cloud.store.cancelDelegation(id, holder: caller.id, now: now)
        else {
            throw CloudProblem(.delegationUnknown, "you gave no delegation with this id")
        }
        if outcome.cancelledNow { try await cloud.lists.refresh(now: now, forceRevocation: true) }
        return try json(outcome.delegation.wire(on: CalendarDate(taipeiDateAt: now)))
    }

    func pendingConsents(_ request: Request) async throws -> Response {
        let caller = try await appPatient(request)
        let pending = try await cloud.store.pendingConsents(patientID: caller.id, now: cloud.clock())
        return try json(
            PendingConsents(
                consents: pending.map {
                    .init(
                        id: $0.id, institution: $0.institution,
                        institutionName: cloud.registry.institution($0.institution)?.name ?? $0.institution,
                        setting: $0.setting, requestedAt: $0.requestedAt, expiresAt: $0.expiresAt)
                }))
    }

    func answerConsent(_ request: Request, _ context: CloudRequestContext) async throws -> Response {
        let caller = try await appPatient(request)
        let id = try context.parameters.require("id")
        let answer = try await decode(ConsentAnswer.self, request, limit: 1024)
        let now = cloud.clock()
        switch try await cloud.store.answerConsent(id, patientID: caller.id, approve: answer.approve, now: now) {
        case .answered(let consent): return try json(consentView(consent, now: now, token: nil))
        case .unknown: throw CloudProblem(.consentUnknown, "no consent request with this id is waiting for you")
        case .alreadyAnswered: throw CloudProblem(.consentAnswered, "this request was already answered")
        case .expired: throw CloudProblem(.consentExpired, "the request expired before it was answered")
        case .cancelled: throw CloudProblem(.consentCancelled, "the clinic withdrew this request")
        }
    }
}

/// A patient's app secret: 32 random bytes as 64 hex digits, kept by the cloud only as its SHA-256.
package struct AppSecret: Sendable {
    package let text: String

    package init() { text = Hex.encode(VisitOpening.random(count: 32)) }

    package init?(text: String) {
        guard text.utf8.count == 64, Hex.decode(text) != nil else { return nil }
        self.text = text.lowercased()
    }

    package var hash: [UInt8] { Array(SHA256.hash(data: Array(text.utf8))) }
}
