import ConnectionGuards
import HTTPTypes
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOHTTPTypes
import Testing

@Suite("Malformed requests: problem+json, then the connection closed")
struct MalformedRequestResponderTests {
    static let problem = Array(#"{"code":"request_malformed","detail":"not HTTP/1.1","status":400}"#.utf8)

    func channel(_ responder: MalformedRequestResponder) throws -> EmbeddedChannel {
        try EmbeddedConnections.bare(responder, loop: EmbeddedEventLoop())
    }

    /// The three parts written for one error: head, body, end.
    func answer(_ channel: EmbeddedChannel) throws -> (HTTPResponse, [UInt8])? {
        guard case .head(let head) = try channel.readOutbound(as: HTTPResponsePart.self),
            case .body(let body) = try channel.readOutbound(as: HTTPResponsePart.self),
            case .end(nil) = try channel.readOutbound(as: HTTPResponsePart.self)
        else { return nil }
        #expect(try channel.readOutbound(as: HTTPResponsePart.self) == nil)
        return (head, Array(buffer: body))
    }

    @Test("a parser error is answered 400 with the problem body, its length and Connection: close")
    func parserError() throws {
        let channel = try channel(MalformedRequestResponder(problem: Self.problem))
        channel.pipeline.fireErrorCaught(HTTPParserError.invalidMethod)
        let (head, body) = try #require(try answer(channel))
        #expect(head.status == .badRequest)
        #expect(head.headerFields[.contentType] == "application/problem+json")
        #expect(head.headerFields[.contentLength] == String(Self.problem.count))
        #expect(head.headerFields[.connection] == "close")
        #expect(body == Self.problem)
        #expect(!channel.isActive)
        // The error is answered, not passed on.
        try channel.throwIfErrorCaught()
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    @Test("the content type is the one given")
    func contentType() throws {
        let channel = try channel(MalformedRequestResponder(problem: [0x7B, 0x7D], contentType: "application/json"))
        channel.pipeline.fireErrorCaught(HTTPParserError.headerOverflow)
        let (head, body) = try #require(try answer(channel))
        #expect(head.headerFields[.contentType] == "application/json")
        #expect(head.headerFields[.contentLength] == "2")
        #expect(body == [0x7B, 0x7D])
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    struct Unrelated: Error {}

    @Test("any other error is passed on: nothing written, the connection left open")
    func otherErrors() throws {
        let channel = try channel(MalformedRequestResponder(problem: Self.problem))
        channel.pipeline.fireErrorCaught(Unrelated())
        #expect(throws: Unrelated.self) { try channel.throwIfErrorCaught() }
        #expect(try channel.readOutbound(as: HTTPResponsePart.self) == nil)
        #expect(channel.isActive)
        #expect(try channel.finish().isClean)
    }

    @Test("behind the HTTP/1 decoder: bytes that are not HTTP get the problem on the wire, then close")
    func onTheWire() throws {
        // No NIO error handler, as in Hummingbird's layout: the decoder's error reaches the responder.
        let channel = try EmbeddedConnections.http1(
            MalformedRequestResponder(problem: Self.problem), loop: EmbeddedEventLoop())
        try channel.writeInbound(channel.allocator.buffer(string: "\u{01}\u{02} NOT HTTP\r\n\r\n"))
        #expect(try channel.readInbound(as: HTTPRequestPart.self) == nil)
        var wire = channel.allocator.buffer(capacity: 256)
        while var part = try channel.readOutbound(as: ByteBuffer.self) { wire.writeBuffer(&part) }
        let text = String(buffer: wire)
        let endOfHead = try #require(text.firstRange(of: "\r\n\r\n"), "no whole response head: \(text)")
        let lines = text[..<endOfHead.lowerBound].split(separator: "\r\n").map { $0.lowercased() }
        let body = text[endOfHead.upperBound...]
        #expect(lines.first == "http/1.1 400 bad request")
        #expect(lines.contains("content-type: application/problem+json"))
        #expect(lines.contains("content-length: \(Self.problem.count)"))
        #expect(lines.contains("connection: close"))
        #expect(Array(body.utf8) == Self.problem)
        #expect(!channel.isActive)
        _ = try channel.finish(acceptAlreadyClosed: true)
    }
}
