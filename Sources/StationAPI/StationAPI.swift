import ConnectionGuards
import Hummingbird
import Station
import StationMetrics

/// The station's local HTTP API (docs/openapi.yaml): JSON in and out, errors as problem+json,
/// live events as server-sent events. The same routes serve the Unix socket and, with a bearer
/// token, the optional loopback TCP listener.
package enum StationAPI {
    /// The routes over `service`. `bearerToken` set: the TCP listener, where every request must present
    /// it, or the page's sign-in cookie when `web` is given (and the page is served there too). On the
    /// Unix socket `web` lets `vhc web` ask for a sign-in link.
    /// `images` reads the pictures of `POST /v1/scans/image` (the runtime's ladder); without one the
    /// route refuses them. `metrics` serves `GET /metrics` (both listeners).
    package static func router(
        service: StationService, camera: any CameraStatusProviding, images: (any StillImageReader)? = nil,
        bearerToken: String? = nil, web: WebSignIns? = nil, metrics: PrometheusExposition? = nil,
        keepAliveSeconds: Double = 15
    ) -> Router<StationRequestContext> {
        let router = Router(context: StationRequestContext.self)
        let methods = RouteMethods()
        if bearerToken != nil { router.add(middleware: SecurityHeadersMiddleware()) }
        router.add(
            middleware: ProblemMiddleware(methods: methods, storage: service.policy.database.storage, clock: service.clock))
        if let bearerToken { router.add(middleware: TCPAccessMiddleware(token: bearerToken, web: web)) }
        let routes = Routes(service: service, camera: camera, images: images, keepAlive: keepAliveSeconds)
        router.addRoutes(routes.scanRoutes)
        router.addRoutes(routes.sessionRoutes)
        router.addRoutes(routes.liveRoutes)
        if let metrics { router.addRoutes(MetricsRoute(service: service, camera: camera, exposition: metrics).routes) }
        var servedElsewhere: [String] = []
        if bearerToken == nil {
            router.addRoutes(routes.socketRoutes(web: web))
        } else {
            if let web { router.addRoutes(WebPage(signIns: web, station: service).routes) }

            // The socket's own routes are in the same OpenAPI document: here each is a known path that
            // allows no method (405), not an unknown one (404).
            let socket = Router(context: StationRequestContext.self)
            socket.addRoutes(routes.socketRoutes(web: web))
            servedElsewhere = socket.routes.map(\.path.description)
        }
        methods.record(router.routes.map { ($0.path.description, $0.method.rawValue) }, servedElsewhere: servedElsewhere)
        return router
    }
}
