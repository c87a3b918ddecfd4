import CloudClient
import CloudProtocol
import Foundation
import Logging
import NIOHTTP1
import Station
import StationModels
import Synchronization
import Testing

@testable import StationCloud

/// The cloud link's parts on their own, without a network: how the drain is asked to run, the link's
/// health and backoff, and what each answer means (issue 19).
@Suite("the cloud link's parts")
struct LinkPartsTests {
    /// Epoch seconds a test moves by hand.
    final class ManualClock: Sendable {
        private let value = Mutex<Int64>(1_800_000_000)
        var now: Int64 { value.withLock { $0 } }
        func advance(by seconds: Int64) { value.withLock { $0 += seconds } }
    }

    static var quiet: Logger {
        var logger = Logger(label: "link-test")
        logger.logLevel = .critical
        return logger
    }

    @Test("a flush returns once a drain that started after it has finished; a flush nobody serves times out")
    func flushWaitsForItsDrain() async throws {
        let requests = RunRequests()
        let drains = Mutex(0)
        // The drain loop, as OutboxDrain runs it: each wake takes the flushes waiting, drains, answers them.
        let loop = Task {
            for await _ in requests.stream {
                let (run, _) = requests.begin()
                try? await Task.sleep(for: .milliseconds(20))
                drains.withLock { $0 += 1 }
                requests.end(run)
            }
        }
        // Many flushes at once: every one returns, after at least one drain, and the drains do not pile up
        // one per caller (wake-ups that come while a drain runs collapse into one more).
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<50 { group.addTask { await requests.flush(timeout: .seconds(10)) } }
        }
        let afterFlushes = drains.withLock { $0 }
        #expect(afterFlushes >= 1 && afterFlushes < 50, "\(afterFlushes) drains for 50 flushes")
        // A flush returns only after a drain that began after it.
        let before = drains.withLock { $0 }
        await requests.flush(timeout: .seconds(10))
        #expect(drains.withLock { $0 } > before)
        requests.finish()
        await loop.value

        // A run that began with the flush waiting and then hangs on the cloud: the flush still returns
        // at its own timeout (the scan's answer must not wait for a held connection).
        let stuck = RunRequests()
        let hung = Task {
            for await _ in stuck.stream {
                let (run, _) = stuck.begin()
                try? await Task.sleep(for: .seconds(60))
                stuck.end(run)
            }
        }
        let waited = ContinuousClock.now
        await stuck.flush(timeout: .milliseconds(200))
        // Far from the hung run's minute, whatever the machine's load (a loaded run took 2.1 s here).
        #expect(waited.duration(to: .now) < .seconds(30), "the flush waited for the hung run")
        hung.cancel()
        stuck.finish()

        // Nobody drains: the flush gives up at its timeout.
        let idle = RunRequests()
        let started = ContinuousClock.now
        await idle.flush(timeout: .milliseconds(100))
        #expect(started.duration(to: .now) >= .milliseconds(100))
        #expect(!idle.begin().run.isRequested, "a flush that timed out is not left waiting")
    }

    @Test("the cloud coming back is said once, wakes the drain with everything due, and resets the backoff")
    func healthTransitions() async throws {
        let events = EventBus()
        let clock = ManualClock()
        let returns = Mutex(0)
        let health = LinkHealth(
            events: events, clock: { clock.now }, maximumBackoffSeconds: 60, logger: Self.quiet,
            onReturn: { returns.withLock { $0 += 1 } })
        let seen = events.subscribe()
        #expect(health.status.state == .unknown)
        health.noteFailure("refused")
        health.noteFailure("refused again")
        #expect(health.status.state == .offline && health.status.lastError == "refused again" && health.failures == 2)
        clock.advance(by: 30)
        health.noteContact()
        health.noteContact()
        #expect(health.status.state == .online && health.status.lastContactAt == clock.now && health.failures == 0)
        #expect(returns.withLock { $0 } == 1)
        events.finish()
        var kinds: [EventKind] = []
        for await event in seen { kinds.append(event.type) }
        #expect(kinds == [.cloudOffline, .cloudOnline])
    }

    @Test("the backoff doubles with each failure up to the maximum, with jitter of at most half")
    func backoff() {
        for failures in 0...20 {
            let ceiling = min(60, pow(2, Double(min(failures, 16))))
            for _ in 0..<20 {
                let wait = LinkHealth.backoff(after: failures, maximum: 60)
                #expect(wait >= ceiling * 0.5 && wait <= ceiling, "\(failures) failures: \(wait)")
            }
        }
        #expect(LinkHealth.backoff(after: -3, maximum: 60) <= 1)
    }

    @Test("an idempotent call is tried three times on 5xx, 429 or no answer, and not again after a 4xx")
    func retrying() async throws {
        let health = LinkHealth(
            events: EventBus(), clock: { 0 }, maximumBackoffSeconds: 1, logger: Self.quiet, onReturn: {})
        let calls = Mutex(0)
        @Sendable func reply(_ status: Int) -> CloudClient.Reply {
            CloudClient.Reply(status: status, headers: [:], body: Data())
        }
        for status in [500, 503, 429] {
            calls.withLock { $0 = 0 }
            do {
                _ = try await health.retrying(pause: .milliseconds(1)) {
                    calls.withLock { $0 += 1 }
                    return reply(status)
                }
                Issue.record("\(status) was taken as an answer")
            } catch {
                guard case .unavailable = error else { Issue.record("\(error)"); continue }
            }
            #expect(calls.withLock { $0 } == 3, "\(status)")
        }
        calls.withLock { $0 = 0 }
        let refused = try await health.retrying(pause: .milliseconds(1)) {
            calls.withLock { $0 += 1 }
            return reply(410)
        }
        #expect(refused.status == 410 && calls.withLock { $0 } == 1)
        // Unreachable twice, then an answer: the third try's answer is returned.
        calls.withLock { $0 = 0 }
        let answered = try await health.retrying(pause: .milliseconds(1)) {
            let count = calls.withLock { count in
                count += 1
                return count
            }
            if count < 3 { throw CancellationError() }  // as a transport failure: no answer at all
            return reply(200)
        }
        #expect(answered.status == 200 && health.status.state == .online)
    }

    @Test("the affiliation check decides a login only on a yes or the opening's own refusals")
    func affiliationAnswers() {
        func outcome(_ status: Int, _ body: String) -> AffiliationCheck.Outcome {
            CloudCalls.affiliation(CloudClient.Reply(status: status, headers: [:], body: Data(body.utf8)))
        }
        #expect(outcome(200, "{}") == .confirmed)
        #expect(outcome(204, "") == .confirmed)
        #expect(
            outcome(403, #"{"code":"practitioner_not_affiliated"}"#)
                == .refused(code: "practitioner_not_affiliated", detail: ""))
        #expect(
            outcome(401, #"{"code":"practitioner_certificate_invalid","detail":"expired"}"#)
                == .refused(code: "practitioner_certificate_invalid", detail: "expired"))
        for (status, body) in [
            (404, #"{"code":"route_not_found"}"#), (405, ""), (500, #"{"code":"practitioner_not_affiliated"}"#),
            (403, "<html>forbidden</html>"), (400, #"{"code":"request_malformed"}"#),
        ] {
            guard case .unchecked = outcome(status, body) else {
                Issue.record("\(status) \(body) decided the login")
                continue
            }
        }
    }
}
