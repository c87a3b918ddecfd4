import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Answers a request the HTTP parser cannot read with a problem+json body, as every other error is
/// answered, then closes the connection (the stream cannot be trusted to resynchronise). Without it
/// the server sends a bare 400. Installed through Hummingbird's `additionalChannelHandlers`.
package final class MalformedRequestResponder: ChannelInboundHandler, RemovableChannelHandler {
    package typealias InboundIn = HTTPRequestPart
    package typealias InboundOut = HTTPRequestPart
    package typealias OutboundOut = HTTPResponsePart

    let body: [UInt8]
    let contentType: String

    /// - Parameter problem: the JSON body to answer with (its status must be 400).
    package init(problem: [UInt8], contentType: String = "application/problem+json") {
        body = problem
        self.contentType = contentType
    }

    package func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        var head = HTTPResponse(status: .badRequest)
        head.headerFields[.contentType] = contentType
        head.headerFields[.contentLength] = String(body.count)
        head.headerFields[.connection] = "close"
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(context.channel.allocator.buffer(bytes: body))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}
