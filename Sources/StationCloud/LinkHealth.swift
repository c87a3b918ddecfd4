import CloudClient
import CloudProtocol
import Foundation
import Logging
import Station
import StationModels
import Synchronization

/// The link's health, shared by its services: whether the cloud answers, since when, why not, and how
/// long to wait before the next try. It announces the cloud going and coming back (`cloud.offline`,
/// `cloud.online`), and on its return wakes what waited (the outbox drain, the list sync).
final class LinkHealth: Sendable {
    struct State {
        var connection: CloudStatus.Connection = .unknown
        var lastContactAt: Int64?
        var lastError: String?
        var listsCheckedAt: Int64?
        /// Failed tries in a row: the backoff grows with them.
        var failures = 0
        /// The cloud refused the institution's own certificate (§6, 401): final for every opening sent
        /// with it, so none is sent again until the daemon restarts with another certificate.
        var institutionRefusal: String?
    }

    private let state = Mutex(State())
    private let events: EventBus
    private let clock: @Sendable () -> Int64
    private let maximumBackoffSeconds: Double
    private let logger: Logger
    /// Told when the cloud answers again after not answering.
    private let onReturn: @Sendable () -> Void

    init(
        events: EventBus, clock: @escaping @Sendable () -> Int64, maximumBackoffSeconds: Double, logger: Logger,
        onReturn: @escaping @Sendable () -> Void
    ) {
        self.events = events
        self.clock = clock
        self.maximumBackoffSeconds = maximumBackoffSeconds
        self.logger = logger
        self.onReturn = onReturn
    }

    var status: CloudStatus {
        state.withLock {
            CloudStatus(
                state: $0.connection, lastContactAt: $0.lastContactAt,
                lastError: $0.institutionRefusal ?? $0.lastError, listsCheckedAt: $0.listsCheckedAt)
        }
    }

    /// Why openings are not sent any more, when the cloud refused the institution's certificate.
    var institutionRefusal: String? { state.withLock { $0.institutionRefusal } }

    /// The cloud refused the institution's certificate: a final refusal, not retried. The openings stay
    /// in the outbox (the practitioner's signatures are still good) and the consumed ids pending, for a
    /// daemon restarted with a certificate the cloud accepts.
    func noteInstitutionRefused(_ why: String) {
        let first = state.withLock { state -> Bool in
            defer { state.institutionRefusal = why }
            return state.institutionRefusal == nil
        }
        guard first else { return }
        logger.error(
            "the cloud refused the institution's certificate: nothing is sent until the daemon restarts with another",
            metadata: ["error": "\(why)"])
    }

    var failures: Int { state.withLock { $0.failures } }

    func listsChecked(at time: Int64) { state.withLock { $0.listsCheckedAt = time } }

    /// The cloud answered (anything, refusals too).
    func noteContact() {
        let now = clock()
        let cameBack = state.withLock { state -> Bool in
            defer {
                state.connection = .online
                state.failures = 0
                state.lastError = nil
                state.lastContactAt = now
            }
            return state.connection != .online
        }
        guard cameBack else { return }
        logger.info("the cloud answers")
        events.publish { StationEvent(id: $0, type: .cloudOnline, at: now) }
        onReturn()
    }

    /// The cloud could not be reached.
    func noteFailure(_ error: String) {
        let wentDown = state.withLock { state -> Bool in
            defer {
                state.connection = .offline
                state.failures += 1
                state.lastError = error
            }
            return state.connection != .offline
        }
        guard wentDown else { return }
        logger.warning("the cloud does not answer; visits wait in the outbox", metadata: ["error": "\(error)"])
        let now = clock()
        events.publish { StationEvent(id: $0, type: .cloudOffline, at: now) }
    }

    /// Seconds to wait before the next try after `failures` failures (the link's count by default):
    /// doubling up to the maximum, with jitter so that stations coming back together do not all call
    /// at once.
    func backoff(after failures: Int? = nil) -> Double {
        Self.backoff(after: failures ?? self.failures, maximum: maximumBackoffSeconds)
    }

    static func backoff(after failures: Int, maximum: Double) -> Double {
        min(maximum, pow(2, Double(min(max(failures, 0), 16)))) * Double.random(in: 0.5...1.0)
    }

    /// An idempotent call, tried up to three times when the cloud cannot be reached or answers 5xx or
    /// 429, with a growing, jittered pause between tries.
    func retrying(
        pause: Duration = .milliseconds(200), _ call: @Sendable () async throws -> CloudClient.Reply
    ) async throws(CloudAccessError) -> CloudClient.Reply {
        var failure = ""
        for attempt in 0..<3 {
            if attempt > 0 { try? await Task.sleep(for: pause * (pow(2, Double(attempt - 1)) * .random(in: 0.5...1.5))) }
            do {
                let reply = try await call()
                noteContact()
                guard reply.status >= 500 || reply.status == 429 else { return reply }
                failure = "the cloud answered \(reply.status)"
            } catch {
                failure = "\(error)"
                noteFailure(failure)
            }
        }
        throw .unavailable(failure)
    }

    /// One try, as a call that must not be repeated blindly (a consent request asks the patient).
    func once(_ call: @Sendable () async throws -> CloudClient.Reply) async throws(CloudAccessError) -> CloudClient.Reply {
        do {
            let reply = try await call()
            noteContact()
            return reply
        } catch {
            noteFailure("\(error)")
            throw .unavailable("\(error)")
        }
    }
}

/// The typed answer of a 2xx reply; a refusal as the cloud's problem; anything else unavailable.
enum CloudReply {
    static func decode<T>(_ reply: CloudClient.Reply, _ decode: (Data) throws -> T) throws(CloudAccessError) -> T {
        do { return try CloudClient.decode(reply, with: decode) } catch let problem as CloudProblem {
            throw .refused(problem)
        } catch {
            throw .unavailable("\(error)")
        }
    }

    static func decode<T: Decodable>(_ reply: CloudClient.Reply, as type: T.Type) throws(CloudAccessError) -> T {
        try decode(reply) { try JSONDecoder().decode(type, from: $0) }
    }
}
