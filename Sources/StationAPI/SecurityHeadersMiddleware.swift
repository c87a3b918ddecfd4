import CloudProtocol
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Station
import StationModels
import StationWeb
import Synchronization
import VirtualCard

/// The headers every answer on the TCP listener carries: a strict Content-Security-Policy (the page's
/// own scripts and styles only, no inline code, no other origin, no framing), no MIME sniffing, no
/// Referer, and no caching of answers that hold patients' data.
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = StationRequestContext
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        + "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        var response = try await next(request, context)
        response.headers[HTTPField.Name("Content-Security-Policy")!] = Self.contentSecurityPolicy
        response.headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        response.headers[HTTPField.Name("Cross-Origin-Opener-Policy")!] = "same-origin"
        response.headers[HTTPField.Name("Cross-Origin-Resource-Policy")!] = "same-origin"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}
