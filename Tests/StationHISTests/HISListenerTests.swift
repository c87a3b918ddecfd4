import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Station
import StationHIS
import StationModels
import StationTestSupport
import Synchronization
import TestSupport
import Testing
import Crypto
import VirtualCard
import Yams

/// The compatibility listener (issue 24) as HIS code calls it: the console's paths and shapes, every answer
/// HTTP 200 with a `statusCode`.
@Suite("HIS compatibility listener: the card control software's calls, answered by the station")
struct HISListenerTests {
    final class Fixture: Sendable {
        let folder = try! TemporaryFolder(prefix: "vhc-his")
        let authority = TestAuthority()
        let clock = Clock()
        let service: StationService
        let desk: HISDesk

        init(presentSeconds: Int64 = 120) throws {
            let policy = try authority.station(in: folder)
            let clock = clock
            service = StationService(policy: policy, clock: { clock.now })
            desk = HISDesk(service: service, presentSeconds: presentSeconds)
        }

        func app(bearerToken: String? = nil) -> some ApplicationProtocol {
            Application(router: HISRoutes.router(desk: desk, bearerToken: bearerToken, logger: Logger(label: "his-test")))
        }

        func advance(_ seconds: Int64) { clock.advance(seconds) }

        final class Clock: Sendable {
            private let value = Mutex<Int64>(TestAuthority.now)
            var now: Int64 { value.withLock { $0 } }
            func advance(_ seconds: Int64) { value.withLock { $0 += seconds } }
        }
    }

