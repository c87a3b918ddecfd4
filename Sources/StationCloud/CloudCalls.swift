import CloudClient
import CloudProtocol
import Foundation
import Station
import VirtualCard
import StationModels

/// What the station asks of the cloud while someone waits, and how it reaches the outbox drain: the
/// `CloudUplink` the station is given. It holds the client and the link's shared parts, never the
/// station.
package final class CloudCalls: CloudUplink {
    let client: CloudClient
    let health: LinkHealth
    let drain: RunRequests
    let consents: ConsentQueue
    /// Where the institution's key is (`file`, `pkcs11`), for the status.
    let institutionKey: String

    init(
        client: CloudClient, health: LinkHealth, drain: RunRequests, consents: ConsentQueue, institutionKey: String
    ) {
        self.client = client
        self.health = health
        self.drain = drain
        self.consents = consents
        self.institutionKey = institutionKey
    }

    package func wake() { drain.wake() }

    package func flush(timeout: Duration) async { await drain.flush(timeout: timeout) }

    package func connectionStatus() -> CloudStatus {
        var status = health.status
        status.institutionKey = institutionKey
        return status
    }

    // MARK: - Records and alerts for a forwarded visit

    package func records(grant: String, category: RecordCategory, page: Int, pageSize: Int) async throws -> CategoryPage {
        let path =
            "/v1/visits/\(URLComponentText.escape(grant))/records/\(category.rawValue)?page=\(page)&pageSize=\(pageSize)"
        let reply = try await health.retrying { try await self.client.send(.GET, path) }
        return try CloudReply.decode(reply) { try CategoryPage(category: category, json: $0) }
    }

    package func alerts(grant: String, proposal: AlertRequest) async throws -> AlertAnswer {
        let body = Array(try JSONEncoder().encode(proposal))
        // Checking alerts changes nothing at the cloud but its audit: safe to send again.
        let reply = try await health.retrying {
            try await self.client.send(.POST, "/v1/visits/\(URLComponentText.escape(grant))/alerts", body: body)
        }
        return try CloudReply.decode(reply, as: AlertAnswer.self)
    }

    // MARK: - Remote consent

    package func requestConsent(patientID: String, setting: CareSetting) async throws -> Consent {
        let body = Array(try JSONEncoder().encode(ConsentRequest(patientId: patientID, setting: setting)))
        // Not retried: a second request would ask the patient twice.
        let reply = try await health.once { try await self.client.send(.POST, "/v1/consents", body: body) }
        return try CloudReply.decode(reply, as: Consent.self)
    }

    package func follow(_ consent: Consent, patient: String) { consents.follow(consent, patient: patient) }

    package func cancelConsent(id: String) async throws {
        let reply = try await client.send(.DELETE, "/v1/consents/\(URLComponentText.escape(id))")
        // Withdrawn is a 2xx: its body (the request as the cloud now has it) is not needed, so a cloud that
        // answers it in another shape, or with members this station does not know, still withdrew it.
        try CloudReply.decode(reply) { _ in () }
    }

    // MARK: - A practitioner's affiliation, at login

    package func checkAffiliation(certificate: [UInt8]) async -> AffiliationCheck.Outcome {
        let reply: CloudClient.Reply
        do {
            let body = Array(try JSONEncoder().encode(AffiliationCheck(certificate: certificate)))
            // One try: a person is waiting, and the first opening will tell anyway.
            reply = try await health.once { try await self.client.send(.POST, "/v1/affiliations", body: body) }
        } catch {
            return .unchecked("the cloud cannot be reached")
        }
        return Self.affiliation(reply)
    }

    /// A yes is any 2xx; a no is a refusal the opening itself would get. Anything else (404 or 405 from
    /// a cloud without the extension, a server error) leaves the login unchecked: an extension the
    /// protocol does not define must never stop a station.
    static func affiliation(_ reply: CloudClient.Reply) -> AffiliationCheck.Outcome {
        if (200..<300).contains(reply.status) { return .confirmed }
        if (400..<500).contains(reply.status), let problem = CloudProblem(body: reply.body, httpStatus: reply.status),
            [.practitionerCertificateInvalid, .practitionerNotAffiliated, .requestSignatureInvalid].contains(
                problem.code)
        {
            return .refused(code: problem.code.rawValue, detail: String(problem.detail.prefix(240)))
        }
        return .unchecked("the cloud does not check affiliations (it answered \(reply.status))")
    }
}
