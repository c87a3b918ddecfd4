import Crypto
import Foundation
import Hummingbird
import NIOCore
import StationModels

/// The request context of the station's API: small bodies (a token is a few hundred bytes), and the
/// listener the request came in on, which the audit log records for session reads.
package struct StationRequestContext: RequestContext {
    package static let maximumBodySize = 16 * 1024
    package var coreContext: CoreRequestContextStorage
    /// `unix` or `tcp`, with the peer where one is known.
    package var client: String
    /// How the request was let in: the Unix socket, the bearer token (a machine), or the page's
    /// sign-in cookie (a browser, whose screen masks holders).
    package var access: Access

    package enum Access: Sendable, Equatable {
        case socket, machine, browser
    }

    /// Whether the client's sign-in still holds: a browser's ends with its page session, which ends a
    /// long answer (the event stream) in progress too.
    package var stillSignedIn: @Sendable () -> Bool = { true }
    /// Completes when the connection closes: a long response (an event stream) stops at once instead of
    /// at its next write.
    package let connectionClosed: EventLoopFuture<Void>

    package init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        connectionClosed = source.channel.closeFuture
        client =
            switch source.channel.remoteAddress {
            case .some(.unixDomainSocket): "unix"
            case .some(let address): "tcp \(address.ipAddress ?? "?")"
            case .none: "unix"
            }
        access = client == "unix" ? .socket : .machine
    }

    package var maxUploadSize: Int { Self.maximumBodySize }
}

extension StationRequestContext {
    /// A session as this client may see it: a browser's screen may face a waiting room, so it gets the
    /// masked holder; the HIS and the socket's clients get the identity they file the visit under.
    func shown(_ session: VisitSession) -> VisitSession {
        access == .browser ? session.maskedForSharedScreen : session
    }
}
