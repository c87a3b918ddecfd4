import ConnectionGuards
import HTTPTypes
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import Synchronization
import Testing

@Suite("Request deadlines: a head or a body that does not arrive in time closes the connection")
struct RequestDeadlineTests {
    static let timeout = TimeAmount.seconds(5)

    func bareChannel() throws -> (EmbeddedChannel, EmbeddedEventLoop) {
        let loop = EmbeddedEventLoop()
        return (try EmbeddedConnections.bare(RequestDeadlineHandler(limits: .init(head: Self.timeout)), loop: loop), loop)
    }

    func http1Channel() throws -> (EmbeddedChannel, EmbeddedEventLoop) {
        let loop = EmbeddedEventLoop()
        return (try EmbeddedConnections.http1(RequestDeadlineHandler(limits: .init(head: Self.timeout)), loop: loop), loop)
    }

    static let head = HTTPRequestPart.head(HTTPRequest(method: .get, scheme: nil, authority: nil, path: "/v1/health"))

    @Test("no head by the deadline: open one nanosecond before it, closed at it")
    func closesAtTheDeadline() throws {
        let (channel, loop) = try bareChannel()
        try expectClosed(channel, loop, after: Self.timeout)
    }

    @Test("a head in time disarms the deadline and is passed on")
    func headInTime() throws {
        let (channel, loop) = try bareChannel()
        loop.advanceTime(by: Self.timeout - .milliseconds(1))
        try channel.writeInbound(Self.head)
        try channel.writeInbound(HTTPRequestPart.end(nil))
        loop.advanceTime(by: Self.timeout * 10)
        #expect(channel.isActive)
        guard case .head(let request) = try channel.readInbound(as: HTTPRequestPart.self) else {
            Issue.record("the head was not passed on")
            return
        }
        #expect(request.path == "/v1/health")
        _ = try channel.readInbound(as: HTTPRequestPart.self)
        #expect(try channel.finish().isClean)
    }

    @Test("the end of a response starts a new deadline for the next request's head")
    func rearmedAfterResponse() throws {
        let (channel, loop) = try bareChannel()
        try channel.writeInbound(Self.head)
        try channel.writeInbound(HTTPRequestPart.end(nil))
        // A slow handler: the deadline does not run while the response is being made.
        loop.advanceTime(by: Self.timeout * 3)
        #expect(channel.isActive)
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
        loop.advanceTime(by: Self.timeout * 3)
        #expect(channel.isActive, "a response head alone does not arm the deadline")
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        try expectClosed(channel, loop, after: Self.timeout)
    }

    @Test("a keep-alive connection whose next head arrives in time stays open")
    func nextHeadInTime() throws {
        let (channel, loop) = try bareChannel()
        for _ in 0..<3 {
            loop.advanceTime(by: Self.timeout - .milliseconds(1))
            try channel.writeInbound(Self.head)
            try channel.writeInbound(HTTPRequestPart.end(nil))
            try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
            try channel.writeOutbound(HTTPResponsePart.end(nil))
        }
        try expectClosed(channel, loop, after: Self.timeout)
    }

    @Test("a removed handler leaves no deadline behind")
    func removedHandler() throws {
        let loop = EmbeddedEventLoop()
        let handler = RequestDeadlineHandler(limits: .init(head: Self.timeout))
        let channel = try EmbeddedConnections.bare(handler, loop: loop)
        channel.pipeline.syncOperations.removeHandler(handler, promise: nil)
        loop.advanceTime(by: Self.timeout * 2)
        #expect(channel.isActive)
        #expect(try channel.finish().isClean)
    }

