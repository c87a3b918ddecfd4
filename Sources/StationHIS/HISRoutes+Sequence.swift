import CloudProtocol
import Foundation
import Hummingbird
import Station
import StationModels
import VirtualCard

/// The registration's sequence-number calls: the signature bundles made with the institution's
/// credential, the cloud's visit sequence for the visit the HIS registered, and the registration's
/// cancellation (docs/his-compatibility.md).
extension HISRoutes {
    /// How long `SequelNumber/Next` waits for the cloud's answer to the visit's opening, as the scan
    /// route does.
    static let cloudWait: Duration = .seconds(3)

    func samSignature(_ request: Request) async throws -> Response {
        guard let signer else { return try Self.answer(Self.noCredential) }
        let serviceType = try await Self.body(request, as: HISSignatureRequest.self)?.serviceType ?? "01"
        let random = HISInstitutionSigner.clientRandom()
        let signature = try await Blocking.run {
            try signer.sign([serviceType, signer.hospitalId, signer.samId, random])
        }
        return try Self.answer(
            HISSamSignatureAnswer(
                statusCode: .success, clientRandom: random, hospitalId: signer.hospitalId, samId: signer.samId,
                signature: signature))
    }

    func cardSignature(_ request: Request) async throws -> Response {
        guard let signer else { return try Self.answer(Self.noCredential) }
        let serviceType = try await Self.body(request, as: HISSignatureRequest.self)?.serviceType ?? "03"
        let desk = desk
        guard let session = try await Blocking.run({ try desk.registration() }) else {
            return try Self.answer(HISPlainAnswer(.tokenMissing, "no card registered: call Verification/VirtualHc first"))
        }
        if let ended = Self.ended(session) { return try Self.answer(ended) }
        let random = HISInstitutionSigner.clientRandom()
        let cardID = session.cloud?.cardNumber ?? ""
        let signature = try await Blocking.run {
            try signer.sign([serviceType, signer.hospitalId, signer.samId, random, cardID, session.holderID])
        }
        return try Self.answer(
            HISCardSignatureAnswer(
                statusCode: .success, clientRandom: random, hospitalId: signer.hospitalId, samId: signer.samId,
                signature: signature, hcId: cardID, hcIdNo: session.holderID))
    }

    /// The visit's sequence number: the bundle must be this station's over the visit being registered; the
    /// answer waits for the cloud as a scan does, and says when it has not answered yet.
    func nextSequence(_ request: Request) async throws -> Response {
        guard let signer else { return try Self.answer(Self.noCredential) }
        let asked = try await Self.requiredBody(
            request, as: HISSequenceRequest.self, missing: "send the Signature/Hc bundle")
        let lines = [
            asked.serviceType ?? "03", asked.hospitalId, asked.samId, asked.clientRandom, asked.hcId ?? "", asked.hcIdNo,
        ]
        guard asked.hospitalId == signer.hospitalId, signer.verifies(asked.signature, over: lines) else {
            return try Self.answer(HISPlainAnswer(.bundleNotOurs, "the signature bundle is not this station's"))
        }
        let (service, desk) = (service, desk)
        guard let registered = try await Blocking.run({ try desk.registration() }), registered.holderID == asked.hcIdNo
        else {
            return try Self.answer(HISPlainAnswer(.tokenMissing, "no visit of this holder is being registered"))
        }
        var latest = registered
        if registered.cloud?.state == .pendingCloud, let uplink = service.uplink {
            await uplink.flush(timeout: Self.cloudWait)
            latest = try await Blocking.run { try service.reread(sessionID: registered.id) } ?? registered
        }
        let session = latest
        if let ended = Self.ended(session) { return try Self.answer(ended) }
        guard let cloud = session.cloud, let sequence = cloud.visitSequence, cloud.state == .forwarded else {
            return try Self.answer(Self.unnumbered(session.cloud, forwarding: service.uplink != nil))
        }
        let sameDay = try await Blocking.run {
            let day = CalendarDate(taipeiDateAt: session.openedAt)
            return try service.sessions.list(holderID: session.holderID).contains {
                $0.id != session.id && $0.openedAt <= session.openedAt && CalendarDate(taipeiDateAt: $0.openedAt) == day
            }
        }
        let when = Self.rocDateTime(session.openedAt)
        let signature = try await Blocking.run {
            try signer.sign([signer.hospitalId, signer.samId, when, sequence, session.holderID])
        }
        // The visit is open and numbered either way; a suspended insurance is the HIS's to handle (self-pay).
        let suspended = session.cloud?.insuranceStatus == InsuranceStatus.suspended.rawValue
        return try Self.answer(
            HISSequenceAnswer(
                statusCode: suspended ? .insuranceSuspended : .success, treatmentDateTime: when, sequenceNumber: sequence, hospitalId: signer.hospitalId,
                signature: signature, samId: signer.samId, isSameDay: sameDay,
                treatmentNumber: session.cloud?.treatmentNumber ?? "",
                message: suspended ? "the patient's insurance is suspended (停保): the visit is open and numbered" : nil))
    }