    /// One call: HTTP 200 always; the answer as JSON.
    static func call(
        _ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ path: String, _ body: String? = nil,
        headers: HTTPFields = [:]
    ) async throws -> [String: Any] {
        try await client.execute(
            uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }
        ) { response in
            #expect(response.status == .ok, "\(method) \(path): HTTP \(response.status)")
            #expect(response.headers[.contentType] == "application/json")
            return try #require(JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
        }
    }

    static func token(_ bytes: [UInt8]) -> String { #"{"token": "\#(String(decoding: bytes, as: UTF8.self))"}"# }

    @Test("Initial, Status, Finalize and Logout answer as the console: 0, then 1001 when already initialised")
    func lifecycle() async throws {
        let fixture = try Fixture()
        try await fixture.app().test(.router) { client in
            #expect(try await Self.call(client, .post, "/api/common/v1/Initial", "{}")["statusCode"] as? Int == 0)
            #expect(try await Self.call(client, .post, "/api/common/v1/Initial", "{}")["statusCode"] as? Int == 1001)
            let status = try await Self.call(client, .get, "/api/common/v1/Status", "{}")
            let readers = try #require(status["status"] as? [String: Any])
            #expect(status["statusCode"] as? Int == 0 && readers["initialized"] as? Bool == true)
            #expect((readers["hc"] as? [String: Any])?["status"] as? Int == 0, "no card in the reader")
            #expect((readers["sam"] as? [String: Any])?["status"] as? Int == 0, "a station without a cloud")
            #expect(try await Self.call(client, .delete, "/api/hc/v1/Logout", "{}")["statusCode"] as? Int == 0)
            #expect(try await Self.call(client, .post, "/api/common/v1/Finalize", "{}")["statusCode"] as? Int == 0)
            let after = try await Self.call(client, .get, "/api/common/v1/Status")
            #expect((after["status"] as? [String: Any])?["initialized"] as? Bool == false)
        }
    }

    @Test("ReadBasic reads a token's holder without consuming it; Verification consumes it; a second is 1020")
    func readThenVerify() async throws {
        let fixture = try Fixture()
        let token = try fixture.authority.token(holderID: "B223456782", name: "林美玲")
        try await fixture.app().test(.router) { client in
            for _ in 0..<2 {
                let basic = try await Self.call(client, .post, "/api/hc/v1/VirtualHc/ReadBasic", Self.token(token))
                #expect(basic["statusCode"] as? Int == 0 && basic["idNo"] as? String == "B223456782")
                #expect(basic["name"] as? String == "林美玲" && basic["birthday"] as? String == "0690517")
                #expect(basic["sex"] as? String == "F" && basic["cardId"] as? String == "")
            }
            let verified = try await Self.call(client, .post, "/api/hc/v1/Verification/VirtualHc", Self.token(token))
            #expect(verified["statusCode"] as? Int == 0)
            let again = try await Self.call(client, .post, "/api/hc/v1/Verification/VirtualHc", Self.token(token))
            #expect(again["statusCode"] as? Int == 1020, "the QR already used: \(again)")
            let read = try await Self.call(client, .post, "/api/hc/v1/VirtualHc/ReadBasic", Self.token(token))
            #expect(read["statusCode"] as? Int == 1020)
        }
        let session = try #require(try fixture.service.sessions.list().first)
        #expect(session.source == "his" && session.holderID == "B223456782")
        // Each read of a holder is audited, masked.
        let reads = try await DatabaseQueue(path: fixture.folder.path("station.sqlite")).read { db in
            try String.fetchAll(db, sql: "SELECT detail FROM audit_log WHERE kind = 'his.card_read'")
        }
        #expect(reads.count == 2 && reads.allSatisfy { $0.contains("B22****782") && !$0.contains("B223456782") })
    }

    @Test("the card in the reader: a visit the station's camera opened is read and taken with {}; then it is gone")
    func cardInReader() async throws {
        let fixture = try Fixture(presentSeconds: 120)
        try await fixture.app().test(.router) { client in
            let none = try await Self.call(client, .post, "/api/hc/v1/VirtualHc/ReadBasic", "{}")
            #expect(none["statusCode"] as? Int == 1023)
            _ = try fixture.service.submit(try fixture.authority.token(), source: "camera")
            let status = try await Self.call(client, .get, "/api/common/v1/Status")
            #expect(((status["status"] as? [String: Any])?["hc"] as? [String: Any])?["status"] as? Int == 1)
            let basic = try await Self.call(client, .post, "/api/hc/v1/VirtualHc/ReadBasic", "{}")
            #expect(basic["statusCode"] as? Int == 0 && basic["idNo"] as? String == "A123456789" && basic["sex"] as? String == "M")
            let taken = try await Self.call(client, .post, "/api/hc/v1/Verification/VirtualHc", "")
            #expect(taken["statusCode"] as? Int == 0)
            let gone = try await Self.call(client, .post, "/api/hc/v1/VirtualHc/ReadBasic", "{}")
            #expect(gone["statusCode"] as? Int == 1023, "taken: no longer in the reader")
            // A visit older than his.present_seconds is no card in the reader either.
            _ = try fixture.service.submit(try fixture.authority.token(holderID: "C123456781"), source: "camera")
            fixture.advance(121)
            let stale = try await Self.call(client, .post, "/api/hc/v1/Verification/VirtualHc", "{}")
            #expect(stale["statusCode"] as? Int == 1023)
        }
    }

    @Test("bad input is a statusCode answer: not JSON, a wrong type, a 100 KB token, a body on GET, unknown paths, the bearer")
    func badInput() async throws {
        let fixture = try Fixture()
        let path = "/api/hc/v1/Verification/VirtualHc"
        try await fixture.app(bearerToken: "his-token-0123456789").test(.router) { client in
            let bearer: HTTPFields = [.authorization: "Bearer his-token-0123456789"]
            let cases: [(HTTPRequest.Method, String, String?, Int)] = [
                (.post, path, "{not json", 9010), (.post, path, #"{"token": 5}"#, 9010), (.post, path, "[1, 2]", 9010),
                (.post, path, #"{"token": "\#(String(repeating: "A", count: 100_000))"}"#, 1520),
                (.post, path, #"{"token": "hello"}"#, 1520), (.post, path, "{}", 1023),
                (.get, "/api/common/v1/Status", #"{"anything": true}"#, 0),
                (.get, "/api/hc/v1/NoSuchCall", "{}", 9011), (.get, path, "{}", 9011), (.put, "/", nil, 9011),
            ]
            for (method, uri, body, expected) in cases {
                let answer = try await Self.call(client, method, uri, body, headers: bearer)
                #expect(answer["statusCode"] as? Int == expected, "\(method) \(uri) \(body?.prefix(30) ?? "")")
            }
            let anonymous = try await Self.call(client, .get, "/api/common/v1/Status")
            #expect(anonymous["statusCode"] as? Int == 9012)
            let wrong = try await Self.call(client, .get, "/api/common/v1/Status", headers: [.authorization: "Bearer nope"])
            #expect(wrong["statusCode"] as? Int == 9012)
        }
    }

    @Test("an expired token is 1523, a signature that does not verify 1522")
    func refusals() async throws {
        let fixture = try Fixture()
        let expired = try fixture.authority.token(issuedAt: TestAuthority.now - 600)
        var altered = try fixture.authority.token()
        altered[altered.count - 3] = altered[altered.count - 3] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        let forged = altered
        try await fixture.app().test(.router) { client in
            let late = try await Self.call(client, .post, "/api/hc/v1/VirtualHc/ReadBasic", Self.token(expired))
            #expect(late["statusCode"] as? Int == 1523 && (late["message"] as? String)?.isEmpty == false)
            let altered = try await Self.call(client, .post, "/api/hc/v1/Verification/VirtualHc", Self.token(forged))
            #expect([1522, 1520].contains(altered["statusCode"] as? Int ?? -1), "\(altered)")
        }
    }

    /// The institution's credential for the bundles: a key and a certificate for it.
    static func signer() throws -> HISInstitutionSigner {
        let identity = try HISTLSIdentity.make(now: Date())
        return try HISInstitutionSigner(
            hospitalId: "0123456789", certificatePEM: identity.certificatePEM,
            signer: try P256.Signing.PrivateKey(pemRepresentation: identity.keyPEM))
    }

    @Test("Signature/Hc signs the registered card with the institution's key; SequelNumber/Next checks the bundle; Rollback cancels")
    func sequenceCalls() async throws {
        let fixture = try Fixture()
        let signer = try Self.signer()
        let app = Application(
            router: HISRoutes.router(desk: fixture.desk, signer: signer, bearerToken: nil, logger: Logger(label: "his-test")))
        try await app.test(.router) { client in
            let early = try await Self.call(client, .post, "/api/hc/v1/Signature/Hc", #"{"serviceType": "03"}"#)
            #expect(early["statusCode"] as? Int == 1023, "no card registered yet")
            let token = try fixture.authority.token()
            _ = try await Self.call(client, .post, "/api/hc/v1/Verification/VirtualHc", Self.token(token))
            let bundle = try await Self.call(client, .post, "/api/hc/v1/Signature/Hc", #"{"serviceType": "03"}"#)
            #expect(bundle["statusCode"] as? Int == 0 && bundle["hcIdNo"] as? String == "A123456789")
            #expect(bundle["hospitalId"] as? String == "0123456789" && (bundle["samId"] as? String)?.count == 12)
            #expect((bundle["clientRandom"] as? String)?.count == 32)
            var next = bundle
            next.removeValue(forKey: "statusCode")
            next["treatmentItem"] = "01"
            next["babyTreatment"] = " "
            next["afterCheck"] = "1"
            func body(_ object: [String: Any]) throws -> String {
                String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
            }
            // A station without a cloud has no sequence number to give, and says so.
            let sequence = try await Self.call(client, .post, "/api/v1/SequelNumber/Next", try body(next))
            #expect(sequence["statusCode"] as? Int == 9021)
            var forged = next
            forged["hcIdNo"] = "B223456782"
            #expect(try await Self.call(client, .post, "/api/v1/SequelNumber/Next", try body(forged))["statusCode"] as? Int == 9006)
            let sam = try await Self.call(client, .post, "/api/sam/v1/Signature", #"{"serviceType": "01"}"#)
            #expect(sam["statusCode"] as? Int == 0 && sam["hcIdNo"] == nil && sam["signature"] as? String != nil)
            // 退掛: the registered visit, by its treatmentDateTime.
            let session = try #require(try fixture.service.sessions.list().first)
            let when = HISRoutes.rocDateTime(session.openedAt)
            #expect(try await Self.call(client, .post, "/api/v1/SequelNumber/Rollback", #"{"treatmentDateTime": "19990101000000"}"#)["statusCode"] as? Int == 1023)
            #expect(try await Self.call(client, .post, "/api/v1/SequelNumber/Rollback", #"{"treatmentDateTime": "\#(when)"}"#)["statusCode"] as? Int == 0)
            #expect(try await Self.call(client, .post, "/api/v1/SequelNumber/Rollback", #"{"treatmentDateTime": "\#(when)"}"#)["statusCode"] as? Int == 9007)
            // A rolled-back visit is no longer the HIS's to number or sign.
            #expect(try await Self.call(client, .post, "/api/v1/SequelNumber/Next", try body(next))["statusCode"] as? Int == 9007)
            #expect(try await Self.call(client, .post, "/api/hc/v1/Signature/Hc", #"{"serviceType": "03"}"#)["statusCode"] as? Int == 9007)
        }
        let closed = try #require(try fixture.service.sessions.list().first)
        #expect(closed.state == .closed && closed.closeReason == .registrationCancelled)
        // Without the institution's credential there is nothing to sign with.
        try await fixture.app().test(.router) { client in
            let unsigned = try await Self.call(client, .post, "/api/sam/v1/Signature", "{}")
            #expect(unsigned["statusCode"] as? Int == 9005)
        }
    }

    @Test("ROC dates and times: 1980-05-12 is 0690512; 2026-12-07 14:00:05 in Taipei is 1151207140005")
    func rocTimes() throws {
        #expect(HISBasicAnswer.rocDate(CalendarDate(year: 1980, month: 5, day: 12)!) == "0690512")
        // 2026-12-07T06:00:05Z is 14:00:05 in Taipei.
        #expect(HISRoutes.rocDateTime(1_796_623_205) == "1151207140005")
    }

    @Test("every statusCode the listener answers with is in docs/his-compatibility.md's table")
    func documented() throws {
        let text = try String(
            contentsOf: Command.packageRoot.appendingPathComponent("docs/his-compatibility.md"), encoding: .utf8)
        for code in HISStatusCode.all { #expect(text.contains("| \(code.rawValue) |"), "statusCode \(code) documented") }
    }
}

@Suite("docs/his-openapi.yaml describes exactly the routes the HIS listener serves")
struct HISOpenAPITests {
    @Test("the same methods and paths, in both directions")
    func routesMatch() throws {
        let text = try String(
            contentsOf: Command.packageRoot.appendingPathComponent("docs/his-openapi.yaml"), encoding: .utf8)
        let document = try #require(try Yams.load(yaml: text) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let documented = Set(paths.flatMap { path, operations in operations.keys.map { "\($0.uppercased()) \(path)" } })
        let fixture = try HISListenerTests.Fixture()
        let router = HISRoutes.router(desk: fixture.desk, bearerToken: nil, logger: Logger(label: "his-test"))
        let served = Set(
            router.routes.map { route -> String in
                let path = route.path.description
                return "\(route.method) \(path.hasPrefix("/") ? path : "/" + path)"
            })
        #expect(served == documented, "served only: \(served.subtracting(documented)); documented only: \(documented.subtracting(served))")
    }
}
