import AsyncAlgorithms
import CloudClient
import CloudProtocol
import Foundation
import Logging
import ServiceLifecycle
import Station
import VirtualCard

/// Tells the cloud of the tokens used here whose visits it never opened (`POST /v1/consumed`, §7), so
/// they cannot be used elsewhere; the ids it says were used elsewhere first become events and audit rows.
final class ConsumedUploader: Service {
    let client: CloudClient
    let station: StationService
    let health: LinkHealth
    let requests: RunRequests
    let tick: Duration
    let logger: Logger

    init(
        client: CloudClient, station: StationService, health: LinkHealth, requests: RunRequests, tick: Duration,
        logger: Logger
    ) {
        self.client = client
        self.station = station
        self.health = health
        self.requests = requests
        self.tick = tick
        self.logger = logger
    }

    func run() async throws {
        var retryAt = Int64.min
        let ticks = AsyncTimerSequence(interval: tick, clock: .continuous).map { _ in () }
        for await _ in merge(requests.stream, ticks).cancelOnGracefulShutdown() {
            let (run, _) = requests.begin()
            if run.isRequested || station.clock() >= retryAt {
                // Half a minute or so after a failure, up to the link's maximum; at once when asked.
                let uploaded = await uploadOnce()
                retryAt = uploaded ? Int64.min : station.clock() + Int64(health.backoff(after: 6).rounded(.up))
            }
            requests.end(run)
        }
        requests.finish()
    }

    /// One upload of what is pending. Returns false when it must be tried again.
    @discardableResult
    func uploadOnce() async -> Bool {
        let station = station
        guard let pending = try? await Blocking.run({ try station.consumedToUpload(limit: ConsumedUpload.maximumCount) }),
            !pending.isEmpty
        else { return true }
        let upload = ConsumedUpload(
            tokenIds: pending.map { Hex.encode($0.tokenID) }, consumedAt: pending.map(\.consumedAt))
        do {
            let body = Array(try JSONEncoder().encode(upload))
            // Idempotent at the cloud (its own institution's ids are never a double use).
            let reply = try await health.retrying { try await self.client.send(.POST, "/v1/consumed", body: body) }
            let answer = try CloudReply.decode(reply, as: ConsumedAnswer.self)
            try await Blocking.run {
                try station.recordDoubleUse(answer.doubleUse)
                try station.consumedUploaded(pending.map(\.tokenID))
            }
            return true
        } catch {
            logger.warning("consumed ids not uploaded yet", metadata: ["error": "\(error)"])
            return false
        }
    }
}
