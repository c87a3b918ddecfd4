import Crypto
import Foundation
import Hummingbird
import NIOCore
import StationModels

/// The request context of the station's API: small bodies (a token is a few hundred bytes), and the
/// listener the request came in on, which the audit log records for session reads.
public struct StationRequestContext: RequestContext {
    public static let maximumBodySize = 16 * 1024
    public var coreContext: CoreRequestContextStorage
    /// `unix` or `tcp`, with the peer where one is known.
    public let client: String
    /// Completes when the connection closes: a long response (an event stream) stops at once instead of
    /// at its next write.
    public let connectionClosed: EventLoopFuture<Void>

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        connectionClosed = source.channel.closeFuture
        client =
            switch source.channel.remoteAddress {
            case .some(.unixDomainSocket): "unix"
            case .some(let address): "tcp \(address.ipAddress ?? "?")"
            case .none: "unix"
            }
    }

    public var maxUploadSize: Int { Self.maximumBodySize }
}

/// Requires `Authorization: Bearer TOKEN` (the loopback TCP listener): a missing or wrong token is a
/// 401 problem. The comparison takes the same time whatever the token, so it leaks nothing.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let expectedDigest: SHA256.Digest

    init(token: String) { expectedDigest = SHA256.hash(data: Data(token.utf8)) }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        let header = request.headers[.authorization] ?? ""
        let presented = header.hasPrefix("Bearer ") ? String(header.dropFirst("Bearer ".count)) : ""
        // Comparing fixed-length digests: the time does not depend on where the strings differ.
        let presentedDigest = SHA256.hash(data: Data(presented.utf8))
        guard !presented.isEmpty, presentedDigest == expectedDigest else {
            var response = Problem(
                status: .unauthorized, code: .unauthorized, title: "A valid bearer token is required",
                detail: "send Authorization: Bearer with the token from the station's api.token_file"
            ).response()
            response.headers[.wwwAuthenticate] = #"Bearer realm="vhc-station""#
            return response
        }
        return try await next(request, context)
    }
}
