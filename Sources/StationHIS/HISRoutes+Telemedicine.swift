import CloudProtocol
import Foundation
import Hummingbird
import Station
import StationModels
import VirtualCard

/// Remote consent as HIS code asks the data centre for it (`TeleMedicine/RequestToken`, `ResponseToken`),
/// over the station's own consent requests: the request is the station's (kept, followed, audited), its
/// `accessToken` the request's id. The station opens the visit itself when the patient approves (it
/// verifies the one-time token the cloud hands over once), so the `virtualCardToken` it answers is not that
/// token but a reference to the visit: HIS code uses it as a scanned QR, and `ReadBasic` and
/// `Verification` with it read and take the consent's visit.
extension HISRoutes {
    /// The prefix of a `virtualCardToken`: the consent request's id follows.
    static let consentReference = "VHC-CONSENT:"

    func requestToken(_ request: Request) async throws -> Response {
        let patient = try await Self.requiredBody(
            request, as: HISTelemedicineRequest.self, missing: "send the patientId"
        ).patientId
        guard TaiwanID.isValid(patient) else {
            return try Self.answer(HISPlainAnswer(.requestMalformed, "patientId must be a valid ID number"))
        }
        guard service.uplink != nil else { return try Self.answer(HISPlainAnswer(.noCloud, "the station forwards to no cloud")) }
        let setting = service.settings.forwarding.map(\.setting).flatMap {
            ConsentRequest.remoteSettings.contains($0) ? $0 : nil
        } ?? .telemedicine
        do {
            let consent = try await service.requestConsent(patientID: patient, setting: setting)
            return try Self.answer(HISAccessTokenAnswer(statusCode: .success, accessToken: consent.id))
        } catch CloudAccessError.refused(let problem) {
            return try Self.answer(HISPlainAnswer(HISStatusCode(OutcomeCode(rawValue: problem.code.rawValue)), problem.detail))
        } catch CloudAccessError.unavailable(let reason) {
            return try Self.answer(HISPlainAnswer(.cloudUnavailable, reason))
        }
    }

    func responseToken(_ request: Request) async throws -> Response {
        let id = try await Self.requiredBody(
            request, as: HISAccessTokenRequest.self, missing: "send the accessToken"
        ).accessToken
        let service = service
        guard let consent = try await Blocking.run({ try service.consentRequests.consent(id: id, institution: service.settings.institution) })
        else { return try Self.answer(HISPlainAnswer(.consentNotFound, "no consent request with this accessToken")) }
        switch consent.state {
        case .pending: return try Self.answer(HISPlainAnswer(.consentPending, "the patient has not answered yet"))
        case .refused, .cancelled: return try Self.answer(HISPlainAnswer(.consentRefused, consent.code))
        case .expired: return try Self.answer(HISPlainAnswer(.consentExpired, consent.code))
        case .approved:
            guard consent.sessionId != nil else {
                let code = OutcomeCode(rawValue: consent.code ?? "")
                return try Self.answer(HISPlainAnswer(HISStatusCode(code), "the approval's token was refused"))
            }
            return try Self.answer(
                HISVirtualCardAnswer(statusCode: .success, virtualCardToken: Self.consentReference + consent.id))
        }
    }

    /// The visit a `virtualCardToken` names, when `token` is one (nil: it is a scanned QR's text).
    func consentVisit(_ token: String) throws -> Result<VisitSession, HISPlainAnswer>? {
        guard token.hasPrefix(Self.consentReference) else { return nil }
        let id = String(token.dropFirst(Self.consentReference.count))
        guard let consent = try service.consentRequests.consent(id: id, institution: service.settings.institution),
            let sessionID = consent.sessionId, let session = try service.sessions.session(id: sessionID)
        else { return .failure(HISPlainAnswer(.consentNotFound, "no approved consent with this token")) }
        guard session.state.isOpen else { return .failure(HISPlainAnswer(.visitEnded, "the consent's visit has ended")) }
        return .success(session)
    }
}
