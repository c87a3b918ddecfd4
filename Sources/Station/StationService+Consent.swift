import AuditChain
import CloudProtocol
import Foundation
import StationModels
import VirtualCard

/// Remote consent (a telemedicine visit without a scan): asked through the cloud, kept in
/// `consent_request` while the patient decides, so a restart neither loses nor repeats it, and ended once
/// (approved, refused, expired, or withdrawn at the station). Every step is audited and announced with the
/// patient masked.
extension StationService {
    package var consentRequests: ConsentRequests { ConsentRequests(database: policy.database) }

    /// Asks the patient's consent through the cloud (not retried: a second request would ask twice),
    /// then follows it until the patient answers or the window ends. Throws `CloudAccessError`.
    package func requestConsent(patientID: String, setting: CareSetting) async throws -> StationConsent {
        guard let uplink else { throw CloudAccessError.unavailable("the station forwards to no cloud") }
        let consent = try await uplink.requestConsent(patientID: patientID, setting: setting)
        // Masked here, whatever the cloud sent: the station knows whom it asked.
        let patient = TaiwanID.masked(patientID)
        let kept = StationConsent(
            id: consent.id, institution: settings.institution, patient: patient, setting: consent.setting.rawValue,
            state: .pending, requestedAt: consent.requestedAt, expiresAt: consent.expiresAt)
        // Followed whatever becomes of the write below: the patient is being asked, and an approval must be
        // collected (asking again would ask twice).
        uplink.follow(consent, patient: patient)
        let now = clock()
        try await policy.database.writer.write { db in
            try consentRequests.insert(db, kept)
            try AuditLog.append(
                db, at: now, kind: .consentRequested, subject: consent.id,
                detail: ["patient": patient, "setting": consent.setting.rawValue])
        }
        announce(.consentRequested, at: now, code: OutcomeCode(rawValue: "pending"), patient: patient)
        return kept
    }

    /// The patient approved: the token the cloud handed over is verified and opens the session as a
    /// scan does (and goes to the cloud like one), in the consent's setting. The request then names the
    /// visit it opened (or the scan's code, when the token was refused), and only then is the approval
    /// announced, after the scan's own events: a screen that reads the requests on it sees the visit.
    @discardableResult
    package func consentApproved(_ consent: Consent, patient: String, token: String) throws -> StationPolicy.Outcome {
        let outcome = try submit(Array(token.utf8), source: "consent", setting: consent.setting)
        let now = clock()
        let recorded = try policy.database.writer.write { db in
            guard
                try consentRequests.approve(
                    db, id: consent.id, code: outcome.code.rawValue, sessionID: outcome.session?.id, at: now)
            else { return false }
            try AuditLog.append(
                db, at: now, kind: .consentApproved, subject: consent.id,
                detail: ["patient": patient, "code": outcome.code.rawValue])
            return true
        }
        if recorded { announce(.consentApproved, at: now, code: outcome.code, patient: patient) }
        return outcome
    }

    /// The patient refused, the window ended, or the cloud withdrew it (`code`: the cloud's, or
    /// `consent_expired`). Nothing when the request had already ended here (withdrawn at the station).
    package func consentEnded(_ consent: Consent, patient: String, code: String) throws {
        let state: StationConsent.State =
            switch code {
            case "consent_refused": .refused
            case "consent_cancelled": .cancelled
            default: .expired
            }
        try endConsent(consent.id, as: state, code: code, patient: patient)
    }

    /// Withdraws a pending request (the clinician asked the wrong patient, the call ended): at the cloud
    /// first, so the patient's app stops asking, then here. Throws `ConsentCancelError` or
    /// `CloudAccessError`.
    package func cancelConsent(id: String) async throws -> StationConsent {
        guard let uplink else { throw CloudAccessError.unavailable("the station forwards to no cloud") }
        let institution = settings.institution
        guard let kept = try consentRequests.consent(id: id, institution: institution) else {
            throw ConsentCancelError.unknown
        }
        guard kept.state == .pending else { throw ConsentCancelError.ended(kept) }
        /// The request as it now is, after the follower or the cloud ended it.
        func ended() throws -> ConsentCancelError {
            .ended(try consentRequests.consent(id: id, institution: institution) ?? kept)
        }
        do {
            try await uplink.cancelConsent(id: id)
        } catch CloudAccessError.refused(let problem) where problem.code == .consentAnswered {
            // The patient answered first: the follower brings that answer in.
            throw try ended()
        } catch CloudAccessError.refused(let problem) where [.consentExpired, .consentUnknown].contains(problem.code) {
            // Over at the cloud (or lost by it): over here too.
            try endConsent(id, as: .expired, code: problem.code.rawValue, patient: kept.patient)
            throw try ended()
        }
        guard try endConsent(id, as: .cancelled, code: "consent_cancelled", patient: kept.patient) else {
            throw try ended()  // the follower ended it meanwhile
        }
        return try consentRequests.consent(id: id, institution: institution) ?? kept
    }

    /// The pending requests as the cloud's follower takes them after a restart (patients masked).
    package func consentsToFollow() throws -> [(consent: Consent, patient: String)] {
        try consentRequests.pending(institution: settings.institution).compactMap { kept in
            guard let setting = CareSetting(rawValue: kept.setting) else { return nil }
            let consent = Consent(
                id: kept.id, institution: kept.institution, patient: kept.patient, setting: setting, state: .pending,
                requestedAt: kept.requestedAt, expiresAt: kept.expiresAt, answeredAt: nil, token: nil)
            return (consent, kept.patient)
        }
    }

    /// The requests of the last day and every pending one, newest first (`GET /v1/consents`).
    package func recentConsents() throws -> [StationConsent] {
        try consentRequests.recent(since: clock() - 86_400, institution: settings.institution)
    }

    /// Ends the request once, audited and announced; false when it had ended already.
    @discardableResult
    private func endConsent(_ id: String, as state: StationConsent.State, code: String, patient: String) throws -> Bool {
        let now = clock()
        let (kind, event): (AuditKind, EventKind) =
            switch state {
            case .refused: (.consentRefused, .consentRefused)
            case .cancelled: (.consentCancelled, .consentCancelled)
            default: (.consentExpired, .consentExpired)
            }
        let ended = try policy.database.writer.write { db in
            guard try consentRequests.end(db, id: id, as: state, code: code, at: now) else { return false }
            try AuditLog.append(db, at: now, kind: kind, subject: id, detail: ["patient": patient, "code": code])
            return true
        }
        if ended { announce(event, at: now, code: OutcomeCode(rawValue: code), patient: patient) }
        return ended
    }

    private func announce(_ event: EventKind, at now: Int64, code: OutcomeCode? = nil, patient: String) {
        events.publish { id in
            StationEvent(id: id, type: event, at: now, code: code, source: "consent", holder: patient)
        }
    }
}

/// A withdrawal the station cannot make.
package enum ConsentCancelError: Error, Sendable {
    /// No request with this id was made here.
    case unknown
    /// It has ended already (answered, expired, withdrawn): how.
    case ended(StationConsent)
}
