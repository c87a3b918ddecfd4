import ConnectionGuards
import Foundation
import Hummingbird
import NIOCore
import Station
import StationModels

/// The shared problem document, made from this server's errors.
extension Problem {
    package init(status: HTTPResponse.Status, code: APIErrorCode, title: String, detail: String) {
        self.init(status: status.code, code: code, title: title, detail: detail)
    }

    /// A card that could not be opened at a login: the PIN refused (with what the card says of the tries
    /// left), a module the station does not allow, a URI that names nothing or too much.
    static func card(_ error: CardError) -> Problem {
        let (status, title): (HTTPResponse.Status, String) =
            switch error.code {
            case "pin_incorrect": (.forbidden, "The card refused the PIN; it is not sent again")
            case "pin_locked": (.forbidden, "The card's PIN is locked")
            case "module_not_allowed": (.forbidden, "The station does not load that PKCS#11 module")
            case "token_removed": (.conflict, "The card is not there")
            default: (.unprocessableContent, "The card cannot be used")
            }
        return Problem(status: status, code: APIErrorCode(rawValue: error.code), title: title, detail: error.description)
    }

    package static func badRequest(_ detail: String) -> Problem {
        Problem(status: .badRequest, code: .requestMalformed, title: "The request is malformed", detail: detail)
    }

    static let tooLarge = Problem(
        status: .contentTooLarge, code: .requestTooLarge, title: "The request body is too large",
        detail: "bodies are limited to \(StationRequestContext.maximumBodySize) bytes")

    /// The problem for an error thrown anywhere behind the routes. Internal failures say only that
    /// something failed: their detail goes to the log, not to the client.
    static func from(_ error: any Error) -> Problem {
        switch error {
        case let problem as Problem:
            return problem
        case let session as SessionError:
            let status: HTTPResponse.Status =
                switch session.code {
                case .sessionNotFound: .notFound
                case .sessionNotOpen, .idCheckNotNeeded, .visitNotForwarded: .conflict
                case .grantExpired: .gone
                default: .unprocessableContent
                }
            return Problem(status: status, code: session.code, title: session.message, detail: session.message)
        case .refused(let problem) as CloudAccessError:
            // The cloud's own code and status (grant_expired, grant_not_yours…), said to come from it.
            // The cloud's status only when it is an error status (it comes from the network); else 502.
            return Problem(
                status: (400...599).contains(problem.status) ? problem.status : 502,
                code: APIErrorCode(rawValue: problem.code.rawValue),
                title: "The cloud refused: \(problem.title)", detail: problem.detail)
        case .unavailable(let reason) as CloudAccessError:
            return Problem(
                status: .serviceUnavailable, code: .cloudUnavailable, title: "The cloud does not answer",
                detail: reason)
        case is DecodingError:
            return .badRequest("the body is not the JSON this route expects")
        case let busy where StationDatabase.isBusy(busy):
            return .databaseBusy
        case let storage where StorageWatch.failure(storage) != nil:
            guard case .unavailable(let reason)? = StorageWatch.failure(storage) else { return .storageFull }
            return Problem(
                status: .serviceUnavailable, code: .storageUnavailable, title: "The station cannot write its database",
                detail: "\(reason); nothing was recorded: see the station's status and log")
        case is NIOTooManyBytesError:
            return .tooLarge
        case let http as HTTPError:
            switch http.status {
            case .contentTooLarge:
                return .tooLarge
            case .notFound:
                return Problem(
                    status: .notFound, code: .routeNotFound, title: "No such route",
                    detail: "see docs/openapi.yaml for the routes")
            case .methodNotAllowed:
                return .methodNotAllowed
            case .badRequest:
                return .badRequest(http.body ?? "the request could not be read")
            default:
                return Problem(
                    status: http.status, code: APIErrorCode(rawValue: "http_\(http.status.code)"),
                    title: http.status.reasonPhrase,
                    detail: http.body ?? http.status.reasonPhrase)
            }
        default:
            return Problem(
                status: .internalServerError, code: .internalError, title: "The station failed",
                detail: "the station could not complete the request; see its log")
        }
    }

    /// Another process held the database's write lock past the busy timeout; the client retries.
    static let databaseBusy = Problem(
        status: .serviceUnavailable, code: .databaseBusy, title: "The station's database is busy",
        detail: "another process holds the database's lock; try again in a moment")
    static let retryAfterSeconds = 2

    /// SQLITE_FULL: the write was rolled back whole, so the client may send the same request again.
    static let storageFull = Problem(
        status: 507, code: .storageFull, title: "The station's disk is full",
        detail: "nothing was recorded; free space on the station's disk, then scan again")

    static let methodNotAllowed = Problem(
        status: .methodNotAllowed, code: .methodNotAllowed, title: "Method not allowed",
        detail: "see docs/openapi.yaml for the methods of each route")

    /// A route of the Unix socket asked for on the TCP listener: no method is allowed there.
    static let socketOnly = Problem(
        status: .methodNotAllowed, code: .methodNotAllowed, title: "Method not allowed",
        detail: "this route is served on the station's Unix socket only")

    /// A login, records or a consent at a station that forwards to no cloud.
    static let cloudNotConfigured = Problem(
        status: .conflict, code: .cloudNotConfigured, title: "The station forwards to no cloud",
        detail: "set cloud.url in the configuration to log practitioners in, read records or ask consent")

    static let unsupportedMediaType = Problem(
        status: .unsupportedMediaType, code: .unsupportedMediaType, title: "The body must be JSON",
        detail: "send Content-Type: application/json")

    /// What the server answers when the HTTP parser cannot read a request.
    package static let unreadable = Problem.badRequest("the request is not HTTP/1.1 this server can read")

    package var json: [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(self)) ?? Data(#"{"code":"internal_error"}"#.utf8))
    }

    func response(headers extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        headers.append(contentsOf: extra)
        return Response(
            status: HTTPResponse.Status(code: status), headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: json)))
    }
}

/// Turns every error behind it into problem+json, unknown routes included, and logs internal ones.
/// A known path asked with a method it does not answer is 405 with `Allow`.
/// A write the disk refused is also recorded in `storage`, so the station's status says so.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    let methods: RouteMethods
    let storage: StorageWatch
    let clock: @Sendable () -> Int64

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let http as HTTPError where http.status == .notFound && methods.allowed(at: request.uri.path) != nil {
            let allowed = methods.allowed(at: request.uri.path) ?? []
            let problem = allowed.isEmpty ? Problem.socketOnly : Problem.methodNotAllowed
            return problem.response(headers: [.allow: allowed.joined(separator: ", ")])
        } catch {
            let problem = Problem.from(error)
            storage.record(error, at: clock())
            if problem.status >= 500 && problem != .databaseBusy && problem != .imageBusy {
                context.logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            }
            if problem == .databaseBusy || problem == .imageBusy {
                return problem.response(headers: [.retryAfter: String(Problem.retryAfterSeconds)])
            }
            return problem.response()
        }
    }
}
