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

    /// How long a refused upload waits before it is sent again: the same ids would only be refused
    /// again until someone changes something at either end, and they stay pending meanwhile.
    static let afterRefusal: Int64 = 3600

    func run() async throws {
        var retryAt = Int64.min
        let ticks = AsyncTimerSequence(interval: tick, clock: .continuous).map { _ in () }
        for await _ in merge(requests.stream, ticks).cancelOnGracefulShutdown() {
            let (run, _) = requests.begin()
            if run.isRequested || station.clock() >= retryAt {
                switch await uploadOnce() {
                case .uploaded, .paused: retryAt = Int64.min
                // Half a minute or so after a failure, up to the link's maximum; at once when asked.
                case .failed: retryAt = station.clock() + Int64(health.backoff(after: 6).rounded(.up))
                case .refused: retryAt = station.clock() + Self.afterRefusal
                }
            }
            requests.end(run)
        }
        requests.finish()
    }

    /// What became of one upload.
    enum Upload: Equatable {
        /// Sent and answered, or nothing to send.
        case uploaded
        /// Not answered (the link, a server error, an answer that is not the protocol's): tried again soon.
        case failed
        /// A final refusal of the upload (a 4xx with a code): the ids stay pending, tried again in an hour.
        case refused
        /// The cloud refused the institution's certificate, here or for an opening: nothing is sent until
        /// the daemon restarts with another (the ids stay pending for it).
        case paused
    }

    /// One upload of what is pending.
    @discardableResult
    func uploadOnce() async -> Upload {
        guard health.institutionRefusal == nil else { return .paused }
        let station = station
        guard let pending = try? await Blocking.run({ try station.consumedToUpload(limit: ConsumedUpload.maximumCount) }),
            !pending.isEmpty
        else { return .uploaded }
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
            return .uploaded
        } catch CloudAccessError.refused(let problem) where CloudProblem.isFinal(status: problem.status) {
            if CloudCode.institutionCertificateCodes.contains(problem.code) {
                health.noteInstitutionRefused("\(problem)")
                return .paused
            }
            logger.error(
                "the cloud refused the consumed-id upload; the ids stay pending and are sent again in an hour",
                metadata: ["code": "\(problem.code.printable)", "ids": "\(pending.count)"])
            return .refused
        } catch {
            logger.warning("consumed ids not uploaded yet", metadata: ["error": "\(error)"])
            return .failed
        }
    }
}
