import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import Station
import StationModels

/// A client of the daemon's local API over its Unix socket (AsyncHTTPClient's `http+unix`), on the
/// API's own types (StationModels): answers are decoded, problems thrown as `Problem`.
struct DaemonClient {
    let socketPath: String

    /// A decoded answer and the bytes it came in (what `--json` prints).
    struct Reply<Answer> {
        let answer: Answer
        let body: Data
    }

    /// Fails at once when nothing listens on the socket: the HTTP client would keep retrying until
    /// its deadline, and a clerk wants to know now that the daemon is down.
    func checkListening() throws {
        if let error = LocalSocket.connectError(socketPath) {
            throw UsageError(
                "cannot reach the station daemon at \(socketPath): \(String(cString: strerror(error)))"
                    + LocalSocket.advice(forConnectError: error))
        }
    }

    /// A path segment or query value, percent-encoded (an ID, a session id typed by a person).
    static func escape(_ text: String) -> String { URLComponentText.escape(text) }

    func url(_ path: String, query: [(String, String)] = []) throws -> String {
        try checkListening()
        let socket = Self.escape(socketPath)
        let search = query.map { "\(Self.escape($0.0))=\(Self.escape($0.1))" }.joined(separator: "&")
        return "http+unix://\(socket)\(path)" + (search.isEmpty ? "" : "?" + search)
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// One request; a problem+json answer is thrown as `Problem` (exit 1), a daemon that cannot be
    /// reached or an answer that is not the expected JSON a usage error (exit 2).
    func call<Answer: Decodable>(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [],
        json body: (some Encodable)? = Optional<Empty>.none, as answer: Answer.Type
    ) async throws -> Reply<Answer> {
        var request = HTTPClientRequest(url: try url(path, query: query))
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: try Self.encoder.encode(body)))
        }
        return try await perform(request, as: answer)
    }

    /// A POST of raw bytes (an image) declared as `contentType`.
    func upload<Answer: Decodable>(
        _ path: String, query: [(String, String)] = [], contentType: String, bytes: Data, as answer: Answer.Type
    ) async throws -> Reply<Answer> {
        var request = HTTPClientRequest(url: try url(path, query: query))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        request.body = .bytes(ByteBuffer(data: bytes))
        // Reading the image, then the codes' wait for the cloud: longer than a JSON call's 10 s.
        return try await perform(request, as: answer, timeout: .seconds(60))
    }

    private func perform<Answer: Decodable>(
        _ request: HTTPClientRequest, as answer: Answer.Type, timeout: TimeAmount = .seconds(10)
    ) async throws
        -> Reply<Answer>
    {
        let response: HTTPClientResponse
        do { response = try await HTTPClient.shared.execute(request, timeout: timeout) } catch {
            throw UsageError("cannot reach the station daemon at \(socketPath): \(error)")
        }
        let data = Data(buffer: try await response.body.collect(upTo: 8 << 20))
        guard response.status.code < 400 else {
            if let problem = try? JSONDecoder().decode(Problem.self, from: data) { throw problem }
            throw UsageError("the daemon answered \(response.status.code) without a problem document")
        }
        do { return Reply(answer: try JSONDecoder().decode(answer, from: data), body: data) } catch {
            throw UsageError("the daemon's answer is not the JSON this vhc expects: \(error)")
        }
    }

    /// No body.
    struct Empty: Codable {}

    /// Server-sent events, one decoded event at a time with its `data:` text, until the stream ends
    /// or `handle` returns false. A block this vhc cannot read is skipped.
    func events(after lastEventID: Int64?, _ handle: (StationEvent, Substring) throws -> Bool) async throws {
        var request = HTTPClientRequest(url: try url("/v1/events"))
        if let lastEventID { request.headers.add(name: "Last-Event-ID", value: "\(lastEventID)") }
        let response: HTTPClientResponse
        do { response = try await HTTPClient.shared.execute(request, timeout: .hours(24 * 365)) } catch {
            throw UsageError("cannot reach the station daemon at \(socketPath): \(error)")
        }
        var pending = ""
        for try await buffer in response.body {
            pending += String(buffer: buffer)
            while let end = pending.range(of: "\n\n") {
                let block = pending[..<end.lowerBound]
                pending.removeSubrange(..<end.upperBound)
                guard let line = block.split(separator: "\n").first(where: { $0.hasPrefix("data: ") }),
                    let event = try? JSONDecoder().decode(StationEvent.self, from: Data(line.dropFirst(6).utf8))
                else { continue }
                if try !handle(event, line.dropFirst(6)) { return }
            }
        }
    }
}
