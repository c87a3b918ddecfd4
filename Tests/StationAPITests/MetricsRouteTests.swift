import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Station
import StationAPI
import StationMetrics
import StationModels
import StationRuntime
import StationTestSupport
import TestSupport
import Testing

/// `GET /metrics` (issue 25) as a Prometheus server scrapes it: behind the TCP listener's bearer, the
/// scans the station verified counted, Debian's promtool content with it.
@Suite("GET /metrics: the station's figures for Prometheus")
struct MetricsRouteTests {
    static let bearer = "token-0123456789abcdef"

    @Test("a scan counted by outcome and source, the status's gauges; the bearer required; promtool accepts the scrape")
    func scrape() async throws {
        let exposition = PrometheusExposition(version: "0.0.1", commit: "0123456789ab")
        let fixture = try APIFixture(metrics: exposition.metrics)
        let app = Application(
            router: StationAPI.router(
                service: fixture.service, camera: FixedCameraStatus(.init(state: .streaming, device: "/dev/video0")),
                bearerToken: Self.bearer, metrics: exposition))
        try await app.test(.router) { client in
            let authorized: HTTPFields = [.authorization: "Bearer \(Self.bearer)"]
            for source in ["handheld", "handheld", "his"] {
                try await client.execute(
                    uri: "/v1/scans", method: .post, headers: authorized,
                    body: fixture.scanBody(try fixture.authority.token(), source: source)
                ) { #expect($0.status == .ok) }
            }
            let replay = try fixture.authority.token()
            for _ in 0..<2 {
                try await client.execute(
                    uri: "/v1/scans", method: .post, headers: authorized, body: fixture.scanBody(replay, source: "api")
                ) { #expect($0.status == .ok) }
            }
            // A handheld scanner's garbled line is a refused scan too.
            try fixture.service.refuseScannerLine(OutcomeCode(rawValue: "scanner_garbled"), source: "handheld")
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .unauthorized, "the figures are behind the bearer, as the API is")
            }
            let text = try await client.execute(uri: "/metrics", method: .get, headers: authorized) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == PrometheusExposition.contentType)
                return String(buffer: response.body)
            }
            #expect(text.contains(#"vhc_scans_total{outcome="valid",source="handheld"} 2"#), "\(text)")
            #expect(text.contains(#"vhc_scans_total{outcome="valid",source="his"} 1"#))
            #expect(text.contains(#"vhc_scans_total{outcome="valid",source="api"} 1"#))
            #expect(text.contains(#"vhc_scans_total{outcome="replayed",source="api"} 1"#))
            #expect(text.contains(#"vhc_scans_total{outcome="scanner_garbled",source="handheld"} 1"#))
            #expect(text.contains("vhc_camera_streaming 1") && text.contains("vhc_open_sessions "))
            #expect(text.contains(#"vhc_build_info{version="0.0.1",commit="0123456789ab"} 1"#))
            #expect(!text.contains("A123456789"), "no holder in any label")
            let lint = try Command.run(Command.promtool, ["check", "metrics"], stdin: Data(text.utf8))
            #expect(lint.status == 0, "promtool check metrics: \(lint.stdout)\(lint.stderr)")
        }
    }
}
