import CloudClient
import CloudProtocol
import Foundation
import Station
import StationModels
import TestSupport
import Testing
import VirtualCard

@testable import StationCloud

/// The station reads a cloud's answers by what cloud-protocol.md promises and no further (issue 19): a
/// refusal is its status and its `code`; every other member of a problem document is optional, and
/// unknown members are ignored. A cloud of another implementation (ScriptedCloud) answers as the
/// project's own never does.
@Suite("the station reads other clouds' answers by the protocol", .serialized)
struct CloudAnswerTests {
    static func reply(_ status: Int, _ body: String) -> CloudClient.Reply {
        CloudClient.Reply(status: status, headers: [:], body: Data(body.utf8))
    }

    @Test("a problem document needs only its code; other members are optional, of any type, or unknown")
    func problemDocuments() throws {
        let minimal = try #require(CloudProblem(body: Array(#"{"code":"token_replayed"}"#.utf8), httpStatus: 409))
        #expect(minimal.code == .tokenReplayed && minimal.status == 409 && minimal.detail.isEmpty)
        #expect(minimal.description == "token_replayed")
        let extra = try #require(
            CloudProblem(
                body: Array(
                    #"{"code":"token_invalid","tokenCode":"expired","instance":"/x","retry":[1,2],"status":"409","detail":7}"#
                        .utf8), httpStatus: 422))
        #expect(extra.code == .tokenInvalid && extra.tokenCode?.rawValue == "expired" && extra.status == 422)
        // No code, or a code that is not text: not a problem of the protocol.
        #expect(CloudProblem(body: Array(#"{"title":"Conflict","status":409}"#.utf8), httpStatus: 409) == nil)
        #expect(CloudProblem(body: Array(#"{"code":409}"#.utf8), httpStatus: 409) == nil)
        #expect(CloudProblem(body: Array("<html>busy</html>".utf8), httpStatus: 409) == nil)
        // A code from the network is made safe to log and show.
        #expect(CloudCode(rawValue: "bad code\n\u{1b}[31m").printable == "bad?code???31m")
    }

    @Test("final or not is the status's; what a refusal means is the code's")
    func classification() {
        func answer(_ status: Int, _ body: String) -> Outbox.Answer? {
            OutboxDrain.classify(Self.reply(status, body)).answer
        }
        // Minimal problems: final, with the cloud's code.
        #expect(answer(409, #"{"code":"token_replayed"}"#) == .refused(code: "token_replayed", tokenCode: nil))
        #expect(
            answer(422, #"{"code":"token_invalid","tokenCode":"delegation_revoked"}"#)
                == .refused(code: "token_invalid", tokenCode: "delegation_revoked"))
        #expect(answer(403, #"{"code":"practitioner_not_affiliated"}"#) == .signatureRefused(code: "practitioner_not_affiliated"))
        // A code that contradicts its status: the code says what it is.
        #expect(answer(400, #"{"code":"token_replayed","status":409}"#) == .refused(code: "token_replayed", tokenCode: nil))
        #expect(answer(409, #"{"code":"request_signature_invalid"}"#) == .signatureRefused(code: "request_signature_invalid"))
        // A code this station does not know, with a 4xx: final, closed as cloud_refused.
        #expect(answer(422, #"{"code":"card_suspended_by_cloud"}"#) == .refusedUnknown(cloudCode: "card_suspended_by_cloud"))
        #expect(answer(404, #"{"code":"grant_unknown"}"#) == .refusedUnknown(cloudCode: "grant_unknown"))
        #expect(Outbox.Answer.refusedUnknown(cloudCode: "x").refusalCode == "cloud_refused")
        // Not final: a server error or a busy cloud whatever code it names, 408, 429, a 4xx with no code,
        // and the institution's own certificate (kept until it is put right).
        #expect(answer(503, #"{"code":"token_replayed"}"#) == nil)
        #expect(answer(500, "") == nil)
        #expect(answer(408, #"{"code":"token_replayed"}"#) == nil)
        #expect(answer(429, #"{"code":"service_busy"}"#) == nil)
        #expect(answer(404, "<html>not found</html>") == nil)
        #expect(answer(401, #"{"code":"institution_certificate_invalid"}"#) == nil)
    }

    @Test("a grant is read by what the station needs: unknown patient details and absent flags do not lose it")
    func tolerantGrant() throws {
        let grant = String(repeating: "g", count: 32)
        let body =
            #"{"grant":"\#(grant)","visitSequence":"0007","openedAt":"2026-12-03T00:00:00Z","expiresAt":"2026-12-03T01:00:00Z","patient":{"id":"A123456789","name":"王小明","birthDate":"1980-05-17","sex":"X","insuranceStatus":"paused","photo":null},"extension":{"a":1}}"#
        guard case .opened(let opened)? = OutboxDrain.classify(Self.reply(201, body)).answer else {
            Issue.record("not opened")
            return
        }
        #expect(opened.visitSequence == "0007" && opened.deferred == false && opened.idCheckRequired == false)
        #expect(opened.patient.sex == nil && opened.patient.insuranceStatus == nil && opened.patient.cardIssuedAt == nil)
        #expect(opened.patient.photo == PhotoStatus.none)
        #expect(opened.delegation == nil)
        #expect(opened.treatmentNumber == nil, "no treatmentNumber: the station does not require the extension")
    }

    @Test("the sandbox's treatmentNumber extension is read only when it is 20 letters or digits, and written only when there")
    func treatmentNumberExtension() throws {
        func read(_ member: String) throws -> String?? {
            let body =
                #"{"grant":"\#(String(repeating: "g", count: 32))","visitSequence":"0007","openedAt":"2026-12-03T00:00:00Z","expiresAt":"2026-12-03T01:00:00Z","patient":{"id":"A123456789","name":"王小明","birthDate":"1980-05-17","photo":"none"}\#(member)}"#
            guard case .opened(let opened)? = OutboxDrain.classify(Self.reply(201, body)).answer else { return nil }
            return .some(opened.treatmentNumber)
        }
        #expect(try read(#","treatmentNumber":"35012000002612070007""#) == .some("35012000002612070007"))
        for odd in [#","treatmentNumber":"3501200000261207007""#, #","treatmentNumber":12345678901234567890"#,
                    #","treatmentNumber":"3501200000-261207007""#, #","treatmentNumber":null"#, ""] {
            #expect(try read(odd) == .some(nil), "\(odd): the visit opened, without a number")
        }
        let grant = VisitGrant(
            grant: "g", visitSequence: "0001", openedAt: "a", expiresAt: "b", deferred: false,
            patient: .init(cardNumber: nil, id: "A123456789", name: "n", birthDate: "1980-05-17", sex: nil, cardIssuedAt: nil,
                           insuranceStatus: nil, photo: .none),
            delegation: nil, idCheckRequired: false)
        #expect(!String(decoding: try JSONEncoder().encode(grant), as: UTF8.self).contains("treatmentNumber"))
    }

    @Test("a cloud refusing with only a code closes the visit within one drain, and the token leaves the disk")
    func minimalRefusalClosesTheVisit() async throws {
        let cloud = try await CloudHarness()
        let other = try await ScriptedCloud(directory: cloud.directory)
        let station = try await ForwardingStation(cloud, url: other.url)
        try await station.installLists()
        try await station.loginAffiliated()
        other.script(.visits, .init(status: 409, body: #"{"code":"token_replayed"}"#))
        let events = station.service.events.subscribe()
        let outcome = try station.scan(cloud.patient())
        await station.uplink.flush(timeout: .seconds(10))
        #expect(other.requests(.visits) == 1)
        let session = try #require(try station.service.sessions.session(id: outcome.session!.id))
        #expect(session.state == .closed && session.closeReason == CloseReason(rawValue: "token_replayed"))
        #expect(session.cloud?.state == .refused && session.cloud?.refusal == "token_replayed")
        #expect(try station.service.outbox.backlog().outbox == 0)
        // The scrub runs in the worker's loop; the test does it here.
        station.service.outbox.scrubLog()
        #expect(!(try station.storedText()).contains("VHC1:"))
        station.service.events.finish()
        var refused: StationEvent?
        for await event in events where event.type == .visitRefused { refused = event }
        #expect(refused?.code?.rawValue == "token_replayed")

        // A code the station does not know: closed as cloud_refused, the cloud's code in the audit.
        other.script(.visits, .init(status: 422, body: #"{"code":"holder_deceased","detail":"x","foo":{}}"#))
        let second = try station.scan(cloud.patient(photo: .none))
        await station.uplink.flush(timeout: .seconds(10))
        let closed = try #require(try station.service.sessions.session(id: second.session!.id))
        #expect(closed.closeReason == CloseReason(rawValue: "cloud_refused") && closed.cloud?.refusal == "cloud_refused")
        let refusal = try #require(try station.service.audit.entries().last { $0.kind == "visit.refused" })
        #expect(refusal.detail.contains("holder_deceased") && refusal.detail.contains("cloud_refused"))
        // Refused, for all the station knows, before the cloud consumed it: the cloud is to be told (a
        // replay it knows already).
        #expect(try station.service.outbox.consumedToUpload(limit: 10).count == 1)
        await station.shutdown()
        try await other.stop()
        try await cloud.stop()
    }

    @Test("a refusal of the institution's certificate is final: not sent again, the opening kept for a restart")
    func institutionCertificateRefused() async throws {
        let cloud = try await CloudHarness()
        let other = try await ScriptedCloud(directory: cloud.directory)
        let station = try await ForwardingStation(cloud, url: other.url)
        try await station.installLists()
        try await station.loginAffiliated()
        other.script(.visits, .init(status: 401, body: #"{"code":"institution_certificate_invalid"}"#))
        let id = try #require(try station.scan(cloud.patient()).session?.id)
        await station.uplink.flush(timeout: .seconds(10))
        #expect(other.requests(.visits) == 1)
        // Later drains (a wake-up, the ticks, a second scan, the openings' backoff long past) send nothing.
        _ = try station.scan(cloud.patient(photo: .none))
        cloud.clock.advance(by: 600)
        await station.uplink.flush(timeout: .seconds(10))
        try await Task.sleep(for: .milliseconds(300))
        #expect(other.requests(.visits) == 1)
        #expect(try station.service.sessions.session(id: id)?.cloud?.state == .pendingCloud)
        #expect(try station.service.outbox.backlog().outbox == 2)
        #expect(station.uplink.connectionStatus().lastError?.contains("institution_certificate_invalid") == true)
        await station.shutdown()
        try await other.stop()
        try await cloud.stop()
    }

    @Test("a refused consumed-id upload keeps its ids: sent again an hour later, and never again once the certificate is refused")
    func consumedUploadRefused() async throws {
        let cloud = try await CloudHarness()
        let other = try await ScriptedCloud(directory: cloud.directory)
        let station = try await ForwardingStation(cloud, url: other.url)
        try await station.installLists()
        try await station.loginAffiliated()
        // A 408 is not final, whatever code it carries: tried again after the link's backoff (at most
        // a second here), not an hour later. Then a 400 with a code, which is final.
        other.script(
            .consumed,
            [
                .init(status: 408, body: #"{"code":"request_malformed"}"#),
                .init(status: 400, body: #"{"code":"request_malformed"}"#),
            ])
        // A visit refused with a code the station does not know leaves its token id to upload.
        other.script(.visits, .init(status: 422, body: #"{"code":"holder_deceased"}"#))
        _ = try station.scan(cloud.patient())
        await station.uplink.flush(timeout: .seconds(10))
        try await until { other.requests(.consumed) == 1 }
        try await Task.sleep(for: .milliseconds(300))
        cloud.clock.advance(by: 5)
        try await until { other.requests(.consumed) == 2 }
        // Ticks every 100 ms: within the hour nothing is sent again; after it, once. (The uploader reads
        // the clock once it has the answer: the test lets it settle before the hour.)
        func anHourLater(expecting count: Int) async throws {
            cloud.clock.advance(by: 600)
            try await Task.sleep(for: .milliseconds(400))
            #expect(other.requests(.consumed) == count - 1)
            cloud.clock.advance(by: 3600)
            try await until { other.requests(.consumed) == count }
        }
        try await anHourLater(expecting: 3)
        #expect(try station.service.outbox.consumedToUpload(limit: 10).count == 1)

        // The institution's certificate refused: no upload and no opening any more, the ids kept.
        other.script(.consumed, .init(status: 401, body: #"{"code":"institution_certificate_invalid"}"#))
        try await anHourLater(expecting: 4)
        _ = try station.scan(cloud.patient(photo: .none))
        cloud.clock.advance(by: 7200)
        await station.uplink.flush(timeout: .seconds(2))
        try await Task.sleep(for: .milliseconds(400))
        #expect(other.requests(.consumed) == 4)
        #expect(other.requests(.visits) == 1)
        #expect(try station.service.outbox.consumedToUpload(limit: 10).count == 1)
        #expect(station.uplink.connectionStatus().lastError?.contains("institution_certificate_invalid") == true)
        await station.shutdown()
        try await other.stop()
        try await cloud.stop()
    }

    @Test("records and alerts refused with only a code come back as the cloud's refusal, not as unavailable")
    func minimalRecordsRefusal() async throws {
        let cloud = try await CloudHarness()
        let other = try await ScriptedCloud(directory: cloud.directory)
        let station = try await ForwardingStation(cloud, url: other.url)
        other.script(.records, .init(status: 410, body: #"{"code":"grant_expired"}"#))
        other.script(.alerts, .init(status: 403, body: #"{"code":"grant_not_yours","type":"urn:x","title":null}"#))
        do {
            _ = try await station.uplink.records(grant: "g", category: .labs, page: 1, pageSize: 20)
            Issue.record("served")
        } catch let error as CloudAccessError {
            guard case .refused(let problem) = error else { Issue.record("\(error)"); return }
            #expect(problem.code == .grantExpired && problem.status == 410)
        }
        do {
            _ = try await station.uplink.alerts(grant: "g", proposal: AlertRequest(prescriptions: [.init(atcCode: "B01AA03")]))
            Issue.record("served")
        } catch let error as CloudAccessError {
            guard case .refused(let problem) = error else { Issue.record("\(error)"); return }
            #expect(problem.code == .grantNotYours && problem.status == 403)
        }
        // No code: not the protocol's refusal, so unavailable.
        other.script(.records, .init(status: 404, body: "no such thing", contentType: "text/plain"))
        do {
            _ = try await station.uplink.records(grant: "g", category: .labs, page: 1, pageSize: 20)
            Issue.record("served")
        } catch let error as CloudAccessError {
            guard case .unavailable = error else { Issue.record("\(error)"); return }
        }
        await station.shutdown()
        try await other.stop()
        try await cloud.stop()
    }

    @Test("consent polling reads answers by what it needs: a state it does not know is asked again, a bare code ends it")
    func consentPolling() async throws {
        let cloud = try await CloudHarness()
        let other = try await ScriptedCloud(directory: cloud.directory)
        let station = try await ForwardingStation(cloud, url: other.url)
        try await station.installLists()
        let patient = cloud.patient()
        let token = try cloud.token(for: patient)
        func consent(_ id: String, _ state: String, token: String? = nil) -> ScriptedCloud.Answer {
            let now = cloud.clock.now
            let tokenMember = token.map { #","token":"\#($0)""# } ?? ""
            return .init(
                status: 200,
                body:
                    #"{"id":"\#(id)","institution":"\#(station.institution.code)","patient":"A12****789","setting":"telemedicine","state":"\#(state)","requestedAt":\#(now),"expiresAt":\#(now + 600)\#(tokenMember),"extra":true}"#,
                contentType: "application/json")
        }
        let events = station.service.events.subscribe()
        // Pending, a state this station does not know (asked again), then approved with the token.
        other.script(.consentRequest, consent("c1", "pending"))
        other.script(
            .consentPoll, [consent("c1", "pending"), consent("c1", "on_hold"), consent("c1", "approved", token: token)])
        let asked = try await station.service.requestConsent(patientID: patient.id, setting: .telemedicine)
        #expect(asked.id == "c1")
        var opened: StationEvent?
        for await event in events where event.type == .sessionOpened || event.type == .consentExpired {
            opened = event
            break
        }
        #expect(opened?.type == .sessionOpened)
        let session = try #require(try station.service.sessions.list().first)
        #expect(session.source == "consent")
        #expect(other.requests(.consentPoll) == 3)

        // A refusal with only a code: the consent ends with it.
        let more = station.service.events.subscribe()
        other.script(.consentRequest, consent("c2", "pending"))
        other.script(.consentPoll, .init(status: 404, body: #"{"code":"consent_unknown"}"#))
        _ = try await station.service.requestConsent(patientID: patient.id, setting: .telemedicine)
        var ended: StationEvent?
        for await event in more where event.type == .consentRefused || event.type == .consentExpired {
            ended = event
            break
        }
        #expect(ended?.code?.rawValue == "consent_unknown")
        await station.shutdown()
        try await other.stop()
        try await cloud.stop()
    }

    @Test("the affiliation check at login: the sandbox confirms or refuses; a cloud without it leaves it unchecked")
    func affiliationCheck() async throws {
        let cloud = try await CloudHarness()
        let station = try await ForwardingStation(cloud)
        let affiliated = try await station.credential(cloud.practitioner(at: station.institution.code))
        #expect(await station.uplink.checkAffiliation(certificate: affiliated.certificate) == .confirmed)
        let stranger = try await station.credential(cloud.unaffiliated)
        guard case .refused(let code, let detail) = await station.uplink.checkAffiliation(certificate: stranger.certificate)
        else {
            Issue.record("not refused")
            return
        }
        #expect(code == "practitioner_not_affiliated" && !detail.contains(cloud.unaffiliated.id))
        let institution = try cloud.directory.loadCertificate(cloud.directory.institutionCertificate(station.institution.code))
        guard case .refused(let invalid, _) = await station.uplink.checkAffiliation(certificate: institution.derBytes) else {
            Issue.record("an institution's certificate passed as a practitioner's")
            return
        }
        #expect(invalid == "practitioner_certificate_invalid")
        #expect(try await cloud.auditDetails(.affiliationChecked).count == 1)
        await station.shutdown()

        let other = try await ScriptedCloud(directory: cloud.directory)
        let elsewhere = try await ForwardingStation(cloud, file: "other.sqlite", url: other.url)
        // No such route there (404 route_not_found), a server error, a yes with any body.
        guard case .unchecked = await elsewhere.uplink.checkAffiliation(certificate: affiliated.certificate) else {
            Issue.record("a cloud without the route decided the login")
            return
        }
        other.script(.affiliations, .init(status: 500, body: ""))
        guard case .unchecked = await elsewhere.uplink.checkAffiliation(certificate: affiliated.certificate) else {
            Issue.record("a failing cloud decided the login")
            return
        }
        other.script(.affiliations, .init(status: 200, body: "{}", contentType: "application/json"))
        #expect(await elsewhere.uplink.checkAffiliation(certificate: affiliated.certificate) == .confirmed)
        other.script(.affiliations, .init(status: 403, body: #"{"code":"practitioner_not_affiliated"}"#))
        guard case .refused = await elsewhere.uplink.checkAffiliation(certificate: affiliated.certificate) else {
            Issue.record("a minimal refusal was not read")
            return
        }
        await elsewhere.shutdown()
        try await other.stop()
        try await cloud.stop()
    }

    @Test("a refused practitioner is not silent: visit.unsigned with the code, the login ends, the refusal is kept")
    func practitionerRefusalIsSaid() async throws {
        let cloud = try await CloudHarness()
        let station = try await ForwardingStation(cloud)
        await station.services.syncLists()
        // Logged in past the check (as with a cloud that offers none): the first opening tells.
        _ = try station.service.login(try await station.credential(cloud.unaffiliated))
        let events = station.service.events.subscribe()
        let id = try #require(try station.scan(cloud.patient()).session?.id)
        await station.uplink.flush(timeout: .seconds(10))
        let waiting = try #require(try station.service.sessions.session(id: id))
        #expect(waiting.cloud?.state == .awaitingPractitioner && waiting.cloud?.refusal == "practitioner_not_affiliated")
        #expect(station.service.desk.credential(at: cloud.clock.now) == nil)
        let refusal = try #require(station.service.desk.refusal)
        #expect(refusal.code == "practitioner_not_affiliated" && refusal.practitioner.id == TaiwanID.masked(cloud.unaffiliated.id))
        let logout = try #require(try station.service.audit.entries().last { $0.kind == "practitioner.logged_out" })
        #expect(logout.detail.contains("practitioner_not_affiliated"))
        // The next scan waits for a practitioner rather than being signed and refused again.
        #expect(try station.scan(cloud.patient(photo: .none)).session?.cloud?.state == .awaitingPractitioner)
        station.service.events.finish()
        var unsigned: StationEvent?
        var loggedOut: StationEvent?
        for await event in events {
            if event.type == .visitUnsigned { unsigned = event }
            if event.type == .practitionerLoggedOut { loggedOut = event }
        }
        #expect(unsigned?.code?.rawValue == "practitioner_not_affiliated" && unsigned?.session?.id == id)
        #expect(unsigned?.source == PersonName.masked(cloud.unaffiliated.name))
        #expect(loggedOut?.code?.rawValue == "practitioner_not_affiliated")
        // A login clears the refusal.
        try await station.loginAffiliated()
        #expect(station.service.desk.refusal == nil)
        await station.shutdown()
        try await cloud.stop()
    }

    @Test("an opening the cloud never answers is given up after give_up_hours: marked, audited, its token wiped")
    func undeliverableAfterTheGiveUpTime() async throws {
        let cloud = try await CloudHarness()
        let station = try await ForwardingStation(cloud, giveUpSeconds: 3600)
        await station.services.syncLists()
        try await station.loginAffiliated()
        await cloud.cut()
        let events = station.service.events.subscribe()
        let signed = try #require(try station.scan(cloud.patient()).session?.id)
        await station.uplink.flush(timeout: .seconds(10))
        _ = try station.service.logout()
        let waiting = try #require(try station.scan(cloud.patient(photo: .none)).session?.id)
        #expect(try station.service.outbox.backlog().outbox == 1)
        #expect(try station.service.outbox.backlog().awaitingPractitioner == 1)

        // Not yet: nothing is given up before the time.
        cloud.clock.advance(by: 1800)
        await station.uplink.flush(timeout: .seconds(10))
        #expect(try station.service.outbox.backlog().undeliverable == 0)

        cloud.clock.advance(by: 1801)
        await station.uplink.flush(timeout: .seconds(10))
        let backlog = try station.service.outbox.backlog()
        #expect(backlog.outbox == 0 && backlog.awaitingPractitioner == 0 && backlog.undeliverable == 2)
        #expect(backlog.lastUndeliverableError != nil && backlog.lastUndeliverableAt == cloud.clock.now)
        for id in [signed, waiting] {
            let session = try #require(try station.service.sessions.session(id: id))
            #expect(session.cloud?.state == .undeliverable && session.state != .active)
        }
        let given = try station.service.audit.entries().filter { $0.kind == "visit.undeliverable" }
        #expect(given.count == 2 && given.contains { $0.detail.contains("cannot reach") })
        station.service.outbox.scrubLog()
        #expect(!(try station.storedText()).contains("VHC1:"))
        // Used here, never opened at the cloud: both go to the consumed-id upload.
        #expect(try station.service.outbox.consumedToUpload(limit: 10).count == 2)
        station.service.events.finish()
        var undeliverable: [StationEvent] = []
        for await event in events where event.type == .visitUndeliverable { undeliverable.append(event) }
        #expect(Set(undeliverable.compactMap { $0.session?.id }) == [signed, waiting])
        await station.shutdown()
    }
}
