import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Station
import StationAPI
import StationMetrics
import StationModels
import StationRuntime
import StationTestSupport
import Synchronization
import TestSupport
import Testing
import VirtualCard

/// A station behind the API, with a clock the test moves.
final class APIFixture: Sendable {
    let folder = try! TemporaryFolder(prefix: "vhc-station-api")
    let authority = TestAuthority()
    let time = Clock()
    let service: StationService

    final class Clock: Sendable {
        private let value = Mutex<Int64>(TestAuthority.now)
        var now: Int64 { value.withLock { $0 } }
        func advance(_ seconds: Int64) { value.withLock { $0 += seconds } }
    }

    init(sessionLength: Int64 = 3600, metrics: StationMetrics = StationMetrics()) throws {
        let policy = try authority.station(in: folder, sessionLength: sessionLength)
        let time = time
        service = StationService(policy: policy, clock: { time.now }, metrics: metrics)
    }

    func app(bearerToken: String? = nil, web: WebSignIns? = nil) -> some ApplicationProtocol {
        Application(
            router: StationAPI.router(
                service: service, camera: FixedCameraStatus(.init(state: .streaming, device: "/dev/video0")),
                images: LadderStillReader(), bearerToken: bearerToken, web: web))
    }

    func scanBody(_ token: [UInt8], source: String? = nil) -> ByteBuffer {
        var object: [String: String] = ["token": String(decoding: token, as: UTF8.self)]
        if let source { object["source"] = source }
        return ByteBuffer(bytes: try! JSONEncoder().encode(object))
    }
}

func json(_ response: TestResponse) throws -> [String: Any] {
    try #require(JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
}

