import CloudClient
import CloudProtocol
import Crypto
import Foundation
import Logging
import ServiceLifecycle
import Station
import StationModels

/// The station's link to the cloud (cloud-protocol.md, docs/station-cloud.md), made of small parts with
/// one job each, sharing the link's health:
/// - `uplink` (`CloudCalls`): what the station asks of the cloud while someone waits (records, alerts,
///   a consent request, a practitioner's affiliation) and how it wakes or waits for the drain. The
///   station is given it at construction;
/// - the background services, given the station whose answers they record: the outbox drain (the only
///   code that sends openings), the list sync, the consumed-id upload and the consent follower.
///
/// The uplink holds no reference to the station, so the station and its link form no cycle.
package struct CloudLink: Sendable {
    package struct Settings: Sendable {
        /// The trust root the lists must chain to (token-profile §7).
        package var root: P256.Signing.PublicKey
        /// How often the lists are fetched (and after the cloud comes back).
        package var listSyncSeconds: Int64
        /// The longest wait between tries while the cloud does not answer.
        package var maximumBackoffSeconds: Double
        /// Openings sent at once while draining.
        package var concurrency: Int
        /// How often a pending consent is polled.
        package var consentPollSeconds: Double
        /// How long an opening (or a scan waiting for a practitioner) is kept before it is given up.
        package var giveUpSeconds: Int64
        /// How often the loops look at what is due without being woken.
        package var tick: Duration
        /// Where the institution's TLS key is (`file`, or `pkcs11` for a card or token), for the status.
        package var institutionKey: String

        package init(
            root: P256.Signing.PublicKey, listSyncSeconds: Int64 = 300, maximumBackoffSeconds: Double = 60,
            concurrency: Int = 8, consentPollSeconds: Double = 2, giveUpSeconds: Int64 = 72 * 3600,
            tick: Duration = .seconds(1), institutionKey: String = "file"
        ) {
            self.institutionKey = institutionKey
            self.root = root
            self.listSyncSeconds = listSyncSeconds
            self.maximumBackoffSeconds = maximumBackoffSeconds
            self.concurrency = concurrency
            self.consentPollSeconds = consentPollSeconds
            self.giveUpSeconds = giveUpSeconds
            self.tick = tick
        }
    }

    package let uplink: CloudCalls
    let client: CloudClient
    let settings: Settings
    let logger: Logger
    let health: LinkHealth
    let drainRequests: RunRequests
    let uploadRequests = RunRequests()
    let listsDue: WakeSignal
    let consents: ConsentQueue

    /// - Parameters:
    ///   - events: where the link announces the cloud going and coming back.
    ///   - clock: epoch seconds now (the station's clock).
    package init(
        client: CloudClient, events: EventBus, clock: @escaping @Sendable () -> Int64, settings: Settings,
        logger: Logger
    ) {
        let drainRequests = RunRequests()
        let listsDue = WakeSignal()
        let health = LinkHealth(
            events: events, clock: clock, maximumBackoffSeconds: settings.maximumBackoffSeconds, logger: logger,
            onReturn: {
                // What waited out a backoff is due now; the lists may have moved while the link was down.
                drainRequests.cloudCameBack()
                listsDue.fire()
            })
        let consents = ConsentQueue()
        self.client = client
        self.settings = settings
        self.logger = logger
        self.health = health
        self.drainRequests = drainRequests
        self.listsDue = listsDue
        self.consents = consents
        uplink = CloudCalls(
            client: client, health: health, drain: drainRequests, consents: consents,
            institutionKey: settings.institutionKey)
    }

    /// The background services, recording into `station` (which was given `uplink`).
    package func services(for station: StationService) -> Services {
        Services(
            drain: OutboxDrain(
                client: client, station: station, health: health, requests: drainRequests, settings: settings,
                logger: logger),
            uploadRequests: uploadRequests,
            lists: ListSync(
                client: client, station: station, health: health, settings: settings, cameBack: listsDue,
                logger: logger),
            consumed: ConsumedUploader(
                client: client, station: station, health: health, requests: uploadRequests, tick: settings.tick,
                logger: logger),
            consents: ConsentFollower(
                client: client, station: station, queue: consents,
                pollInterval: .milliseconds(Int64(settings.consentPollSeconds * 1000)), logger: logger))
    }

    /// The link's services, each its own `Service` in the daemon's group.
    package struct Services: Sendable {
        let drain: OutboxDrain
        let uploadRequests: RunRequests
        let lists: ListSync
        let consumed: ConsumedUploader
        let consents: ConsentFollower

        package var all: [any Service] { [drain, lists, consumed, consents] }

        /// One sync of both lists now (tests, and a station's first start).
        package func syncLists() async { await lists.syncOnce() }
        /// Asks the upload loop to run now and waits for it (up to ten seconds).
        package func uploadConsumed() async { await uploadRequests.flush(timeout: .seconds(10)) }
    }
}
