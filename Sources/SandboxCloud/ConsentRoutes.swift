import CloudProtocol
import Foundation
import Hummingbird
import VirtualCard

/// Remote consent, the institution's half (after the NHIA's telemedicine flow): ask a patient, then
/// poll. Once the patient approves, the next poll hands over a token to verify and use like a
/// scanned one; the cloud keeps only its id.
extension CloudRoutes {
    func askConsent(_ request: Request, _ context: CloudRequestContext) async throws -> Response {
        let institution = try context.requireInstitution()
        let asked = try await decode(ConsentRequest.self, request, limit: 1024)
        guard ConsentRequest.remoteSettings.contains(asked.setting) else {
            throw CloudProblem(.requestMalformed, "consent is asked for telemedicine or video_consultation")
        }
        guard cloud.registry.institution(institution.code)?.settings.contains(asked.setting) == true else {
            throw CloudProblem(.institutionNotEnrolled, "the institution is not enrolled in \(asked.setting.rawValue)")
        }
        guard TaiwanID.isValid(asked.patientId) else {
            throw CloudProblem(.requestMalformed, "patientId must be a valid ID number")
        }
        guard cloud.registry.patient(asked.patientId) != nil else {
            throw CloudProblem(.patientUnknown, "the patient has no app to answer with")
        }
        let now = cloud.clock()
        let consent = StoredConsent(
            id: Hex.encode(VisitOpening.random()), institution: institution.code, patientID: asked.patientId,
            setting: asked.setting, requestedAt: now, expiresAt: now + cloud.opener.settings.consentWindow, state: .pending,
            answeredAt: nil, tokenID: nil)
        try await cloud.store.createConsent(consent)
        return try json(consentView(consent, now: now, token: nil), status: .created)
    }

    /// The institution's poll: pending, approved (with the token, once), collected, or the
    /// refusal, the expiry or the unknown id as problems.
    func pollConsent(_ context: CloudRequestContext) async throws -> Response {
        let institution = try context.requireInstitution()
        let id = try context.parameters.require("id")
        guard id.utf8.count <= 64, let consent = try await cloud.store.consent(id),
            consent.institution == institution.code
        else {
            throw CloudProblem(.consentUnknown, "this institution asked no consent with this id")
        }
        let now = cloud.clock()
        switch consent.reported(at: now) {
        case .refused: throw CloudProblem(.consentRefused, "the patient refused")
        case .cancelled: throw CloudProblem(.consentCancelled, "this institution withdrew the request")
        case .expired: throw CloudProblem(.consentExpired, "the request expired before it was answered or collected")
        case .pending, .collected: return try json(consentView(consent, now: now, token: nil))
        case .approved:
            guard let patient = cloud.registry.patient(consent.patientID) else {
                throw CloudProblem(.patientUnknown, "the patient is no longer in the sandbox")
            }
            let token = try cloud.tokens.issue(for: patient, delegation: nil, now: now)
            guard let tokenID = Hex.decode(token.tokenId),
                try await cloud.store.collectConsent(id, tokenID: tokenID, now: now)
            else {
                // Another poll collected it a moment ago: this token was never handed out.
                var collected = consent
                collected.state = .collected
                return try json(consentView(collected, now: now, token: nil))
            }
            // This answer still says `approved`, with the token; later polls say `collected`.
            return try json(consentView(consent, now: now, token: token.token))
        }
    }

    /// The institution withdraws its request before the patient answers (a clinician who asked the wrong
    /// patient, a call that ended). Withdrawing again answers the same; after an answer it is too late.
    func cancelConsent(_ context: CloudRequestContext) async throws -> Response {
        let institution = try context.requireInstitution()
        let id = try context.parameters.require("id")
        guard id.utf8.count <= 64 else { throw CloudProblem(.consentUnknown, "this institution asked no consent with this id") }
        let now = cloud.clock()
        switch try await cloud.store.cancelConsent(id, institution: institution.code, now: now) {
        case .cancelled(let consent): return try json(consentView(consent, now: now, token: nil))
        case .unknown: throw CloudProblem(.consentUnknown, "this institution asked no consent with this id")
        case .answered: throw CloudProblem(.consentAnswered, "the patient answered first")
        case .expired: throw CloudProblem(.consentExpired, "the request expired before it was withdrawn")
        }
    }

    func consentView(_ consent: StoredConsent, now: Int64, token: String?) -> Consent {
        Consent(
            id: consent.id, institution: consent.institution, patient: TaiwanID.masked(consent.patientID),
            setting: consent.setting, state: consent.reported(at: now), requestedAt: consent.requestedAt,
            expiresAt: consent.expiresAt, answeredAt: consent.answeredAt, token: token)
    }
}