    /// 退掛: the registered visit whose `treatmentDateTime` this is, closed with `registration_cancelled`.
    func rollback(_ request: Request) async throws -> Response {
        let when = try await Self.requiredBody(
            request, as: HISRollbackRequest.self, missing: "send the treatmentDateTime"
        ).treatmentDateTime
        let (service, desk) = (service, desk)
        return try Self.answer(
            try await Blocking.run {
                guard let session = try desk.registration(), Self.rocDateTime(session.openedAt) == when else {
                    return HISPlainAnswer(.tokenMissing, "no registered visit at \(when)")
                }
                guard session.state.isOpen else { return HISPlainAnswer(.visitEnded, "the visit has ended already") }
                _ = try service.close(sessionID: session.id, reason: .registrationCancelled)
                return HISPlainAnswer(.success)
            })
    }

    /// Why an ended visit is no longer the HIS's to register: the cloud refused it (a code another station
    /// used…: its own number), or it was closed, rolled back, superseded or expired (9007); nil while open.
    static func ended(_ session: VisitSession) -> HISPlainAnswer? {
        guard !session.state.isOpen else { return nil }
        if let cloud = session.cloud, cloud.state == .refused { return unnumbered(cloud, forwarding: true) }
        return HISPlainAnswer(.visitEnded, "the visit has ended (\(session.closeReason?.rawValue ?? session.state.rawValue))")
    }

    /// Why a registered visit has no sequence number: the cloud's state of it, in the console's words.
    static func unnumbered(_ cloud: CloudVisit?, forwarding: Bool) -> HISPlainAnswer {
        guard forwarding, let cloud else { return HISPlainAnswer(.noCloud, "the station forwards to no cloud: no sequence number") }
        switch cloud.state {
        case .forwarded, .pendingCloud:
            return HISPlainAnswer(.cloudPending, "the cloud has not opened the visit yet: ask again")
        case .awaitingPractitioner:
            // The cloud may have refused the practitioner who signed (not affiliated, a certificate refused).
            let refused = cloud.refusal.map { " (the cloud refused the last signature: \($0))" } ?? ""
            return HISPlainAnswer(
                .practitionerMissing, "the visit's opening waits for a practitioner's signature\(refused): a practitioner signs in")
        case .undeliverable:
            return HISPlainAnswer(.cloudUnavailable, "the cloud never answered: the visit was given up as undeliverable")
        case .refused:
            let code = cloud.refusal ?? "cloud_refused"
            return HISPlainAnswer(HISStatusCode(cloudRefusal: code), "the cloud refused the visit (\(code))")
        }
    }

    static let noCredential = HISPlainAnswer(
        .noCredential, "the station has no institution credential (cloud.url is not set)")

    /// ROC `yyyMMddHHmmss` of `epoch`, in Asia/Taipei (UTC+8, no daylight saving).
    package static func rocDateTime(_ epoch: Int64) -> String {
        let date = CalendarDate(taipeiDateAt: epoch)
        let seconds = Int((epoch + 8 * 3600) % 86_400 + 86_400) % 86_400
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return HISBasicAnswer.rocDate(date) + two(seconds / 3600) + two(seconds / 60 % 60) + two(seconds % 60)
    }
}
