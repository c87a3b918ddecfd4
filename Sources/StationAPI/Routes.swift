import CloudProtocol
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RecordsFHIR
import Station
import StationModels
import VirtualCard

/// What the API's route collections share: the station, the camera's status, the image reader, and the
/// helpers every handler uses (JSON in and out, a session id from the path). Each collection is built
/// in its own file (ScanRoutes, SessionRoutes, LiveRoutes, SocketRoutes) and added by `StationAPI`.
struct Routes: Sendable {
    let service: StationService
    let camera: any CameraStatusProviding
    let images: (any StillImageReader)?
    let keepAlive: Double
    /// One image read at a time (`POST /v1/scans/image`), and one live capture's frame
    /// (`POST /v1/scans/frame`), apart: a picture being read does not stall a capture.
    let imageGate = ImageGate()
    let frameGate = ImageGate()
    /// What live captures read in the last seconds, and the ladder's turn.
    let captures = CaptureMemory()

    /// A JSON body. A body declared as something else (a form, plain text) is 415, not parsed as JSON;
    /// one sent without a Content-Type is read as JSON, as the API always has.
    static func decodeJSON<T: Decodable>(
        _ type: T.Type, _ request: Request, _ context: StationRequestContext
    )
        async throws -> T
    {
        if let media = mediaType(request) {
            guard media == "application/json" || (media.hasPrefix("application/") && media.hasSuffix("+json"))
            else { throw Problem.unsupportedMediaType }
        }
        return try await request.decode(as: type, context: context)
    }

    /// The declared Content-Type without its parameters, lower-cased; nil when none is declared.
    static func mediaType(_ request: Request) -> String? {
        request.headers[.contentType].map {
            ($0.split(separator: ";").first.map(String.init) ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        }
    }


    func sessionID(_ context: StationRequestContext) throws -> String {
        let id = try context.parameters.require("id")
        guard id.count <= 64, id.allSatisfy({ $0.isASCII && ($0.isHexDigit || $0 == "-") }) else {
            throw SessionError(.sessionNotFound, "no session \(id.prefix(64))")
        }
        return id
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    func json(_ value: some Encodable, contentType: String = "application/json") throws -> Response {
        Response(
            status: .ok, headers: [.contentType: contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: try Self.encoder.encode(value))))
    }
}
