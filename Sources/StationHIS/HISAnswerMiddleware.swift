import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Station

/// The listener's rule that every answer is HTTP 200 with a `statusCode` (HIS code treats any other
/// status as its own failure, never reading the body): a request without the configured bearer value,
/// an unknown path or method, and any failure behind a call are answered in that shape, never as a
/// Hummingbird error page. A call refuses by throwing its `HISPlainAnswer`, which is answered as it is.
struct HISAnswerMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The SHA-256 of `his.token_file`'s value; nil: any local client.
    let bearerDigest: SHA256.Digest?
    let logger: Logger

    init(bearerToken: String?, logger: Logger) {
        bearerDigest = bearerToken.map { SHA256.hash(data: Data($0.utf8)) }
        self.logger = logger
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if let bearerDigest {
            let sent = request.headers[.authorization].flatMap { value in
                value.hasPrefix("Bearer ") ? String(value.dropFirst(7)) : nil
            }
            // Digests compared, in constant time: the comparison says nothing of how much of the value matched.
            guard let sent, SHA256.hash(data: Data(sent.utf8)) == bearerDigest else {
                return try HISRoutes.answer(HISPlainAnswer(.unauthorized, "send Authorization: Bearer and the station's value"))
            }
        }
        do {
            return try await next(request, context)
        } catch let refusal as HISPlainAnswer {
            return try HISRoutes.answer(refusal)  // a call's own refusal (a body it cannot read…), as it is
        } catch let error as HTTPError where error.status == .notFound || error.status == .methodNotAllowed {
            return try HISRoutes.answer(
                HISPlainAnswer(.unknownCall, "no \(request.method) \(request.uri.path) on this listener"))
        } catch {
            if StorageWatch.failure(error) != nil {
                return try HISRoutes.answer(HISPlainAnswer(.storageFailed, "the station cannot write its database"))
            }
            logger.error("an HIS call failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return try HISRoutes.answer(HISPlainAnswer(.internalError, "the station failed; see its log"))
        }
    }
}
