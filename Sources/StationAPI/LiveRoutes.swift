import CloudProtocol
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RecordsFHIR
import Station
import StationModels
import VirtualCard

/// The live side and the day: server-sent events, remote consent (its outcome comes as events), and
/// the day's figures.
extension Routes {
    var liveRoutes: RouteCollection<StationRequestContext> {
        let routes = RouteCollection(context: StationRequestContext.self)
        routes.get("/v1/events") { request, context in
            try self.events(request, closed: context.connectionClosed, stillSignedIn: context.stillSignedIn)
        }
        routes.post("/v1/consents") { request, context in try await self.requestConsent(request, context) }
        routes.get("/v1/consents") { _, _ in
            try await Blocking.run { try self.json(StationConsentList(consents: self.service.recentConsents())) }
        }
        routes.post("/v1/consents/{id}/cancel") { _, context in try await self.cancelConsent(context) }
        routes.get("/v1/stats/day") { _, _ in try await Blocking.run { try self.day() } }
        return routes
    }

    /// `POST /v1/consents`: asks the patient, through the cloud, to consent to a remote visit. The
    /// answer is the request (patient masked); approval opens a session as a scan, and refusal or
    /// timeout are events.
    func requestConsent(_ request: Request, _ context: StationRequestContext) async throws -> Response {
        let asked = try await Self.decodeJSON(StationConsentRequest.self, request, context)
        guard TaiwanID.isValid(asked.patientId) else { throw Problem.badRequest("patientId must be a valid ID number") }
        let setting: CareSetting
        if let text = asked.setting {
            guard let named = CareSetting(rawValue: text), ConsentRequest.remoteSettings.contains(named) else {
                throw Problem.badRequest("setting must be telemedicine or video_consultation")
            }
            setting = named
        } else if let station = service.settings.forwarding?.setting, ConsentRequest.remoteSettings.contains(station) {
            setting = station
        } else {
            setting = .telemedicine
        }
        guard service.uplink != nil else { throw Problem.cloudNotConfigured }
        let consent = try await service.requestConsent(patientID: asked.patientId, setting: setting)
        return try json(consent)
    }

    /// `POST /v1/consents/{id}/cancel`: withdraws a pending request at the cloud and here; the request as
    /// it now is. One that ended first is 409 `consent_ended`, with how it ended.
    func cancelConsent(_ context: StationRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard service.uplink != nil else { throw Problem.cloudNotConfigured }
        do {
            return try json(try await service.cancelConsent(id: id))
        } catch ConsentCancelError.unknown {
            throw Problem(
                status: .notFound, code: .consentUnknown, title: "No such consent request",
                detail: "this station asked no consent with this id")
        } catch ConsentCancelError.ended(let consent) {
            throw Problem(
                status: .conflict, code: .consentEnded, title: "The consent request has ended",
                detail: "it is \(consent.state.rawValue)\(consent.code.map { " (\($0))" } ?? "")")
        }
    }
    /// `GET /v1/stats/day`: today's scans per hour and refusals by code (Asia/Taipei's day).
    func day() throws -> Response {
        try json(service.dayStatistics())
    }

    /// Server-sent events: one `event:`/`id:`/`data:` block per station event, and a comment line
    /// every `keepAlive` seconds so proxies and clients see the stream is alive. `Last-Event-ID`
    /// replays the kept events after that id first.
    func events(
        _ request: Request, closed: EventLoopFuture<Void>, stillSignedIn: @escaping @Sendable () -> Bool = { true }
    ) throws -> Response {
        // A reconnecting client names the last event it saw and gets the kept ones after it.
        // `?after=` says the same for a first connection, which an EventSource cannot give headers (a page
        // reloaded picks up where it was). Either, when sent, must be an id this station could have given.
        func eventID(_ text: Substring?, _ name: String) throws -> Int64? {
            guard let text else { return nil }
            guard let id = Int64(text), id >= 0 else {
                throw Problem.badRequest("\(name) must be an event id: an integer from 0")
            }
            return id
        }
        let header = try eventID(request.headers[HTTPField.Name("Last-Event-ID")!].map { Substring($0) }, "Last-Event-ID")
        let query = try eventID(request.uri.queryParameters["after"], "after")
        let lastEventID = header ?? query
        let stream = service.subscribe(after: lastEventID)
        let keepAlive = keepAlive
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                // Events and keep-alive comments meet in one stream with one writer.
                let (output, sink) = AsyncStream.makeStream(of: ByteBuffer.self, bufferingPolicy: .bufferingNewest(512))
                // A client that hangs up ends its stream now, and with it the subscription; waiting for
                // the next write to fail would keep every closed stream until the next keep-alive.
                closed.whenComplete { _ in sink.finish() }
                sink.yield(ByteBuffer(string: ": vhc-station events\n\n"))
                let producers = Task {
                    await withTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for await event in stream { sink.yield(Self.serverSentEvent(event)) }
                            sink.finish()  // the bus finished: the daemon is stopping
                        }
                        group.addTask {
                            // Each beat also checks the sign-in: a page signed out stops receiving.
                            while (try? await Task.sleep(for: .seconds(keepAlive))) != nil, stillSignedIn() {
                                sink.yield(ByteBuffer(string: ": keep-alive\n\n"))
                            }
                            sink.finish()
                        }
                        await group.next()
                        group.cancelAll()
                    }
                }
                // A client that goes away makes a write throw: stop feeding it (and unsubscribe).
                defer { producers.cancel() }
                for await buffer in output { try await writer.write(buffer) }
                // After a hang-up there is nothing left to finish.
                try? await writer.finish(nil)
            })
    }

    static func serverSentEvent(_ event: StationEvent) -> ByteBuffer {
        let data = (try? Self.encoder.encode(event)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return ByteBuffer(string: "id: \(event.id)\nevent: \(event.type)\ndata: \(data)\n\n")
    }
}
