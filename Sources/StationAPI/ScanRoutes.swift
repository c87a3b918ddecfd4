import CloudProtocol
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RecordsFHIR
import Station
import StationModels
import VirtualCard

/// The scans: the station's status, a token submitted (a handheld scanner, the HIS), and with it every
/// verdict's wait for the cloud. The picture route is in ImageScanRoute.swift.
extension Routes {
    var scanRoutes: RouteCollection<StationRequestContext> {
        let routes = RouteCollection(context: StationRequestContext.self)
        routes.get("/v1/status") { _, _ in try await Blocking.run { try self.status() } }
        routes.post("/v1/scans") { request, context in try await self.submit(request, context) }
        routes.post("/v1/scans/image") { request, context in try await self.submitImage(request, context) }
        routes.post("/v1/scans/frame") { request, context in try await self.submitFrame(request, context) }
        return routes
    }

    func status() throws -> Response {
        try json(service.status(camera: camera.cameraStatus()))
    }

    func submit(_ request: Request, _ context: StationRequestContext) async throws -> Response {
        let scan = try await Self.decodeJSON(ScanRequest.self, request, context)
        guard scan.token.utf8.count <= 4096 else { throw Problem.badRequest("token is longer than 4096 bytes") }
        return try json(await verdict(on: Array(scan.token.utf8), source: try Self.source(scan.source ?? "api")))
    }

    /// Where a scan came from, as the audit records it: 1 to 32 letters, digits or hyphens.
    static func source(_ source: String) throws -> String {
        guard (1...32).contains(source.count),
            source.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
        else { throw Problem.badRequest("source must be 1 to 32 letters, digits or hyphens") }
        return source
    }

    /// A token text through the station's policy, as every scan goes: the verdict, and online the
    /// visit opened at the cloud within the same request (offline it stays pending).
    func verdict(on token: [UInt8], source: String) async throws -> ScanResponse {
        try await verdicts(on: [token], source: source)[0]
    }

    /// Several token texts (the codes of one picture): each submitted, then one wait for the cloud for
    /// all of them, not one wait each.
    func verdicts(on tokens: [[UInt8]], source: String, setting: CareSetting? = nil) async throws -> [ScanResponse] {
        let service = service
        var outcomes: [StationPolicy.Outcome] = []
        for token in tokens {
            outcomes.append(try await service.submitGrouped(token, source: source, setting: setting))
        }
        if outcomes.contains(where: { $0.session?.cloud?.state == .pendingCloud }), let uplink = service.uplink {
            await uplink.flush(timeout: Self.cloudWait)
            for index in outcomes.indices {
                guard let session = outcomes[index].session, session.cloud?.state == .pendingCloud else { continue }
                outcomes[index].session =
                    try await Blocking.run { try service.reread(sessionID: session.id) } ?? session
            }
        }
        return outcomes.map { outcome in
            ScanResponse(
                accepted: outcome.accepted, code: outcome.code, reason: outcome.reason, holder: outcome.maskedHolder,
                session: outcome.session.map(SessionSummary.init),
                superseded: outcome.superseded.map(SessionSummary.init))
        }
    }

    /// How long a scan's answer waits for the cloud's grant before it says `pending_cloud`.
    static let cloudWait: Duration = .seconds(3)
}
