import CloudProtocol
import Foundation
import SandboxCloud
import Testing
import VirtualCard

/// The patient's app: tokens for a card, delegations (create, list, token, cancel, revoked), and
/// remote consent (approve, refuse, time out), all over HTTPS on loopback.
@Suite(.serialized) struct AppSideTests {
    /// A valid ID number nobody in the sandbox has.
    func stranger(_ cloud: CloudHarness) throws -> String {
        let id = "A123456789"
        #expect(TaiwanID.isValid(id) && cloud.manifest.patients.allSatisfy { $0.id != id })
        return id
    }

    @Test func theAppGetsFreshTokensForItsOwnCardOnlyWithItsSecret() async throws {
        let cloud = try await CloudHarness()
        let patient = cloud.patient()
        try await withClient(try cloud.appClient()) { client in
            let login = try cloud.appLogin(patient)
            let first = try await cloud.post(client, "/v1/app/tokens", json: AppTokenRequest(), headers: login)
            let second = try await cloud.post(client, "/v1/app/tokens", json: AppTokenRequest(), headers: login)
            #expect(first.status == 201 && second.status == 201)
            let tokens = [try first.decode(AppToken.self), try second.decode(AppToken.self)]
            #expect(tokens[0].tokenId != tokens[1].tokenId)
            #expect(tokens[0].expiresAt - tokens[0].issuedAt == 300)
            let verification = try await cloud.verifier().verify(tokens[0].token, at: cloud.clock.now)
            #expect(verification.isValid)
            #expect(verification.claims?.holder.id == patient.id)
            #expect(verification.claims?.delegation == nil)
            #expect(verification.claims.map { Hex.encode($0.tokenID) } == tokens[0].tokenId)

            // No secret, a malformed one, someone else's secret that is not registered.
            for headers in [
                [], [("Authorization", "Bearer nonsense")], [("Authorization", "Basic abc")],
                [("Authorization", "Bearer " + String(repeating: "ab", count: 32))],
            ] {
                let refused = try await cloud.post(client, "/v1/app/tokens", json: AppTokenRequest(), headers: headers)
                #expect(refused.status == 401 && refused.code == "app_credential_invalid")
            }
            // Garbage bodies.
            // `card` may be left out but not be null (issue 21: null was taken for absent).
            for body in ["", "{", "[1]", #"{"card": 5}"#, #"{"card": null}"#] {
                let bad = try await cloud.request(
                    client, .POST, "/v1/app/tokens", body: Array(body.utf8), contentType: "application/json",
                    headers: login)
                #expect(bad.status == 400 && bad.code == "request_malformed")
            }
            // The secret is only on disk as a 0600 file.
            let mode =
                try FileManager.default.attributesOfItem(atPath: cloud.directory.appSecret(patient.id))[
                    .posixPermissions] as? Int
            #expect(mode == 0o600)
        }
        try await cloud.stop()
    }

    @Test func aDelegationGivesTheDelegateTokensUntilItIsCancelled() async throws {
        let cloud = try await CloudHarness()
        let holder = cloud.patient()
        let delegate = try #require(
            cloud.manifest.patients.first { $0.id != holder.id && $0.insuranceStatus == .active })
        let institution = cloud.everySetting
        let today = CalendarDate(taipeiDateAt: cloud.clock.now)
        func day(_ offset: Int64) -> String { CalendarDate(taipeiDateAt: today.taipeiMidnight + offset * 86_400).iso }

