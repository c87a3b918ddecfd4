import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOHTTPTypesHTTP1
import Testing

/// Connections on NIO's embedded channel, whose clock moves only when a test moves it.
enum EmbeddedConnections {
    /// `handler` alone on a connected channel: HTTP parts in, HTTP parts out.
    static func bare(_ handler: some ChannelHandler, loop: EmbeddedEventLoop) throws -> EmbeddedChannel {
        try connected(EmbeddedChannel(handler: handler, loop: loop))
    }

    /// `handler` on a connected channel laid out as Hummingbird lays out an HTTP/1.1 connection
    /// (`HTTP1Channel.setup`): the HTTP/1 codec without NIO's error handler, the conversion to HTTP
    /// types, then the additional handler. Bytes in, bytes out.
    static func http1(_ handler: some RemovableChannelHandler, loop: EmbeddedEventLoop) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(loop: loop)
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(
            withPipeliningAssistance: false, withErrorHandling: false, withOutboundHeaderValidation: false,
            withEncoderConfiguration: .init(), withDecoderLimitConfiguration: .init())
        try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
        try channel.pipeline.syncOperations.addHandler(handler)
        return try connected(channel)
    }

    static func connected(_ channel: EmbeddedChannel) throws -> EmbeddedChannel {
        channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 8080), promise: nil)
        #expect(channel.isActive)
        return channel
    }
}

/// Moves the clock to just before `deadline` from now, where the channel must still be open, then to
/// it, where it must be closed; then finishes the channel.
func expectClosed(
    _ channel: EmbeddedChannel, _ loop: EmbeddedEventLoop, after deadline: TimeAmount,
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    loop.advanceTime(by: deadline - .nanoseconds(1))
    #expect(channel.isActive, "closed before the deadline", sourceLocation: sourceLocation)
    loop.advanceTime(by: .nanoseconds(1))
    #expect(!channel.isActive, "still open at the deadline", sourceLocation: sourceLocation)
    _ = try channel.finish(acceptAlreadyClosed: true)
}