@Suite("Local API (router tests)")
struct StationAPITests {
    @Test("POST /v1/scans opens a session; GET /v1/sessions and /v1/sessions/{id} return it, and the reads are audited")
    func scanAndSessions() async throws {
        let fixture = try APIFixture()
        try await fixture.app().test(.router) { client in
            let token = try fixture.authority.token()
            let sessionID = try await client.execute(
                uri: "/v1/scans", method: .post, body: fixture.scanBody(token, source: "handheld")
            ) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                let body = try json(response)
                #expect(body["accepted"] as? Bool == true && body["code"] as? String == "valid")
                #expect((body["reason"] as? [String: String])?["zhHant"] == "卡片有效。")
                #expect(body["holder"] as? String == "A12****789 王**")
                return try #require((body["session"] as? [String: Any])?["id"] as? String)
            }
            try await client.execute(uri: "/v1/scans", method: .post, body: fixture.scanBody(token)) { response in
                let body = try json(response)
                #expect(body["accepted"] as? Bool == false && body["code"] as? String == "replayed")
            }
            try await client.execute(uri: "/v1/sessions?state=active", method: .get) { response in
                let sessions = try #require(try json(response)["sessions"] as? [[String: Any]])
                #expect(sessions.map { $0["id"] as? String } == [sessionID])
                #expect(sessions.first?["holderID"] as? String == "A123456789")  // the HIS needs the full ID
                #expect(sessions.first?["source"] as? String == "handheld")
            }
            try await client.execute(uri: "/v1/sessions?holder=A123456789&state=closed", method: .get) { response in
                let sessions = try json(response)["sessions"] as? [Any]
                #expect(sessions?.isEmpty == true)
            }
            try await client.execute(uri: "/v1/sessions/\(sessionID)", method: .get) { response in
                #expect(response.status == .ok)
                let state = try json(response)["state"] as? String
                #expect(state == "active")
            }
        }
        let kinds = try fixture.service.audit.entries().map(\.kind)
        #expect(kinds.contains("session.read") && kinds.contains("session.listed"))
    }

    @Test("the same token posted 50 times at once: one session, 49 replayed")
    func concurrentPosts() async throws {
        let fixture = try APIFixture()
        let token = try fixture.authority.token()
        try await fixture.app().test(.router) { client in
            let codes = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        try await client.execute(uri: "/v1/scans", method: .post, body: fixture.scanBody(token)) {
                            try json($0)["code"] as? String ?? "?"
                        }
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(codes.filter { $0 == "valid" }.count == 1 && codes.filter { $0 == "replayed" }.count == 49)
        }
        #expect(try fixture.service.sessions.list().count == 1)
    }

    @Test("the photo-less flow through the API: awaiting_id_check, a mismatch refused, the check recorded, then closed")
    func idCheckAndClose() async throws {
        let fixture = try APIFixture()
        try await fixture.app().test(.router) { client in
            let token = try fixture.authority.token(photo: .none)
            let id = try await client.execute(uri: "/v1/scans", method: .post, body: fixture.scanBody(token)) {
                let session = try #require(try json($0)["session"] as? [String: Any])
                #expect(session["state"] as? String == "awaiting_id_check")
                return try #require(session["id"] as? String)
            }
            func check(_ lastFour: String) -> ByteBuffer {
                ByteBuffer(string: #"{"document": "national_id_card", "lastFour": "\#(lastFour)", "operator": "林護理師"}"#)
            }
            try await client.execute(uri: "/v1/sessions/\(id)/id-check", method: .post, body: check("0000")) {
                #expect($0.status == .unprocessableContent)
                #expect($0.headers[.contentType] == "application/problem+json")
                let field = try json($0)["code"] as? String
                #expect(field == "id_check_mismatch")
            }
            try await client.execute(uri: "/v1/sessions/\(id)/id-check", method: .post, body: check("6789")) {
                #expect($0.status == .ok)
                let field = try json($0)["state"] as? String
                #expect(field == "active")
            }
            try await client.execute(uri: "/v1/sessions/\(id)/id-check", method: .post, body: check("6789")) {
                #expect($0.status == .conflict)
                let field = try json($0)["code"] as? String
                #expect(field == "id_check_not_needed")
            }
            try await client.execute(uri: "/v1/sessions/\(id)/close", method: .post) {
                let field = try json($0)["state"] as? String
                #expect(field == "closed")
            }
            try await client.execute(uri: "/v1/sessions/\(id)/close", method: .post) {
                #expect($0.status == .conflict)
                let field = try json($0)["code"] as? String
                #expect(field == "session_not_open")
            }
        }
    }

    @Test(
        "bad requests get problem+json with a stable code, never a crash",
        arguments: [
            ("/v1/scans", HTTPRequest.Method.post, "{not json", HTTPResponse.Status.badRequest, "request_malformed"),
            ("/v1/scans", .post, #"{"tok": "VHC1:"}"#, .badRequest, "request_malformed"),
            ("/v1/scans", .post, #"{"token": "x", "source": "bad source!"}"#, .badRequest, "request_malformed"),
            ("/v1/scans", .post, String(repeating: "a", count: 20_000), .contentTooLarge, "request_too_large"),
            ("/v1/sessions/0b3e2d3c-0000-4000-8000-000000000000", .get, "", .notFound, "session_not_found"),
            ("/v1/sessions/../../etc/passwd", .get, "", .notFound, "route_not_found"),
            ("/v1/sessions/zz", .get, "", .notFound, "session_not_found"),
            ("/v1/sessions?state=open", .get, "", .badRequest, "request_malformed"),
            ("/v1/sessions?holder=A000000000", .get, "", .badRequest, "request_malformed"),
            ("/v1/sessions/abc/close", .post, "", .notFound, "session_not_found"),
            ("/v1/sessions/abc/id-check", .post, #"{"document": "library_card"}"#, .badRequest, "request_malformed"),
            ("/v1/nothing", .get, "", .notFound, "route_not_found"),
        ])
    func badRequests(
        path: String, method: HTTPRequest.Method, body: String, status: HTTPResponse.Status, code: String
    )
        async throws
    {
        let fixture = try APIFixture()
        try await fixture.app().test(.router) { client in
            try await client.execute(
                uri: path, method: method, body: body.isEmpty ? nil : ByteBuffer(string: body)
            ) { response in
                #expect(response.status == status, "\(path)")
                #expect(response.headers[.contentType] == "application/problem+json")
                let problem = try json(response)
                #expect(problem["code"] as? String == code, "\(path): \(problem)")
                #expect(problem["status"] as? Int == Int(status.code))
                #expect((problem["type"] as? String)?.hasSuffix("/" + code) == true)
            }
        }
    }

    @Test("a known path with another method is 405 method_not_allowed with Allow; an unknown path stays 404")
    func methodNotAllowed() async throws {
        let fixture = try APIFixture()
        try await fixture.app().test(.router) { client in
            for (path, method, allow) in [
                ("/v1/status", HTTPRequest.Method.delete, "GET"), ("/v1/scans", .get, "POST"),
                ("/v1/sessions/abc", .put, "GET"), ("/v1/sessions/abc/close", .get, "POST"),
                ("/v1/events", .post, "GET"),
            ] {
                try await client.execute(uri: path, method: method) { response in
                    #expect(response.status == .methodNotAllowed, "\(method) \(path)")
                    #expect(response.headers[.allow] == allow, "\(method) \(path)")
                    let problem = try json(response)
                    #expect(problem["code"] as? String == "method_not_allowed")
                }
            }
            try await client.execute(uri: "/v1/sessions/abc/nothing", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.allow] == nil)
            }
        }
    }

    @Test("POST /v1/clock/reset on the socket sets the mark to now and is audited; the TCP listener allows it no method")
    func clockReset() async throws {
        let fixture = try APIFixture()
        try await fixture.app().test(.router) { client in
            try await client.execute(
                uri: "/v1/clock/reset", method: .post, body: ByteBuffer(string: #"{"operator": "櫃台 王"}"#)
            ) { response in
                #expect(response.status == .ok)
                let answer = try json(response)
                #expect(answer["highWater"] as? Int == Int(fixture.time.now))
            }
            try await client.execute(
                uri: "/v1/clock/reset", method: .post, body: ByteBuffer(string: #"{"operator": ""}"#)
            ) { response in
                #expect(response.status == .badRequest)
            }
        }
        #expect(try fixture.service.audit.entries().contains { $0.kind == "clock.reset" && $0.detail.contains("櫃台 王") })
        try await fixture.app(bearerToken: "token-0123456789abcdef").test(.router) { client in
            try await client.execute(
                uri: "/v1/clock/reset", method: .post, headers: [.authorization: "Bearer token-0123456789abcdef"],
                body: ByteBuffer(string: #"{"operator": "x"}"#)
            ) { response in
                // A path of the API that this listener serves no method of (issue 21: TRACE was 404).
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "")
                let detail = try json(response)["detail"] as? String
                #expect(detail == "this route is served on the station's Unix socket only")
            }
            try await client.execute(
                uri: "/v1/clock/reset", method: .init("TRACE")!,
                headers: [.authorization: "Bearer token-0123456789abcdef"]
            ) { response in
                #expect(response.status == .methodNotAllowed)
            }
        }
    }

    @Test("what the schema says is refused: source null, an event id that is not one, a wrong operator field name")
    func schemaTruths() async throws {
        let fixture = try APIFixture()
        try await fixture.app().test(.router) { client in
            let token = String(decoding: try fixture.authority.token(), as: UTF8.self)
            try await client.execute(
                uri: "/v1/scans", method: .post, body: ByteBuffer(string: #"{"token": "\#(token)", "source": null}"#)
            ) { response in
                #expect(response.status == .badRequest, "source null was taken for absent")
            }
            for query in ["after=null", "after=-1", "after=9223372036854775808"] {
                try await client.execute(uri: "/v1/events?\(query)", method: .get) { response in
                    #expect(response.status == .badRequest, "\(query)")
                    let detail = try json(response)["detail"] as? String
                    #expect(detail == "after must be an event id: an integer from 0")
                }
            }
        }
        let sessions = fixture.service.sessions
        // The id check's message names the API's field, `operator` (issue 21: it said operatorName).
        #expect {
            try sessions.recordIDCheck(
                sessionID: "none", document: .nationalIDCard, lastFour: "6789", operatorName: " ", now: 0)
        } throws: { error in
            (error as? SessionError)?.message == "operator must be 1 to 64 characters, no control characters"
        }
    }

    @Test("an operator's name, one rule as docs/openapi.yaml states it: scalars counted, no control or separator, not only spaces")
    func operatorNameRule() {
        #expect(OperatorName.validated("  林小姐 ") == "林小姐")
        #expect(OperatorName.validated(String(repeating: "a", count: 64)) == String(repeating: "a", count: 64))
        // Schemathesis's find: U+0085 (NEL) and U+0002 inside a name the schema allowed.
        for refused in [" ", "", "o\u{AC}\u{BF}\u{85}@\u{2}", "a\nb", "a\u{2028}b", "tab\there",
            String(repeating: "a", count: 65), " " + String(repeating: "a", count: 64),
            String(repeating: "e\u{301}", count: 33)]  // 33 characters, 66 scalars: JSON Schema counts 66
        {
            #expect(OperatorName.validated(refused) == nil, "\(refused.unicodeScalars.map { String($0.value, radix: 16) })")
        }
    }

    @Test("a login at a station without a cloud is 409 cloud_not_configured; the TCP listener allows no method of the login routes")
    func loginWithoutCloud() async throws {
        let fixture = try APIFixture()
        let body = ByteBuffer(string: #"{"certificate": "x", "key": "y"}"#)
        try await fixture.app().test(.router) { client in
            try await client.execute(uri: "/v1/practitioner/login", method: .post, body: body) { response in
                #expect(response.status == .conflict)
                let problem = try json(response)
                #expect(problem["code"] as? String == "cloud_not_configured")
            }
        }
        try await fixture.app(bearerToken: "token-0123456789abcdef").test(.router) { client in
            for path in ["/v1/practitioner/login", "/v1/practitioner/logout"] {
                try await client.execute(
                    uri: path, method: .post, headers: [.authorization: "Bearer token-0123456789abcdef"], body: body
                ) { response in
                    #expect(response.status == .methodNotAllowed)
                }
            }
        }
    }

    @Test("a body declared as a form or plain text is 415; JSON with a charset, or with no Content-Type, is read")
    func mediaTypes() async throws {
        let fixture = try APIFixture()
        let token = try fixture.authority.token()
        try await fixture.app().test(.router) { client in
            for type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
                try await client.execute(
                    uri: "/v1/scans", method: .post, headers: [.contentType: type], body: fixture.scanBody(token)
                ) { response in
                    #expect(response.status == .unsupportedMediaType, "\(type)")
                    let problem = try json(response)
                    #expect(problem["code"] as? String == "unsupported_media_type")
                }
            }
            try await client.execute(
                uri: "/v1/scans", method: .post, headers: [.contentType: "application/json; charset=utf-8"],
                body: fixture.scanBody(token)
            ) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test("the TCP listener's bearer token: missing or wrong is 401 problem+json; right is served")
    func bearer() async throws {
        let fixture = try APIFixture()
        let token = "s3cret-token-0123456789"
        try await fixture.app(bearerToken: token).test(.router) { client in
            try await client.execute(uri: "/v1/status", method: .get) {
                #expect($0.status == .unauthorized)
                #expect($0.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
                let field = try json($0)["code"] as? String
                #expect(field == "unauthorized")
            }
            try await client.execute(uri: "/v1/status", method: .get, headers: [.authorization: "Bearer wrong"]) {
                #expect($0.status == .unauthorized)
            }
            try await client.execute(uri: "/v1/status", method: .get, headers: [.authorization: "Bearer \(token)"]) {
                #expect($0.status == .ok)
            }
        }
    }

    @Test(
        "GET /v1/status: camera, lists with their age and expiry, clock health, database; degraded when a list expires")
    func status() async throws {
        let fixture = try APIFixture()
        try await fixture.app().test(.router) { client in
            try await client.execute(uri: "/v1/status", method: .get) { response in
                let body = try json(response)
                #expect(body["state"] as? String == "ok" && body["institution"] as? String == "0123456789")
                #expect((body["camera"] as? [String: Any])?["state"] as? String == "streaming")
                let trust = try #require(body["trustList"] as? [String: Any])
                #expect(trust["sequence"] as? Int == 1 && trust["state"] as? String == "current")
                #expect(trust["ageSeconds"] as? Int == 3600)
                #expect((body["clock"] as? [String: Any])?["state"] as? String == "ok")
                #expect((body["database"] as? [String: Any])?["state"] as? String == "ok")
            }
            _ = try fixture.service.submit(try fixture.authority.token(photo: .none), source: "camera")
            try await client.execute(uri: "/v1/status", method: .get) { response in
                let database = try json(response)["database"] as? [String: Any]
                #expect(database?["openSessions"] as? Int == 1 && (database?["auditRows"] as? Int ?? 0) >= 3)
            }
            fixture.time.advance(31 * 86_400)  // past the trust list's expiry
            try await client.execute(uri: "/v1/status", method: .get) { response in
                let body = try json(response)
                #expect(body["state"] as? String == "degraded")
                #expect((body["problems"] as? [String])?.contains("trust_list_expired") == true)
            }
        }
    }

    @Test("GET /v1/events streams scan and session events as server-sent events, with reasons in both languages")
    func events() async throws {
        let fixture = try APIFixture()
        try await fixture.app().test(.router) { client in
            async let stream = client.execute(uri: "/v1/events", method: .get) { response in
                #expect(response.headers[.contentType] == "text/event-stream")
                return String(buffer: response.body)
            }
            while fixture.service.events.subscriberCount == 0 { try await Task.sleep(for: .milliseconds(5)) }
            let token = try fixture.authority.token()
            _ = try fixture.service.submit(token, source: "camera")
            _ = try fixture.service.submit(token, source: "camera")
            fixture.service.events.finish()
            let text = try await stream
            let events = text.components(separatedBy: "\n\n").filter { $0.contains("event: ") }
            #expect(
                events.map { $0.components(separatedBy: "\n")[1] } == [
                    "event: session.opened", "event: scan.accepted", "event: scan.rejected",
                ])
            #expect(events[2].contains(#""code":"replayed""#))
            #expect(events[2].contains("此條碼已使用過"))
            #expect(!text.contains("A123456789"))  // holders are masked on the event stream
        }
    }

    @Test("sessions that run out publish session.expired; closing and ID checks publish theirs")
    func sessionEvents() async throws {
        let fixture = try APIFixture(sessionLength: 600)
        let events = fixture.service.events.subscribe()
        let first = try #require(try fixture.service.submit(try fixture.authority.token(), source: "camera").session)
        let second = try #require(
            try fixture.service.submit(
                try fixture.authority.token(holderID: taiwanID("E12345678"), photo: .none), source: "camera"
            ).session)
        _ = try fixture.service.recordIDCheck(
            sessionID: second.id, document: .passport, lastFour: "P123", operatorName: "林")
        _ = try fixture.service.close(sessionID: second.id)
        fixture.time.advance(599)
        #expect(try fixture.service.expireDue().isEmpty)
        fixture.time.advance(1)
        #expect(try fixture.service.expireDue().map(\.id) == [first.id])
        fixture.service.events.finish()
        var types: [String] = []
        for await event in events { types.append(event.type.rawValue) }
        #expect(
            types == [
                "session.opened", "scan.accepted", "session.opened", "scan.accepted", "session.id_checked",
                "session.closed", "session.expired",
            ])
    }

    @Test(
        "a client that reconnects with Last-Event-ID (or ?after=, a reloaded page) first gets the kept events it missed",
        arguments: [("/v1/events", true), ("/v1/events?after=1", false)])
    func eventReplay(uri: String, header: Bool) async throws {
        let fixture = try APIFixture()
        _ = try fixture.service.submit(try fixture.authority.token(), source: "camera")  // events 1 and 2
        try await fixture.app().test(.router) { client in
            async let stream = client.execute(
                uri: uri, method: .get, headers: header ? [HTTPField.Name("Last-Event-ID")!: "1"] : [:]
            ) { String(buffer: $0.body) }
            while fixture.service.events.subscriberCount == 0 { try await Task.sleep(for: .milliseconds(5)) }
            _ = try fixture.service.submit(try fixture.authority.token(holderID: taiwanID("E12345678")), source: "api")
            fixture.service.events.finish()
            let ids = try await stream.split(separator: "\n").filter { $0.hasPrefix("id: ") }.map {
                String($0.dropFirst(4))
            }
            #expect(ids == ["2", "3", "4"])  // not 1, which the client had; then the live ones in order
        }
    }
}
