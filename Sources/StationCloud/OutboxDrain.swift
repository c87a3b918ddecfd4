import AsyncAlgorithms
import CloudClient
import CloudProtocol
import Foundation
import Logging
import ServiceLifecycle
import Station
import StationModels

/// The only code that sends visit openings (cloud-protocol.md §3, §5). It runs when woken (a scan, a
/// login, the cloud coming back, a flush) and on every tick, sends what is due a batch at a time, and
/// applies the cloud's answers. An opening sent again after a timeout or a crash keeps its request id,
/// so the cloud opens it once. What waited past `giveUpSeconds` is given up first.
final class OutboxDrain: Service {
    let client: CloudClient
    let station: StationService
    let health: LinkHealth
    let requests: RunRequests
    let settings: CloudLink.Settings
    let logger: Logger

    init(
        client: CloudClient, station: StationService, health: LinkHealth, requests: RunRequests,
        settings: CloudLink.Settings, logger: Logger
    ) {
        self.client = client
        self.station = station
        self.health = health
        self.requests = requests
        self.settings = settings
        self.logger = logger
    }

    func run() async throws {
        let ticks = AsyncTimerSequence(interval: settings.tick, clock: .continuous).map { _ in () }
        requests.wake()  // what waited in the outbox across a restart goes at once
        for await _ in merge(requests.stream, ticks).cancelOnGracefulShutdown() {
            let (run, cameBack) = requests.begin()
            let station = station
            if cameBack { _ = try? await Blocking.run { try station.makeOutboxDue() } }
            let answered = await drain()
            requests.end(run)
            // Off the scan's path: the answered tokens' pages leave the database's log too.
            if answered { _ = try? await Blocking.run { station.scrubOutboxLog() } }
        }
        requests.finish()
    }

    /// Gives up what waited too long, then sends every opening due now, a batch at a time, until none is
    /// left or the cloud stops answering. Returns whether any row left the outbox. The database work runs
    /// on the blocking pool: another process holding the lock must not stall a cooperative thread.
    func drain() async -> Bool {
        var changed = false
        let (station, health, giveUp) = (station, health, settings.giveUpSeconds)
        do {
            changed = try await Blocking.run { try station.giveUpUndeliverable(after: giveUp) } > 0
        } catch {
            logger.error("openings past the give-up time could not be recorded", metadata: ["error": "\(error)"])
        }
        while !Task.isCancelled, health.institutionRefusal == nil {
            let now = station.clock()
            let limit = settings.concurrency * 8
            guard let batch = try? await Blocking.run({ try station.dueOpenings(now: now, limit: limit) }),
                !batch.isEmpty
            else { return changed }
            let results = await send(batch)
            let answered = results.compactMap { item, result in result.answer.map { (item, $0) } }
            let unanswered = results.filter { $0.1.answer == nil }
            for case (_, .refusedUnknown(let code)) in answered {
                logger.warning(
                    "the cloud refused a visit with a code this station does not know; it is closed as cloud_refused",
                    metadata: ["cloud_code": "\(code)"])
            }
            do {
                let failed = unanswered.map { ($0.0, $0.1.failure ?? "no answer") }
                try await Blocking.run {
                    try station.applyCloudAnswers(answered)
                    // Each waits by its own count of tries: one opening the cloud keeps failing backs off
                    // alone, while the others go on.
                    try station.postponeOpenings(failed) { item in
                        now + Int64(health.backoff(after: item.attempts + 1).rounded(.up))
                    }
                }
                changed = changed || !answered.isEmpty
            } catch {
                logger.error("the outbox could not record the cloud's answers", metadata: ["error": "\(error)"])
                return changed
            }
            if let unreachable = unanswered.first(where: { !$0.1.reachable })?.1.failure {
                health.noteFailure(unreachable)
                return changed
            }
            health.noteContact()
            if let refusal = unanswered.first(where: { $0.1.institutionRefused })?.1.failure {
                health.noteInstitutionRefused(refusal)
                return changed
            }
            if let failure = unanswered.first?.1.failure {
                logger.warning(
                    "the cloud did not take an opening; it is tried again", metadata: ["error": "\(failure)"])
                if answered.isEmpty { return changed }  // nothing moved: wait for the backoff rather than spin
            }
        }
        return changed
    }

