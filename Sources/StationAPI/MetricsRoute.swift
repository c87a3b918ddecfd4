import Hummingbird
import Station
import StationMetrics

/// `GET /metrics` (on the TCP listener behind its bearer like every route there, and on the socket): the station's figures in
/// Prometheus' text format for a fleet's monitoring (docs/operations.md). The gauges are read from the
/// station's status at each scrape, so a scrape costs what `GET /v1/status` costs.
struct MetricsRoute {
    let service: StationService
    let camera: any CameraStatusProviding
    let exposition: PrometheusExposition

    var routes: RouteCollection<StationRequestContext> {
        let routes = RouteCollection(context: StationRequestContext.self)
        routes.get("/metrics") { _, _ in
            let text = try await Blocking.run {
                exposition.scrape(
                    try service.status(camera: camera.cameraStatus()), residentBytes: ProcessMemory.residentBytes())
            }
            return Response(
                status: .ok, headers: [.contentType: PrometheusExposition.contentType],
                body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
        return routes
    }
}
