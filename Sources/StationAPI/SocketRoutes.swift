import CloudProtocol
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RecordsFHIR
import Station
import StationModels
import VirtualCard

/// What only the Unix socket serves (its file mode is the permission): the practitioner's login and
/// logout (the card's key never crosses the TCP listener), the clock's reset, and the page's sign-in
/// links.
extension Routes {
    func socketRoutes(web: WebSignIns?) -> RouteCollection<StationRequestContext> {
        let routes = RouteCollection(context: StationRequestContext.self)
        routes.post("/v1/clock/reset") { request, context in try await self.resetClock(request, context) }
        routes.post("/v1/practitioner/login") { request, context in try await self.login(request, context) }
        routes.post("/v1/practitioner/logout") { _, _ in try await self.logout() }
        routes.post("/v1/web/links") { _, context in try await Blocking.run { try self.webLink(web, context) } }
        return routes
    }

    /// `POST /v1/practitioner/login`: the certificate is checked against the cloud's CA and the key
    /// against the certificate; the credential stays in memory for the shift.
    func login(_ request: Request, _ context: StationRequestContext) async throws -> Response {
        guard let rules = service.logins else { throw Problem.cloudNotConfigured }
        let asked = try await Self.decodeJSON(LoginRequest.self, request, context)
        let shift =
            try asked.shiftHours.map { hours -> Int64 in
                guard hours.isFinite, hours > 0, hours <= 24 else {
                    throw Problem.badRequest("shiftHours must be from 0 to 24")
                }
                return Int64(hours * 3600)
            } ?? rules.shiftSeconds
        let now = service.clock()
        let credential = try await credential(asked, rules: rules, now: now, until: now + shift)
        // Asked before the desk is taken, so a practitioner the cloud would refuse signs nothing.
        let affiliation =
            await service.uplink?.checkAffiliation(certificate: credential.certificate)
            ?? .unchecked("the station forwards to no cloud")
        let service = service
        if case .refused(let code, let detail) = affiliation {
            try await Blocking.run { try service.loginRefused(credential, code: code) }
            throw Problem(
                status: .forbidden, code: APIErrorCode(rawValue: code),
                title: "The cloud refuses this practitioner for this institution",
                detail: "\(credential.status.name) (\(credential.status.id)): \(detail.isEmpty ? code : detail)")
        }
        let signed = try await Blocking.run { try service.login(credential) }
        if signed > 0, let uplink = service.uplink { await uplink.flush(timeout: Self.cloudWait) }
        var answer = LoginResponse(practitioner: credential.status, signed: signed, affiliation: .confirmed)
        if case .unchecked(let why) = affiliation {
            answer.affiliation = .unchecked
            answer.affiliationNote = why
        }
        return try json(answer)
    }

    /// The login's credential: a key file's (certificate and key), or a card's (its URI and PIN, the
    /// certificate from the request or the card), checked against the cloud's CA.
    private func credential(
        _ asked: LoginRequest, rules: StationService.LoginRules, now: Int64, until: Int64
    ) async throws -> PractitionerCredential {
        func refused(_ error: PractitionerCredential.Invalid) -> Problem {
            Problem(
                status: .unprocessableContent, code: .credentialInvalid, title: "The practitioner credential is refused",
                detail: error.description)
        }
        switch (asked.key, asked.pkcs11) {
        case (let key?, nil):
            guard let certificate = asked.certificate else { throw Problem.badRequest("certificate is required with key") }
            do {
                return try await PractitionerCredential(
                    certificatePEM: certificate, keyPEM: key, authority: rules.authority, now: now, until: until)
            } catch { throw refused(error) }
        case (nil, let uri?):
            guard let reader = service.cards else {
                throw Problem(
                    status: .conflict, code: APIErrorCode(rawValue: "cards_not_configured"),
                    title: "The station takes no cards", detail: "this daemon has no PKCS#11 reader")
            }
            guard let pin = asked.pin, !pin.isEmpty else { throw Problem.badRequest("pin is required with pkcs11") }
            let card: any PractitionerCard
            do {
                card = try await Blocking.run { [module = asked.module] in
                    try reader.open(uri: uri, module: module, pin: Array(pin.utf8))
                }
            } catch let error as CardError {
                if error.code == "pin_incorrect" || error.code == "pin_locked" {
                    let service = service
                    try await Blocking.run { try service.cardLoginRefused(error) }
                }
                throw Problem.card(error)
            }
            do {
                return try await PractitionerCredential(
                    card: card, certificatePEM: asked.certificate, authority: rules.authority, now: now, until: until)
            } catch {
                card.close()
                throw refused(error)
            }
        default:
            throw Problem.badRequest("give either key (with certificate) or pkcs11 (with pin)")
        }
    }

    func logout() async throws -> Response {
        let service = service
        _ = try await Blocking.run { try service.logout() }
        return try json(LoginResponse(practitioner: nil, signed: 0))
    }

    /// `POST /v1/web/links` (Unix socket): a one-time sign-in link for the page; audited.
    func webLink(_ web: WebSignIns?, _ context: StationRequestContext) throws -> Response {
        guard let web else {
            throw Problem(
                status: .conflict, code: .webNotConfigured, title: "The station serves no page",
                detail: "the page is served on the loopback TCP listener: set api.tcp and api.token_file")
        }
        let link = web.issueLink()
        try service.recordWebLink(client: context.client, expiresAt: link.expiresAt)
        return try json(link)
    }
    /// The operator's way out of a wrong clock mark (docs/openapi.yaml); audited with their name.
    func resetClock(_ request: Request, _ context: StationRequestContext) async throws -> Response {
        let asked = try await Self.decodeJSON(ClockResetRequest.self, request, context)
        guard let name = OperatorName.validated(asked.operator) else {
            throw Problem.badRequest("operator must be 1 to 64 characters, no control characters")
        }
        let service = service
        let reset = try await Blocking.run { try service.resetClock(operator: name) }
        return try json(ClockResetResponse(previousHighWater: reset.previous, highWater: reset.highWater))
    }

}
