import AsyncAlgorithms
import CloudClient
import Crypto
import Logging
import ServiceLifecycle
import Station
import Synchronization

/// Keeps the trust and revocation lists current from the cloud (cloud-protocol.md §7): on its timer,
/// and at once when the cloud comes back. A lower sequence than the held one is refused by the
/// station's trust state, as from a file.
final class ListSync: Service {
    let client: CloudClient
    let station: StationService
    let health: LinkHealth
    let root: P256.Signing.PublicKey
    let intervalSeconds: Int64
    let tick: Duration
    let cameBack: WakeSignal
    let logger: Logger
    private let etags = Mutex<[TrustState.Kind: String]>([:])

    init(
        client: CloudClient, station: StationService, health: LinkHealth, settings: CloudLink.Settings,
        cameBack: WakeSignal, logger: Logger
    ) {
        self.client = client
        self.station = station
        self.health = health
        root = settings.root
        intervalSeconds = settings.listSyncSeconds
        tick = settings.tick
        self.cameBack = cameBack
        self.logger = logger
    }

    func run() async throws {
        // At once on start: a station without lists refuses every card until they come.
        var nextSync = station.clock() + (await syncOnce() ? intervalSeconds : Int64(health.backoff().rounded(.up)))
        let ticks = AsyncTimerSequence(interval: tick, clock: .continuous).map { _ in false }
        for await returned in merge(cameBack.stream.map { true }, ticks).cancelOnGracefulShutdown() {
            guard returned || station.clock() >= nextSync else { continue }
            let succeeded = await syncOnce()
            // A cloud that did not answer is asked again after the link's backoff, not the full interval.
            nextSync = station.clock() + (succeeded ? intervalSeconds : Int64(health.backoff().rounded(.up)))
        }
    }

    /// Fetches both lists (`If-None-Match` with the last ETag) and installs what is newer. Returns
    /// whether the cloud answered.
    @discardableResult
    func syncOnce() async -> Bool {
        for (kind, path) in [(TrustState.Kind.trust, "/v1/trust-list"), (.revocation, "/v1/revocations")] {
            let etag = etags.withLock { $0[kind] }
            let reply: CloudClient.Reply
            do {
                reply = try await client.send(.GET, path, headers: etag.map { [("If-None-Match", $0)] } ?? [])
            } catch {
                health.noteFailure("\(error)")
                return false
            }
            health.noteContact()
            guard reply.status != 304 else { continue }
            guard reply.status == 200 else {
                logger.warning(
                    "the cloud did not give its list", metadata: ["kind": "\(kind)", "status": "\(reply.status)"])
                continue
            }
            do {
                let (station, root, cose) = (station, root, [UInt8](reply.body))
                let result = try await Blocking.run { try station.installList(kind, cose: cose, root: root) }
                etags.withLock { $0[kind] = reply.headers.first(name: "ETag") }
                if case .installed(let sequence) = result {
                    logger.info(
                        "list installed from the cloud", metadata: ["kind": "\(kind)", "sequence": "\(sequence)"])
                }
            } catch {
                logger.error("list from the cloud refused", metadata: ["kind": "\(kind)", "error": "\(error)"])
            }
        }
        health.listsChecked(at: station.clock())
        return true
    }
}
