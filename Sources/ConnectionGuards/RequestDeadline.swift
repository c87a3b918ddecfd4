import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Closes a connection whose request does not arrive in time. The head must be complete `head` after
/// the connection opens or after the last response; the body must then keep up `minimumBodyRate`
/// bytes a second, counted from the head, after a `bodyGrace` allowance. An idle timeout alone does
/// neither: a client that trickles a byte now and then never looks idle (slowloris for the head, a
/// slow POST for the body). The time the server takes to answer is never counted: the head deadline runs
/// only while every request received has been answered and no body is arriving (pipelined requests
/// wait for their answers, not for a deadline; an answer sent before its body ended still leads to the
/// next head's deadline once the body is in). Installed per connection through Hummingbird's
/// `additionalChannelHandlers`, after the HTTP codec.
package final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    package typealias InboundIn = HTTPRequestPart
    package typealias InboundOut = HTTPRequestPart
    package typealias OutboundIn = HTTPResponsePart
    package typealias OutboundOut = HTTPResponsePart

    package struct Limits: Sendable, Equatable {
        package var head: TimeAmount = .seconds(10)
        package var bodyGrace: TimeAmount = .seconds(5)
        /// Bytes a second a body must average once the grace is spent (a visit opening is 1–2 KB: a
        /// GPRS link sends several KB a second). Counted as the bytes reach this handler, so a route must
        /// read its body as it comes (every route here does) rather than hold it back for seconds.
        package var minimumBodyRate = 1024
        package init() {}
        package init(head: TimeAmount) { self.head = head }
    }

    let limits: Limits
    /// Told each time a connection is closed for being too slow (for counting).
    let onExpiry: (@Sendable () -> Void)?
    private var deadline: Scheduled<Void>?
    /// While a request's body is arriving: the bytes so far, and the seconds past the grace checked.
    private var body: (bytes: Int, seconds: Int64)?
    /// Requests whose head has arrived and whose answer has not ended.
    private var unanswered = 0

    package init(limits: Limits, onExpiry: (@Sendable () -> Void)? = nil) {
        self.limits = limits
        self.onExpiry = onExpiry
    }

    package func handlerAdded(context: ChannelHandlerContext) { waitForHead(context) }

    package func handlerRemoved(context: ChannelHandlerContext) { disarm() }

    package func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            unanswered += 1
            body = (0, 0)
            checkBody(context, in: limits.bodyGrace + .seconds(1))
        case .body(let bytes):
            body?.bytes += bytes.readableBytes
        case .end:
            // The request is whole: what follows is the server's time, not the client's, unless the
            // server has already answered it.
            body = nil
            if unanswered == 0 { waitForHead(context) } else { disarm() }
        }
        context.fireChannelRead(data)
    }

    package func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            unanswered = max(0, unanswered - 1)
            if unanswered == 0, body == nil { waitForHead(context) }
        }
        context.write(data, promise: promise)
    }

    private func waitForHead(_ context: ChannelHandlerContext) {
        arm(context, in: limits.head) { [weak self] in self?.expire(context) }
    }

    /// Once a second past the grace, the body must have brought `minimumBodyRate` bytes for every one
    /// of those seconds.
    private func checkBody(_ context: ChannelHandlerContext, in delay: TimeAmount) {
        arm(context, in: delay) { [weak self] in
            guard let self, var body = self.body else { return }
            body.seconds += 1
            self.body = body
            if Int64(body.bytes) < Int64(limits.minimumBodyRate) * body.seconds {
                expire(context)
            } else {
                checkBody(context, in: .seconds(1))
            }
        }
    }

    private func expire(_ context: ChannelHandlerContext) {
        onExpiry?()
        context.close(promise: nil)
    }

    private func arm(_ context: ChannelHandlerContext, in delay: TimeAmount, _ task: @escaping () -> Void) {
        disarm()
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: delay, task)
    }

    private func disarm() {
        deadline?.cancel()
        deadline = nil
    }
}
