import NIOCore
import NIOSSL
import NIOTLS

/// Puts a TLS connection in a `ConnectionLedger` from its first moment: it asks for a slot when the
/// connection opens, closes it when its handshake has not finished within `handshakeTimeout` (a socket
/// that never says hello must not hold a slot for the whole idle timeout), and at the end of the
/// handshake reports the credential its client certificate proves (`credential`, nil when none or not
/// accepted). Installed right after the TLS handler, where the handshake's completion is announced.
package final class ConnectionAdmissionHandler: ChannelInboundHandler, RemovableChannelHandler {
    package typealias InboundIn = ByteBuffer
    package typealias InboundOut = ByteBuffer
    /// The credential a client certificate proves, or nil; may take its time (the connection keeps
    /// its unauthenticated slot meanwhile).
    package typealias CredentialCheck = @Sendable (NIOSSLCertificate) async -> String?

    let ledger: ConnectionLedger
    let handshakeTimeout: TimeAmount
    let credential: CredentialCheck
    private var id: ConnectionLedger.ID?
    private var deadline: Scheduled<Void>?

    package init(ledger: ConnectionLedger, handshakeTimeout: TimeAmount, credential: @escaping CredentialCheck) {
        self.ledger = ledger
        self.handshakeTimeout = handshakeTimeout
        self.credential = credential
    }

    package func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { admit(context) }
    }

    package func channelActive(context: ChannelHandlerContext) {
        admit(context)
        context.fireChannelActive()
    }

    package func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        if let id { ledger.closed(id) }
        context.fireChannelInactive()
    }

    package func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent, let id {
            deadline?.cancel()
            deadline = nil
            handshakeCompleted(id, context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func admit(_ context: ChannelHandlerContext) {
        guard id == nil else { return }
        let channel = context.channel
        let address = channel.remoteAddress?.ipAddress ?? "unknown"
        guard let id = ledger.open(address: address, close: { channel.close(promise: nil) }) else {
            channel.close(promise: nil)
            return
        }
        self.id = id
        let ledger = self.ledger
        deadline = context.eventLoop.scheduleTask(in: handshakeTimeout) {
            ledger.handshakeTimedOut(id)
            channel.close(promise: nil)
        }
    }

    private func handshakeCompleted(_ id: ConnectionLedger.ID, _ context: ChannelHandlerContext) {
        let channel = context.channel
        guard let certificate = try? context.pipeline.syncOperations.nioSSL_peerCertificate() else {
            if !ledger.handshakeDone(id, credential: nil) { channel.close(promise: nil) }
            return
        }
        let (ledger, credential) = (self.ledger, self.credential)
        Task {
            let proved = await credential(certificate)
            if !ledger.handshakeDone(id, credential: proved) { channel.close(promise: nil) }
        }
    }
}
