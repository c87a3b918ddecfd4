import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL
import TestSupport

/// Issue 24's target: the HIS compatibility listener's `VirtualHc/ReadBasic` and `Verification/VirtualHc`
/// within 2 ms of the station's own scan route (`POST /v1/scans`) at the median. One release daemon serves
/// both, each as deployed: the scan route on `api.tcp` (HTTP on loopback, the bearer), the listener on
/// `his.listen` (HTTPS with the station's self-signed certificate, not verified, as HIS code connects). The
/// three calls are interleaved one at a time, each with a fresh token, so a busy moment of the machine falls
/// on all of them alike; every connection is kept alive, as an HIS's client keeps its own.
extension DaemonBenchmark {
    static func hisBesideScanRoute(daemonPath: String, authority: Authority, folder: String, samples: Int) async throws {
        say("\n## The HIS compatibility listener beside POST /v1/scans (the release daemon, loopback TCP)")
        let bearer = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let tokenFile = folder + "/api-token"
        FileManager.default.createFile(
            atPath: tokenFile, contents: Data(bearer.utf8), attributes: [.posixPermissions: 0o600])
        let apiPort = Loopback.freePort()
        var hisPort = Loopback.freePort()
        while hisPort == apiPort { hisPort = Loopback.freePort() }
        let daemon = try Daemon(
            path: daemonPath, authority: authority, folder: folder, name: "his", camera: nil,
            options: [
                "--tcp", "127.0.0.1:\(apiPort)", "--api-token-file", tokenFile, "--his-listen", "127.0.0.1:\(hisPort)",
            ])
        defer { daemon.stop() }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none  // the station's own certificate, as HIS code connects to the console
        let client = HTTPClient(
            eventLoopGroupProvider: .singleton, configuration: HTTPClient.Configuration(tlsConfiguration: tls))
        do {
            try await measure(client, apiPort: apiPort, hisPort: hisPort, bearer: bearer, authority: authority, samples: samples)
        } catch {
            try await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    static func measure(
        _ client: HTTPClient, apiPort: Int, hisPort: Int, bearer: String, authority: Authority, samples: Int
    ) async throws {
        let scanRoute = Call(
            url: "http://127.0.0.1:\(apiPort)/v1/scans", headers: [("Authorization", "Bearer \(bearer)")],
            body: { #"{"token":"\#($0)","source":"bench"}"# }, accepted: #""accepted":true"#)
        let readBasic = Call(
            url: "https://127.0.0.1:\(hisPort)/api/hc/v1/VirtualHc/ReadBasic", headers: [],
            body: { #"{"token":"\#($0)"}"# }, accepted: #""statusCode":0"#)
        let verification = Call(
            url: "https://127.0.0.1:\(hisPort)/api/hc/v1/Verification/VirtualHc", headers: [],
            body: { #"{"token":"\#($0)"}"# }, accepted: #""statusCode":0"#)
        // The listener's certificate is made on first start: wait for it to answer.
        for attempt in 0..<100 {
            do {
                _ = try await readBasic.time(try authority.token(), client)
                break
            } catch where attempt < 99 {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        for _ in 0..<20 {  // warm-up: connections made, caches filled
            _ = try await scanRoute.time(try authority.token(), client)
            let token = try authority.token()
            _ = try await readBasic.time(token, client)
            _ = try await verification.time(token, client)
        }
        var (scans, reads, verifications) = ([Double](), [Double](), [Double]())
        for round in 0..<samples {
            // The HIS's order: the card read, then verified (consumed): the same token twice. The scan route's
            // call goes before them, between them or after them in turn, so no call always follows another.
            let token = try authority.token()
            if round % 3 == 0 { scans.append(try await scanRoute.time(try authority.token(), client)) }
            reads.append(try await readBasic.time(token, client))
            if round % 3 == 1 { scans.append(try await scanRoute.time(try authority.token(), client)) }
            verifications.append(try await verification.time(token, client))
            if round % 3 == 2 { scans.append(try await scanRoute.time(try authority.token(), client)) }
        }
        let baseline = percentile(scans, 50)
        say(
            String(
                format: "baseline, POST /v1/scans over api.tcp: median %.2f ms, p99 %.2f ms (%d samples)", baseline,
                percentile(scans, 99), scans.count))
        for (name, values) in [("VirtualHc/ReadBasic", reads), ("Verification/VirtualHc", verifications)] {
            let median = percentile(values, 50)
            say(
                String(
                    format: "%@ over his.listen (HTTPS): median %.2f ms, p99 %.2f ms; %+.2f ms from the scan route's median, ratio %.2f (target: within 2 ms) %@",
                    name, median, percentile(values, 99), median - baseline, median / max(baseline, 0.001),
                    median - baseline <= 2 ? "met" : "NOT MET"))
        }
    }

    /// One call of the benchmark: where, with what, and the text its accepting answer holds.
    struct Call: Sendable {
        let url: String
        let headers: [(String, String)]
        let body: @Sendable (String) -> String
        let accepted: String

        /// Milliseconds from the request sent to the whole answer read; an answer that does not accept fails.
        func time(_ token: String, _ client: HTTPClient) async throws -> Double {
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            request.body = .bytes(ByteBuffer(string: body(token)))
            let clock = ContinuousClock(), start = clock.now
            let response = try await client.execute(request, timeout: .seconds(10))
            let answer = try await response.body.collect(upTo: 1 << 20)
            let elapsed = DaemonBenchmark.milliseconds(start.duration(to: clock.now))
            guard response.status == .ok, String(buffer: answer).contains(accepted) else {
                throw BenchmarkError("\(url): \(response.status) \(String(buffer: answer))")
            }
            return elapsed
        }
    }
}
