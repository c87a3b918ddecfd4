import CloudClient
import CloudProtocol
import Foundation
import Logging
import ServiceLifecycle
import Station
import Synchronization
import StationModels
import VirtualCard

/// Follows each remote-consent request until the patient answers or its window ends (and a little
/// after, for a cloud whose clock runs behind). An approval's token is verified and opens the visit as
/// a scan does; a refusal or the end of the window is recorded. The requests still pending when the
/// daemon starts (kept by the station) are followed again, so an approval given meanwhile is not lost.
final class ConsentFollower: Service {
    let client: CloudClient
    let station: StationService
    let pollInterval: Duration
    let logger: Logger
    private let requests: AsyncStream<(Consent, String)>
    /// The requests being polled: one poller a request. One asked just as the daemon started may come both
    /// from the kept requests and from the queue, and two pollers would race for the token the cloud hands
    /// over once.
    private let following = Mutex<Set<String>>([])
    private let sink: AsyncStream<(Consent, String)>.Continuation

    init(client: CloudClient, station: StationService, queue: ConsentQueue, pollInterval: Duration, logger: Logger) {
        self.client = client
        self.station = station
        self.pollInterval = pollInterval
        self.logger = logger
        (requests, sink) = (queue.stream, queue.sink)
    }

    func run() async throws {
        let waiting: [(consent: Consent, patient: String)]
        do {
            waiting = try station.consentsToFollow()
        } catch {
            logger.error("the pending consent requests could not be read", metadata: ["error": "\(error)"])
            waiting = []
        }
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                func start(_ consent: Consent, _ patient: String) {
                    guard self.following.withLock({ $0.insert(consent.id).inserted }) else { return }
                    group.addTask {
                        await self.follow(consent, patient: patient)
                        _ = self.following.withLock { $0.remove(consent.id) }
                    }
                }
                for (consent, patient) in waiting { start(consent, patient) }
                for await (consent, patient) in self.requests { start(consent, patient) }
            }
        }
    }

    /// Polls one consent (`patient` masked) until it ends.
    func follow(_ consent: Consent, patient: String) async {
        // The cloud's window, but never longer than the protocol's: its times come from the network.
        let start = station.clock()
        let deadline = min(max(consent.expiresAt, start), start + ConsentRequest.answerWindow) + 60
        while station.clock() <= deadline {
            guard (try? await Task.sleep(for: pollInterval)) != nil else { return }  // the daemon stops
            let reply: CloudClient.Reply
            // One try per poll: the cloud hands an approval's token over once, so a blind retry of a
            // poll whose answer was lost would only find it collected.
            do {
                reply = try await client.send(.GET, "/v1/consents/\(URLComponentText.escape(consent.id))")
            } catch {
                continue  // the cloud is away for now: ask again
            }
            do {
                let answer = try CloudReply.decode(reply, as: Consent.self)
                switch answer.state {
                case .pending: continue
                case .approved:
                    guard let token = answer.token else { continue }
                    try station.consentApproved(consent, patient: patient, token: token)
                    return
                case .collected, .refused, .expired, .cancelled:
                    // Collected without a token here: another poll took it; nothing more will come.
                    try station.consentEnded(
                        consent, patient: patient,
                        code: answer.state == .collected ? "consent_collected" : "consent_\(answer.state.rawValue)")
                    return
                }
            } catch let error as CloudAccessError {
                // Refused (the consent unknown to the cloud…): over. Not readable (a state this station
                // does not know): ask again until the window ends.
                if case .refused(let problem) = error {
                    try? station.consentEnded(consent, patient: patient, code: problem.code.printable)
                    return
                }
            } catch {
                logger.error("a consent's answer could not be recorded", metadata: ["error": "\(error)"])
                return
            }
        }
        try? station.consentEnded(consent, patient: patient, code: "consent_expired")
    }
}

/// Consents handed from the station (once the cloud took the request) to the follower.
final class ConsentQueue: Sendable {
    let stream: AsyncStream<(Consent, String)>
    let sink: AsyncStream<(Consent, String)>.Continuation

    init() { (stream, sink) = AsyncStream.makeStream(of: (Consent, String).self) }

    func follow(_ consent: Consent, patient: String) { sink.yield((consent, patient)) }
}
