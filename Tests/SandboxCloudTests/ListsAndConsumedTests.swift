import CloudProtocol
import Crypto
import Foundation
import NIOHTTP1
import SandboxCloud
import Testing
import VirtualCard

/// Lists with ETags and rising sequences (§7), consumed-id uploads, audit heads, and a restart that
/// keeps everything.
@Suite(.serialized) struct ListsAndConsumedTests {
    @Test func listsCarryAStrongETagAndAnswer304() async throws {
        let cloud = try await CloudHarness()
        let root = try P256.Signing.PublicKey(pemRepresentation: try cloud.directory.read(cloud.directory.trustRoot))
        try await withClient(try cloud.client(identity: nil)) { client in
            let trust = try await cloud.request(client, .GET, "/v1/trust-list")
            #expect(trust.status == 200)
            #expect(trust.headers["Content-Type"].first == "application/cose")
            let etag = try #require(trust.headers["ETag"].first)
            #expect(etag.hasPrefix("\"") && !etag.hasPrefix("W/"))
            let list = try TrustList(cose: Array(trust.body), root: root)
            #expect(list.issuer == cloud.manifest.issuer)

            let unchanged = try await cloud.request(client, .GET, "/v1/trust-list", headers: [("If-None-Match", etag)])
            #expect(unchanged.status == 304 && unchanged.body.isEmpty)
            #expect(unchanged.headers["ETag"].first == etag)
            let changed = try await cloud.request(
                client, .GET, "/v1/trust-list", headers: [("If-None-Match", "\"other\"")])
            #expect(changed.status == 200)

            let revocations = try await cloud.request(client, .GET, "/v1/revocations")
            #expect(revocations.status == 200)
            _ = try RevocationList(cose: Array(revocations.body), trustList: list)  // it verifies against the trust list

            // Another method on a known path: 405 with Allow; an unknown path: 404.
            for (method, path, allow) in [
                (HTTPMethod.DELETE, "/v1/trust-list", "GET"), (.PUT, "/v1/health", "GET"),
                (.PUT, "/v1/app/delegations/00", "DELETE"),
            ] {
                let wrong = try await cloud.request(client, method, path)
                #expect(wrong.status == 405 && wrong.code == "method_not_allowed", "\(method) \(path)")
                #expect(wrong.headers["Allow"].first == allow, "\(method) \(path)")
            }
            let nowhere = try await cloud.request(client, .GET, "/v1/nowhere")
            #expect(nowhere.status == 404 && nowhere.code == "route_not_found")
            // Under /v1/visits (§2) the certificate comes first, for routes that exist or not.
            for (method, path) in [
                (HTTPMethod.GET, "/v1/visits"), (.GET, "/v1/visits/x/unknown"), (.POST, "/v1/consumed/x"),
            ] {
                let anonymous = try await cloud.request(client, method, path)
                #expect(anonymous.status == 401 && anonymous.code == "client_certificate_missing", "\(path)")
            }

            // Past the renewal point the cloud signs new lists with higher sequence numbers.
            try await cloud.stop()
            cloud.clock.advance(by: 5 * 86_400)
            try await cloud.start()
        }
        try await withClient(try cloud.client(identity: nil)) { client in
            let trust = try await cloud.request(client, .GET, "/v1/trust-list")
            let list = try TrustList(cose: Array(trust.body), root: root)
            #expect(list.sequence == 2)
            #expect(list.problem(at: cloud.clock.now, heldSequence: 1) == nil)
            let revocations = try await cloud.request(client, .GET, "/v1/revocations")
            #expect(try RevocationList(cose: Array(revocations.body), trustList: list).sequence >= 2)
        }
        try await cloud.stop()
    }

    @Test func consumedUploadsAnswerDoubleUseAndBlockLaterOpenings() async throws {
        let cloud = try await CloudHarness()
        let first = cloud.everySetting, second = cloud.homeCareOnly
        let usedOnline = try cloud.token(for: cloud.patient())
        let offline = try cloud.token(for: cloud.patient(photo: .none))
        let verifier = try await cloud.verifier()
        let usedID = try #require(try verifier.verify(usedOnline, at: cloud.clock.now).claims?.tokenID)
        let offlineID = try #require(try verifier.verify(offline, at: cloud.clock.now).claims?.tokenID)

        try await withClient(try cloud.client(identity: try cloud.credential(institution: first.code))) { client in
            let (_, body) = try cloud.opening(
                token: usedOnline, institution: first.code, practitioner: cloud.practitioner(at: first.code).id)
            #expect(try await cloud.request(client, .POST, "/v1/visits", body: body).status == 201)
        }
        try await withClient(try cloud.client(identity: try cloud.credential(institution: second.code))) { client in
            let upload = ConsumedUpload(
                tokenIds: [Hex.encode(usedID), Hex.encode(offlineID)], consumedAt: [cloud.clock.now, cloud.clock.now])
            let reply = try await cloud.post(client, "/v1/consumed", json: upload)
            #expect(reply.status == 200)
            let answer = try reply.decode(ConsumedAnswer.self)
            #expect(answer.doubleUse.map(\.tokenId) == [Hex.encode(usedID)])
            #expect(answer.doubleUse.first?.firstInstitution == first.code)
            // The same upload again (a retry): only the id consumed elsewhere is double use; this
            // institution's own is not. Ids come back as they were sent, upper case included.
            let again = try await cloud.post(client, "/v1/consumed", json: upload).decode(ConsumedAnswer.self)
            #expect(again.doubleUse.map(\.tokenId) == [Hex.encode(usedID)])
            let upper = ConsumedUpload(tokenIds: [Hex.encode(usedID).uppercased()], consumedAt: [cloud.clock.now])
            let shouted = try await cloud.post(client, "/v1/consumed", json: upper).decode(ConsumedAnswer.self)
            #expect(shouted.doubleUse.map(\.tokenId) == [Hex.encode(usedID).uppercased()])
            // Bad uploads.
            let uneven = try await cloud.post(
                client, "/v1/consumed", json: ConsumedUpload(tokenIds: [Hex.encode(usedID)], consumedAt: []))
            #expect(uneven.status == 400 && uneven.code == "request_malformed")
            let notHex = try await cloud.post(
                client, "/v1/consumed", json: ConsumedUpload(tokenIds: ["zz"], consumedAt: [1]))
            #expect(notHex.status == 400 && notHex.code == "request_malformed")
            let garbage = try await cloud.request(
                client, .POST, "/v1/consumed", body: Array("{".utf8), contentType: "application/json")
            #expect(garbage.status == 400 && garbage.code == "request_malformed")
        }
        // A token consumed offline cannot open a visit online afterwards.
        try await withClient(try cloud.client(identity: try cloud.credential(institution: first.code))) { client in
            let (_, body) = try cloud.opening(
                token: offline, institution: first.code, practitioner: cloud.practitioner(at: first.code).id)
            let reply = try await cloud.request(client, .POST, "/v1/visits", body: body)
            #expect(reply.status == 409 && reply.code == "token_replayed")
        }
        try await cloud.stop()
    }