    /// One opening's fate: answered (opened or refused, final) or not (try again later).
    struct Result: Sendable {
        var answer: Outbox.Answer?
        var failure: String?
        /// Whether the cloud answered at all (a connection or TLS failure is not an answer).
        var reachable = true
        /// The cloud refused the institution's certificate: final, but about this station, not the visit.
        var institutionRefused = false
    }

    private func send(_ batch: [Outbox.Item]) async -> [(Outbox.Item, Result)] {
        await withTaskGroup(of: (Outbox.Item, Result).self) { group in
            var results: [(Outbox.Item, Result)] = []
            var next = batch.makeIterator()
            for _ in 0..<settings.concurrency {
                guard let item = next.next() else { break }
                group.addTask { (item, await self.open(item)) }
            }
            for await result in group {
                results.append(result)
                if let item = next.next() { group.addTask { (item, await self.open(item)) } }
            }
            return results
        }
    }

    /// `POST /v1/visits` with the stored signed opening.
    func open(_ item: Outbox.Item) async -> Result {
        let reply: CloudClient.Reply
        do {
            reply = try await client.send(.POST, "/v1/visits", body: item.body, contentType: VisitOpening.mediaType)
        } catch {
            return Result(failure: "\(error)", reachable: false)
        }
        return Self.classify(reply)
    }

    /// What an answer means for the outbox, read by what the protocol promises (§2, §3, §6) and no
    /// more. The status says whether the answer is final: a grant (2xx), or a refusal (4xx but 408 and
    /// 429) that carries a `code`, whatever else its problem document holds or lacks. The code says what
    /// the refusal means; a code this station does not know still refuses the visit (`cloud_refused`,
    /// the raw code kept beside it), since the same request would only be refused again. Anything else
    /// (a server error, a busy cloud, an answer that is not the protocol's) is tried again: a visit is
    /// never dropped because something in between failed, until `cloud.give_up_hours` passes.
    static func classify(_ reply: CloudClient.Reply) -> Result {
        if (200..<300).contains(reply.status) {
            guard let grant = try? JSONDecoder().decode(VisitGrant.self, from: reply.body), Self.isSound(grant) else {
                return Result(failure: "the cloud's \(reply.status) answer is not a visit grant")
            }
            return Result(answer: .opened(grant))
        }
        guard CloudProblem.isFinal(status: reply.status) else {
            return Result(failure: "the cloud answered \(reply.status)")
        }
        guard let problem = CloudProblem(body: reply.body, httpStatus: reply.status) else {
            return Result(failure: "the cloud answered \(reply.status) without a problem document's code")
        }
        switch problem.code {
        case let code where CloudCode.institutionCertificateCodes.contains(code):
            // About this station's certificate, not the visit: final, so not sent again, but the opening
            // is kept for a daemon restarted with a certificate the cloud accepts.
            return Result(failure: "the cloud refused the institution's certificate: \(problem)", institutionRefused: true)
        case .practitionerCertificateInvalid, .requestSignatureInvalid, .practitionerNotAffiliated:
            // Refused before the token was consumed: another practitioner's signature can still open it.
            return Result(answer: .signatureRefused(code: problem.code.rawValue))
        case let code where CloudCode.visitOpeningCodes.contains(code):
            return Result(answer: .refused(code: code.rawValue, tokenCode: problem.tokenCode.map(\.printable)))
        default:
            return Result(answer: .refusedUnknown(cloudCode: problem.code.printable))
        }
    }

    /// A grant as the protocol shapes it (§3): what the station stores and shows is bounded.
    static func isSound(_ grant: VisitGrant) -> Bool {
        grant.visitSequence.utf8.count == 4 && grant.visitSequence.utf8.allSatisfy { (0x30...0x39).contains($0) }
            && (16...512).contains(grant.grant.utf8.count) && grant.grant.utf8.allSatisfy { (0x21...0x7E).contains($0) }
    }
}