    @Test("slowloris: a head trickled a byte a second never completes and the connection is closed")
    func trickledHead() throws {
        let (channel, loop) = try http1Channel()
        // Each byte is activity an idle timeout would count; none completes the head.
        for byte in "GET /v1/health HTTP/1.1\r\n".utf8.prefix(4) {
            try channel.writeInbound(channel.allocator.buffer(bytes: [byte]))
            loop.advanceTime(by: .seconds(1))
            #expect(channel.isActive)
        }
        #expect(try channel.readInbound(as: HTTPRequestPart.self) == nil)
        loop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive)
        // The decoder reports the half head it was left with when the connection closed: NIO's, not ours.
        _ = try? channel.finish(acceptAlreadyClosed: true)
    }

    @Test("through the HTTP/1 codec: a whole head in time keeps the connection open")
    func parsedHeadInTime() throws {
        let (channel, loop) = try http1Channel()
        loop.advanceTime(by: .seconds(4))
        try channel.writeInbound(channel.allocator.buffer(string: "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n"))
        guard case .head(let request) = try channel.readInbound(as: HTTPRequestPart.self) else {
            Issue.record("the parsed head did not reach the application")
            return
        }
        #expect(request.method == .get && request.path == "/v1/health")
        loop.advanceTime(by: .seconds(60))
        #expect(channel.isActive)
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    // MARK: - The body (issue 21: 520 connections each sending a 2,000-byte body a byte a second held the cloud)

    static let post = HTTPRequestPart.head(HTTPRequest(method: .post, scheme: nil, authority: nil, path: "/v1/visits"))

    func slowBodyChannel(onExpiry: (@Sendable () -> Void)? = nil) throws -> (EmbeddedChannel, EmbeddedEventLoop) {
        var limits = RequestDeadlineHandler.Limits(head: Self.timeout)
        limits.bodyGrace = .seconds(5)
        limits.minimumBodyRate = 100
        let loop = EmbeddedEventLoop()
        return (try EmbeddedConnections.bare(RequestDeadlineHandler(limits: limits, onExpiry: onExpiry), loop: loop), loop)
    }

    @Test("a body trickled a byte a second is cut off one second past the grace, and the cut is reported")
    func trickledBody() throws {
        let expired = Counter()
        let (channel, loop) = try slowBodyChannel(onExpiry: { expired.add() })
        try channel.writeInbound(Self.post)
        for _ in 0..<5 {
            try channel.writeInbound(HTTPRequestPart.body(channel.allocator.buffer(bytes: [0x41])))
            loop.advanceTime(by: .seconds(1))
        }
        #expect(channel.isActive, "cut off within the grace")
        try channel.writeInbound(HTTPRequestPart.body(channel.allocator.buffer(bytes: [0x41])))
        loop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive, "6 bytes in 6 s against 100 B/s after a 5 s grace")
        #expect(expired.value == 1)
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    @Test("a body that keeps the rate stays open however long it is, and the answer's time is not counted")
    func steadyBody() throws {
        let expired = Counter()
        let (channel, loop) = try slowBodyChannel(onExpiry: { expired.add() })
        try channel.writeInbound(Self.post)
        for _ in 0..<60 {
            try channel.writeInbound(HTTPRequestPart.body(channel.allocator.buffer(repeating: 0x41, count: 100)))
            loop.advanceTime(by: .seconds(1))
        }
        #expect(channel.isActive)
        try channel.writeInbound(HTTPRequestPart.end(nil))
        loop.advanceTime(by: Self.timeout * 6)
        #expect(channel.isActive, "the server's own time to answer closed the connection")
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .created)))
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        #expect(expired.value == 0)
        try expectClosed(channel, loop, after: Self.timeout)
        #expect(expired.value == 1, "the next head's deadline is reported too")
    }

    @Test("a body that stops after a good start is cut off once its average falls below the rate")
    func stalledBody() throws {
        let (channel, loop) = try slowBodyChannel()
        try channel.writeInbound(Self.post)
        // 1,000 bytes at once pays for ten seconds past the grace, and no more.
        try channel.writeInbound(HTTPRequestPart.body(channel.allocator.buffer(repeating: 0x41, count: 1000)))
        loop.advanceTime(by: .seconds(15))
        #expect(channel.isActive)
        loop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive)
        _ = try channel.finish(acceptAlreadyClosed: true)
    }


    @Test("pipelined: a second request already in is being served, so the first answer starts no head deadline")
    func pipelinedRequests() throws {
        let (channel, loop) = try bareChannel()
        for _ in 0..<2 {
            try channel.writeInbound(Self.head)
            try channel.writeInbound(HTTPRequestPart.end(nil))
        }
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        loop.advanceTime(by: Self.timeout * 3)
        #expect(channel.isActive, "closed while the second request was being answered")
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        try expectClosed(channel, loop, after: Self.timeout)
    }

    @Test("an answer sent before its body ended: once the body is in, the next head has its deadline")
    func answeredBeforeTheBodyEnded() throws {
        let (channel, loop) = try slowBodyChannel()
        try channel.writeInbound(Self.post)
        // Refused at once (no certificate), before the body was read.
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .unauthorized)))
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        try channel.writeInbound(HTTPRequestPart.body(channel.allocator.buffer(repeating: 0x41, count: 200)))
        try channel.writeInbound(HTTPRequestPart.end(nil))
        try expectClosed(channel, loop, after: Self.timeout)
    }

}

/// A count that the handlers' closures can bump.
final class Counter: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