    @Test func aRestartLosesNothing() async throws {
        let cloud = try await CloudHarness()
        let institution = cloud.everySetting
        let practitioner = cloud.practitioner(at: institution.code)
        let token = try cloud.token(for: cloud.patient())
        let (_, body) = try cloud.opening(token: token, institution: institution.code, practitioner: practitioner.id)
        let identity = try cloud.credential(institution: institution.code)
        let grant = try await withClient(try cloud.client(identity: identity)) { client in
            let head = AuditHeadUpload(station: "front-desk-1", sequence: 42, hash: String(repeating: "0a", count: 32))
            #expect(try await cloud.post(client, "/v1/audit-heads", json: head).status == 201)
            return try await cloud.request(client, .POST, "/v1/visits", body: body).decode(VisitGrant.self)
        }
        try await cloud.stop()
        try await cloud.start()
        try await withClient(try cloud.client(identity: identity)) { client in
            // The same request: the same grant, from the database.
            let again = try await cloud.request(client, .POST, "/v1/visits", body: body)
            #expect(again.status == 200)
            #expect(try again.decode(VisitGrant.self) == grant)
            // The token stays consumed, the grant usable, the sequence counting on, the head kept.
            let (_, replay) = try cloud.opening(
                token: token, institution: institution.code, practitioner: practitioner.id)
            #expect(try await cloud.request(client, .POST, "/v1/visits", body: replay).code == "token_replayed")
            #expect(try await cloud.request(client, .GET, "/v1/visits/\(grant.grant)").status == 200)
            let (_, next) = try cloud.opening(
                token: try cloud.token(for: cloud.patient()), institution: institution.code,
                practitioner: practitioner.id)
            #expect(
                try await cloud.request(client, .POST, "/v1/visits", body: next).decode(VisitGrant.self).visitSequence
                    == "0002")
            let heads = try await cloud.request(client, .GET, "/v1/audit-heads?station=front-desk-1")
            #expect(try heads.decode(AuditHeadList.self).heads.map(\.sequence) == [42])
        }
        try await cloud.stop()
        // The cloud's own audit chain is intact and holds the openings.
        let store = try SQLiteCloudStore(path: cloud.directory.database)
        let audit = try await store.verifyAudit()
        #expect(audit.intact && audit.rows >= 4)
    }

    @Test func concurrentOpeningsOfOneTokenConsumeItOnce() async throws {
        let cloud = try await CloudHarness()
        let institution = cloud.everySetting
        let practitioner = cloud.practitioner(at: institution.code)
        let token = try cloud.token(for: cloud.patient())
        let bodies = try (0..<20).map { _ in
            try cloud.opening(token: token, institution: institution.code, practitioner: practitioner.id).body
        }
        let statuses = try await withClient(
            try cloud.client(identity: try cloud.credential(institution: institution.code))
        ) {
            client in
            try await withThrowingTaskGroup(of: Int.self) { group in
                for body in bodies {
                    group.addTask { try await cloud.request(client, .POST, "/v1/visits", body: body).status }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
        }
        #expect(statuses.filter { $0 == 201 }.count == 1)
        #expect(statuses.filter { $0 == 409 }.count == 19)
        try await cloud.stop()
    }
}

extension CloudHarness {
    /// A verifier over the lists the cloud serves, to read token ids in tests.
    func verifier() async throws -> TokenVerifier {
        let store = try SQLiteCloudStore(path: directory.database)
        let root = try P256.Signing.PublicKey(pemRepresentation: try directory.read(directory.trustRoot))
        return TokenVerifier(
            root: root, trustList: try #require(try await store.currentList(.trust)).cose,
            revocationList: try await store.currentList(.revocation)?.cose)
    }
}
