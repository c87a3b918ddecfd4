import Foundation
import Hummingbird
import Station
import StationAPI
import StationMetrics
import Testing
import Yams

@Suite("docs/openapi.yaml describes exactly the routes the daemon serves")
struct OpenAPITests {
    @Test("the same methods and paths, in both directions; every operation documents its problem responses")
    func routesMatch() async throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let text = try String(contentsOf: repository.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
        let document = try #require(try Yams.load(yaml: text) as? [String: Any])
        #expect((document["openapi"] as? String)?.hasPrefix("3.1") == true)
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        var documented = Set<String>()
        for (path, operations) in paths {
            for (method, operation) in operations {
                documented.insert("\(method.uppercased()) \(path)")
                let responses = (operation as? [String: Any])?["responses"] as? [String: Any]
                #expect(responses?["default"] != nil, "\(method) \(path) documents its problem+json responses")
            }
        }
        let fixture = try APIFixture()
        // The Unix socket's routes and the TCP listener's with the page: together, every route served.
        let unix = StationAPI.router(service: fixture.service, camera: FixedCameraStatus(.none))
        let tcp = StationAPI.router(
            service: fixture.service, camera: FixedCameraStatus(.none), bearerToken: "t",
            web: WebSignIns(host: "127.0.0.1", port: 8787, sessionSeconds: 3600, clock: { 0 }),
            metrics: PrometheusExposition(version: "1", commit: "unknown"))
        // Hummingbird writes path parameters as {id} too; paths come without a leading slash or with one.
        let served = Set(
            (unix.routes + tcp.routes).map { route -> String in
                let path = route.path.description
                return "\(route.method) \(path.hasPrefix("/") ? path : "/" + path)"
            })
        #expect(
            served == documented,
            "served only: \(served.subtracting(documented)); documented only: \(documented.subtracting(served))")
    }
}
