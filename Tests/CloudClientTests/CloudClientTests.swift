import CloudProtocol
import Foundation
import Testing

@testable import CloudClient

/// The cloud client's reading of answers, without a network: a 2xx is the answer, a refusal is the
/// cloud's problem by its `code` alone, and anything else is a transport failure, never a crash.
@Suite("the cloud client's answers")
struct CloudClientTests {
    struct Answer: Codable, Equatable { var value: Int }

    static func reply(_ status: Int, _ body: String) -> CloudClient.Reply {
        CloudClient.Reply(status: status, headers: [:], body: Data(body.utf8))
    }

    @Test("a 2xx answer decodes; one that is not the JSON expected is a transport failure")
    func answers() throws {
        #expect(try CloudClient.decode(Self.reply(200, #"{"value":7,"more":true}"#), as: Answer.self) == Answer(value: 7))
        #expect(throws: CloudClient.TransportError.self) {
            try CloudClient.decode(Self.reply(201, #"{"value":"seven"}"#), as: Answer.self)
        }
    }

    @Test("a refusal is the cloud's problem by its code, whatever else it holds; without a code it is not one")
    func refusals() throws {
        let problem = #expect(throws: CloudProblem.self) {
            try CloudClient.decode(Self.reply(410, #"{"code":"grant_expired"}"#), as: Answer.self)
        }
        #expect(problem?.code == .grantExpired && problem?.status == 410)
        // The body's status is advisory: the answer's own is kept.
        let contradicting = #expect(throws: CloudProblem.self) {
            try CloudClient.decode(Self.reply(403, #"{"code":"grant_not_yours","status":"x","title":5}"#), as: Answer.self)
        }
        #expect(contradicting?.status == 403 && contradicting?.code == .grantNotYours)
        for body in ["", "<html>502 Bad Gateway</html>", #"{"title":"Forbidden"}"#, #"{"code":17}"#] {
            #expect(throws: CloudClient.TransportError.self, "\(body)") {
                try CloudClient.decode(Self.reply(502, body), as: Answer.self)
            }
        }
    }

    @Test("the cloud's address must be https with a host")
    func address() throws {
        let ca = "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"
        for url in ["http://127.0.0.1:8443", "127.0.0.1:8443", "https://", "ftp://h"] {
            #expect(throws: CloudClient.TransportError.self, "\(url)") { try CloudClient(baseURL: url, caPEM: ca) }
        }
    }
}