        try await withClient(try cloud.appClient()) { app in
            let holderLogin = try cloud.appLogin(holder)
            let delegateLogin = try cloud.appLogin(delegate)
            let forHolder = AppTokenRequest(card: holder.id)

            let before = try await cloud.post(app, "/v1/app/tokens", json: forHolder, headers: delegateLogin)
            #expect(before.status == 403 && before.code == "card_not_delegated")

            // Refused delegations.
            for request in [
                DelegationRequest(delegateId: holder.id, validFrom: day(0), validTo: day(5)),
                DelegationRequest(delegateId: "A123456788", validFrom: day(0), validTo: day(5)),
                DelegationRequest(delegateId: delegate.id, validFrom: day(-1), validTo: day(5)),
                DelegationRequest(delegateId: delegate.id, validFrom: day(5), validTo: day(4)),
                DelegationRequest(delegateId: delegate.id, validFrom: day(0), validTo: day(400)),
                DelegationRequest(delegateId: delegate.id, validFrom: "2026-02-30", validTo: day(4)),
            ] {
                let refused = try await cloud.post(app, "/v1/app/delegations", json: request, headers: holderLogin)
                #expect(refused.status == 400 && refused.code == "delegation_invalid", "\(request)")
            }

            // Two delegations: one from today, one starting next week.
            let created = try await cloud.post(
                app, "/v1/app/delegations",
                json: DelegationRequest(delegateId: delegate.id, validFrom: day(0), validTo: day(30)),
                headers: holderLogin)
            #expect(created.status == 201)
            let delegation = try created.decode(Delegation.self)
            #expect(delegation.state == .active && delegation.holderId == holder.id && delegation.id.count == 32)
            let later = try await cloud.post(
                app, "/v1/app/delegations",
                json: DelegationRequest(delegateId: try stranger(cloud), validFrom: day(7), validTo: day(8)),
                headers: holderLogin)
            #expect(try later.decode(Delegation.self).state == .scheduled)

            let granted = try await cloud.request(app, .GET, "/v1/app/delegations", headers: holderLogin)
                .decode(DelegationList.self)
            #expect(granted.granted.count == 2 && granted.received.isEmpty)
            let received = try await cloud.request(app, .GET, "/v1/app/delegations", headers: delegateLogin)
                .decode(DelegationList.self)
            #expect(received.received == [delegation] && received.granted.isEmpty)

            // The delegate's tokens carry the delegation and open a visit.
            let tokenReply = try await cloud.post(app, "/v1/app/tokens", json: forHolder, headers: delegateLogin)
            #expect(tokenReply.status == 201)
            let token = try tokenReply.decode(AppToken.self)
            #expect(token.delegationId == delegation.id)
            let claims = try #require(try await cloud.verifier().verify(token.token, at: cloud.clock.now).claims)
            #expect(claims.holder.id == holder.id && claims.delegation?.delegateID == delegate.id)
            let kept = try await cloud.post(app, "/v1/app/tokens", json: forHolder, headers: delegateLogin)
                .decode(AppToken.self)

            let sequenceBefore = try #require(try await cloud.currentRevocationSequence())
            try await withClient(try cloud.client(identity: try cloud.credential(institution: institution.code))) {
                clinic in
                let (_, body) = try cloud.opening(
                    token: token.token, institution: institution.code,
                    practitioner: cloud.practitioner(at: institution.code).id)
                let opened = try await cloud.request(clinic, .POST, "/v1/visits", body: body)
                #expect(opened.status == 201)
                #expect(try opened.decode(VisitGrant.self).delegation?.delegateId == delegate.id)
            }

            // Only the holder cancels; then at once the revocation list has it.
            let notYours = try await cloud.request(
                app, .DELETE, "/v1/app/delegations/\(delegation.id)", headers: delegateLogin)
            #expect(notYours.status == 404 && notYours.code == "delegation_unknown")
            let cancelled = try await cloud.request(
                app, .DELETE, "/v1/app/delegations/\(delegation.id)", headers: holderLogin)
            #expect(cancelled.status == 200)
            #expect(try cancelled.decode(Delegation.self).state == .cancelled)
            let sequenceAfter = try #require(try await cloud.currentRevocationSequence())
            #expect(sequenceAfter > sequenceBefore)
            let again = try await cloud.request(
                app, .DELETE, "/v1/app/delegations/\(delegation.id)", headers: holderLogin)
            #expect(again.status == 200)
            #expect(try await cloud.currentRevocationSequence() == sequenceAfter)

            let revoked = try await cloud.verifier().verify(kept.token, at: cloud.clock.now)
            #expect(revoked.code == .delegationRevoked)
            try await withClient(try cloud.client(identity: try cloud.credential(institution: institution.code))) {
                clinic in
                let (_, body) = try cloud.opening(
                    token: kept.token, institution: institution.code,
                    practitioner: cloud.practitioner(at: institution.code).id)
                let refused = try await cloud.request(clinic, .POST, "/v1/visits", body: body)
                #expect(refused.status == 422 && refused.problem?.tokenCode?.rawValue == "delegation_revoked")
            }
            let after = try await cloud.post(app, "/v1/app/tokens", json: forHolder, headers: delegateLogin)
            #expect(after.status == 403 && after.code == "card_not_delegated")
            let listed = try await cloud.request(app, .GET, "/v1/app/delegations", headers: holderLogin)
                .decode(DelegationList.self)
            #expect(listed.granted.first { $0.id == delegation.id }?.state == .cancelled)

            for id in ["zz", String(repeating: "0", count: 32)] {
                let unknown = try await cloud.request(app, .DELETE, "/v1/app/delegations/\(id)", headers: holderLogin)
                #expect(unknown.status == 404 && unknown.code == "delegation_unknown")
            }
        }
        // The revocation survives a restart (it is in the database, and the list is re-signed from it).
        try await cloud.stop()
        try await cloud.start()
        let list = try await cloud.store().revokedDelegations(today: today)
        #expect(list.count == 1)
        try await cloud.stop()
    }

    @Test func aCardHasAtMostTenOpenDelegationsAndTwentyOnTheRevocationList() async throws {
        let cloud = try await CloudHarness()
        let holder = cloud.patient()
        let today = CalendarDate(taipeiDateAt: cloud.clock.now).iso
        let request = DelegationRequest(delegateId: try stranger(cloud), validFrom: today, validTo: today)
        try await withClient(try cloud.appClient()) { app in
            let login = try cloud.appLogin(holder)
            func create() async throws -> CloudHarness.Reply {
                try await cloud.post(app, "/v1/app/delegations", json: request, headers: login)
            }
            var ids: [String] = []
            for _ in 0..<10 { ids.append(try await create().decode(Delegation.self).id) }
            #expect(try await create().code == "delegation_invalid")
            // Cancelling frees an open place, but the cancelled one stays listed until it ends.
            for id in ids {
                #expect(
                    try await cloud.request(app, .DELETE, "/v1/app/delegations/\(id)", headers: login).status == 200)
                #expect(try await create().status == 201)
            }
            #expect(try await create().code == "delegation_invalid")
        }
        #expect(try await cloud.store().revokedDelegations(today: CalendarDate(iso: today)!).count == 10)
        try await cloud.stop()
    }

    @Test func remoteConsentApprovedRefusedAndTimedOut() async throws {
        let cloud = try await CloudHarness()
        let patient = cloud.patient()
        let clinic = cloud.telemedicineOnly
        try await withClient(try cloud.appClient()) { app in
            let login = try cloud.appLogin(patient)
            try await withClient(try cloud.client(identity: try cloud.credential(institution: clinic.code))) {
                institution in
                func ask() async throws -> Consent {
                    let reply = try await cloud.post(
                        institution, "/v1/consents", json: ConsentRequest(patientId: patient.id, setting: .telemedicine)
                    )
                    #expect(reply.status == 201)
                    return try reply.decode(Consent.self)
                }
                func poll(_ id: String) async throws -> CloudHarness.Reply {
                    try await cloud.request(institution, .GET, "/v1/consents/\(id)")
                }
                func answer(_ id: String, _ approve: Bool) async throws -> CloudHarness.Reply {
                    try await cloud.post(
                        app, "/v1/app/consents/\(id)", json: ConsentAnswer(approve: approve), headers: login)
                }

                // Approved: the token comes once, verifies, and opens a telemedicine visit.
                let asked = try await ask()
                #expect(asked.state == .pending && asked.patient == TaiwanID.masked(patient.id) && asked.token == nil)
                #expect(try await poll(asked.id).decode(Consent.self).state == .pending)
                let pending = try await cloud.request(app, .GET, "/v1/app/consents", headers: login)
                    .decode(PendingConsents.self)
                #expect(pending.consents.map(\.id) == [asked.id])
                #expect(pending.consents.first?.institutionName == clinic.name)
                #expect(try await answer(asked.id, true).decode(Consent.self).state == .approved)
                let handed = try await poll(asked.id).decode(Consent.self)
                #expect(handed.state == .approved)
                let token = try #require(handed.token)
                let claims = try #require(try await cloud.verifier().verify(token, at: cloud.clock.now).claims)
                #expect(claims.holder.id == patient.id)
                let (_, body) = try cloud.opening(
                    token: token, institution: clinic.code, practitioner: cloud.practitioner(at: clinic.code).id,
                    setting: .telemedicine)
                #expect(try await cloud.request(institution, .POST, "/v1/visits", body: body).status == 201)
                let later = try await poll(asked.id).decode(Consent.self)
                #expect(later.state == .collected && later.token == nil)
                let twice = try await answer(asked.id, false)
                #expect(twice.status == 409 && twice.code == "consent_answered")

                // Refused.
                let refusedRequest = try await ask()
                #expect(try await answer(refusedRequest.id, false).status == 200)
                let refused = try await poll(refusedRequest.id)
                #expect(refused.status == 403 && refused.code == "consent_refused")

                // Not answered within ten minutes.
                let unanswered = try await ask()
                cloud.clock.advance(by: ConsentRequest.answerWindow + 1)
                let timedOut = try await poll(unanswered.id)
                #expect(timedOut.status == 410 && timedOut.code == "consent_expired")
                let tooLate = try await answer(unanswered.id, true)
                #expect(tooLate.status == 410 && tooLate.code == "consent_expired")
                let none = try await cloud.request(app, .GET, "/v1/app/consents", headers: login)
                    .decode(PendingConsents.self)
                #expect(none.consents.isEmpty)

                // Approved but never collected: it expires too.
                let uncollected = try await ask()
                #expect(try await answer(uncollected.id, true).status == 200)
                cloud.clock.advance(by: ConsentRequest.answerWindow + 1)
                #expect(try await poll(uncollected.id).code == "consent_expired")

                // Withdrawn by the institution: the app no longer lists it nor can answer it, the poll says so,
                // withdrawing again answers the same; one answered or expired cannot be withdrawn.
                func withdraw(_ id: String) async throws -> CloudHarness.Reply {
                    try await cloud.request(institution, .DELETE, "/v1/consents/\(id)")
                }
                let withdrawn = try await ask()
                #expect(try await withdraw(withdrawn.id).decode(Consent.self).state == .cancelled)
                #expect(try await withdraw(withdrawn.id).decode(Consent.self).state == .cancelled)
                let afterwards = try await cloud.request(app, .GET, "/v1/app/consents", headers: login)
                    .decode(PendingConsents.self)
                #expect(!afterwards.consents.contains { $0.id == withdrawn.id })
                let answerAfter = try await answer(withdrawn.id, true)
                #expect(answerAfter.status == 410 && answerAfter.code == "consent_cancelled")
                let pollAfter = try await poll(withdrawn.id)
                #expect(pollAfter.status == 410 && pollAfter.code == "consent_cancelled")
                let answeredFirst = try await ask()
                #expect(try await answer(answeredFirst.id, false).status == 200)
                let late = try await withdraw(answeredFirst.id)
                #expect(late.status == 409 && late.code == "consent_answered")
                let lapsed = try await ask()
                cloud.clock.advance(by: ConsentRequest.answerWindow + 1)
                #expect(try await withdraw(lapsed.id).code == "consent_expired")
                #expect(try await withdraw("nope").code == "consent_unknown")

                // Unknown ids, and bad requests.
                #expect(try await poll("nope").code == "consent_unknown")
                #expect(try await answer("nope", true).code == "consent_unknown")
                let outpatient = try await cloud.post(
                    institution, "/v1/consents", json: ConsentRequest(patientId: patient.id, setting: .outpatient))
                #expect(outpatient.status == 400 && outpatient.code == "request_malformed")
                let nobody = try await cloud.post(
                    institution, "/v1/consents",
                    json: ConsentRequest(patientId: try stranger(cloud), setting: .videoConsultation))
                #expect(nobody.status == 404 && nobody.code == "patient_unknown")
                let invalid = try await cloud.post(
                    institution, "/v1/consents", json: ConsentRequest(patientId: "A000000000", setting: .telemedicine))
                #expect(invalid.status == 400 && invalid.code == "request_malformed")

                // Another institution cannot poll it; one not enrolled cannot ask.
                let another = try await ask()
                try await withClient(
                    try cloud.client(identity: try cloud.credential(institution: cloud.homeCareOnly.code))
                ) { homeCare in
                    let foreign = try await cloud.request(homeCare, .GET, "/v1/consents/\(another.id)")
                    #expect(foreign.status == 404 && foreign.code == "consent_unknown")
                    let notEnrolled = try await cloud.post(
                        homeCare, "/v1/consents", json: ConsentRequest(patientId: patient.id, setting: .telemedicine))
                    #expect(notEnrolled.status == 403 && notEnrolled.code == "institution_not_enrolled")
                }
            }
            // Without an institution certificate there is no consent route.
            let anonymous = try await cloud.post(
                app, "/v1/consents", json: ConsentRequest(patientId: patient.id, setting: .telemedicine))
            #expect(anonymous.status == 401 && anonymous.code == "client_certificate_missing")
        }
        try await cloud.stop()
        let answered = try await cloud.auditDetails(.consentAnswered)
        #expect(answered.count == 4)
        #expect(answered.allSatisfy { !$0.contains(patient.id) })
        let withdrawals = try await cloud.auditDetails(.consentCancelled)
        #expect(withdrawals.count == 1 && withdrawals.allSatisfy { !$0.contains(patient.id) })
    }
}

extension CloudHarness {
    func currentRevocationSequence() async throws -> Int64? {
        try await store().currentList(.revocation)?.sequence
    }
}
