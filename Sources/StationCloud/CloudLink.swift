import CloudClient
import CloudProtocol
import Crypto
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Station
import StationModels
import Synchronization
import VirtualCard
import X509

/// The station's link to the cloud (cloud-protocol.md): drains the outbox of signed visit openings
/// and keeps the lists current. One loop does every send, whether a scan, a login or the timer asked
/// for it, so an opening is never in flight twice from this station; and an opening sent again after
/// a timeout or a crash keeps its request id, so the cloud opens it once (§5).
public final class CloudLink: CloudUplink, Service {
    public struct Settings: Sendable {
        /// The trust root the lists must chain to (token-profile §7).
        public var root: P256.Signing.PublicKey
        /// How often the lists are fetched (and after the cloud comes back).
        public var listSyncSeconds: Int64
        /// The longest wait between tries while the cloud does not answer.
        public var maximumBackoffSeconds: Double
        /// Openings sent at once while draining.
        public var concurrency: Int
        /// How often a pending consent is polled.
        public var consentPollSeconds: Double
        /// How long an opening (or a scan waiting for a practitioner) is kept before it is given up.
        public var giveUpSeconds: Int64

        public init(
            root: P256.Signing.PublicKey, listSyncSeconds: Int64 = 300, maximumBackoffSeconds: Double = 60,
            concurrency: Int = 8, consentPollSeconds: Double = 2, giveUpSeconds: Int64 = 72 * 3600
        ) {
            self.giveUpSeconds = giveUpSeconds
            self.root = root
            self.listSyncSeconds = listSyncSeconds
            self.maximumBackoffSeconds = maximumBackoffSeconds
            self.concurrency = concurrency
            self.consentPollSeconds = consentPollSeconds
        }
    }

    let client: CloudClient
    let service: StationService
    let settings: Settings
    let logger: Logger
    private let state = Mutex(LinkState())
    private let gate = DrainGate()
    /// The worker's sleep: a continuation to resume when woken, or a wake-up that came while it worked.
    private let sleeper = Mutex<(waiting: CheckedContinuation<Void, Never>?, woken: Bool)>((nil, false))

    struct LinkState {
        var connection: CloudStatus.Connection = .unknown
        var lastContactAt: Int64?
        var lastError: String?
        var listsCheckedAt: Int64?
        /// Failed tries in a row: the backoff grows with them.
        var failures = 0
        var etags: [TrustState.Kind: String] = [:]
        /// The cloud came back: fetch the lists at the worker's next turn rather than at their timer.
        var listsDue = false
        /// A refused or failed consumed-id upload waits until then.
        var consumedRetryAt: ContinuousClock.Instant?
        /// Answers were applied: the log still holds the answered tokens' pages until it is scrubbed.
        var scrubDue = false
    }

    public init(client: CloudClient, service: StationService, settings: Settings, logger: Logger) {
        self.client = client
        self.service = service
        self.settings = settings
        self.logger = logger
    }

    public func wake() {
        let waiting = sleeper.withLock { sleeper -> CheckedContinuation<Void, Never>? in
            guard let waiting = sleeper.waiting else {
                sleeper.woken = true
                return nil
            }
            sleeper.waiting = nil
            return waiting
        }
        waiting?.resume()
    }

    /// Sleeps until `wake()`, `seconds` pass, or the task is cancelled.
    private func sleep(upTo seconds: Double) async {
        await withTaskCancellationHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    await withCheckedContinuation { continuation in
                        let woken = self.sleeper.withLock { sleeper -> Bool in
                            if sleeper.woken {
                                sleeper.woken = false
                                return true
                            }
                            sleeper.waiting = continuation
                            return false
                        }
                        if woken { continuation.resume() }
                    }
                }
                group.addTask { if (try? await Task.sleep(for: .seconds(seconds))) != nil { self.wake() } }
                await group.next()
                group.cancelAll()
            }
        } onCancel: {
            wake()
        }
    }

    public func flush(timeout: Duration) async {
        // Whichever ends first resumes the caller; a drain still waiting on the cloud goes on in the
        // background (a task group would wait for it, and the scan's answer with it).
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumed = Atomic(false)
            let resume: @Sendable () -> Void = {
                if !resumed.exchange(true, ordering: .acquiringAndReleasing) { continuation.resume() }
            }
            Task {
                await self.gate.run { await self.drain() }
                resume()
            }
            Task {
                try? await Task.sleep(for: timeout)
                resume()
            }
        }
    }

    public func connectionStatus() -> CloudStatus {
        state.withLock {
            CloudStatus(
                state: $0.connection, lastContactAt: $0.lastContactAt, lastError: $0.lastError,
                listsCheckedAt: $0.listsCheckedAt)
        }
    }

    /// The worker: drains what is due, syncs the lists on their timer, and sleeps until woken, until
    /// the next retry, or a second, whichever comes first.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var nextListSync = ContinuousClock.now
            while !Task.isCancelled {
                let listsDue = self.state.withLock { state in
                    defer { state.listsDue = false }
                    return state.listsDue
                }
                if listsDue || ContinuousClock.now >= nextListSync {
                    await self.syncLists()
                    nextListSync = .now + .seconds(self.settings.listSyncSeconds)
                }
                await self.gate.run {
                    await self.drain()
                    await self.uploadConsumed()
                }
                // Off the scan's path: the answered tokens' pages leave the log too.
                let scrub = self.state.withLock { state in
                    defer { state.scrubDue = false }
                    return state.scrubDue
                }
                if scrub { self.service.outbox.scrubLog() }
                await self.sleep(upTo: self.state.withLock { $0.failures } > 0 ? self.backoff() : 1.0)
            }
        }
    }

    /// Sends every opening due now, a batch at a time, until none is left or the cloud stops answering.
    func drain() async {
        do {
            if try service.giveUpUndeliverable(after: settings.giveUpSeconds) > 0 {
                state.withLock { $0.scrubDue = true }  // their tokens leave the log too
            }
        } catch {
            logger.error("openings past the give-up time could not be recorded", metadata: ["error": "\(error)"])
        }
        while !Task.isCancelled {
            let now = service.clock()
            guard let batch = try? service.outbox.due(now: now, limit: settings.concurrency * 8), !batch.isEmpty
            else { return }
            let results = await send(batch)
            let answered = results.compactMap { item, result in result.answer.map { (item, $0) } }
            let unanswered = results.filter { $0.1.answer == nil }
            for case (_, .refusedUnknown(let code)) in answered {
                logger.warning(
                    "the cloud refused a visit with a code this station does not know; it is closed as cloud_refused",
                    metadata: ["cloud_code": "\(code)"])
            }
            do {
                try service.applyCloudAnswers(answered)
                if !answered.isEmpty { state.withLock { $0.scrubDue = true } }
                // Each waits by its own count of tries: one opening the cloud keeps failing backs off
                // alone, while the others go on.
                try service.outbox.postpone(unanswered.map { ($0.0, $0.1.failure ?? "no answer") }) { item in
                    now + Int64(self.backoff(after: item.attempts + 1).rounded(.up))
                }
            } catch {
                logger.error("the outbox could not record the cloud's answers", metadata: ["error": "\(error)"])
                return
            }
            if let unreachable = unanswered.first(where: { !$0.1.reachable })?.1.failure {
                noteFailure(unreachable)
                return
            }
            noteContact()
            if let failure = unanswered.first?.1.failure {
                logger.warning(
                    "the cloud did not take an opening; it is tried again", metadata: ["error": "\(failure)"])
                if answered.isEmpty { return }  // nothing moved: wait for the backoff rather than spin
            }
        }
    }

    /// Tells the cloud of the tokens used here whose visits it refused (`POST /v1/consumed`); the ids
    /// it says were used elsewhere first become events and audit rows.
    func uploadConsumed() async {
        if let retryAt = state.withLock({ $0.consumedRetryAt }), retryAt > .now { return }
        guard let pending = try? service.outbox.consumedToUpload(limit: ConsumedUpload.maximumCount), !pending.isEmpty
        else { return }
        let upload = ConsumedUpload(
            tokenIds: pending.map { Hex.encode($0.tokenID) },
            consumedAt: pending.map(\.consumedAt))
        do {
            let body = Array(try JSONEncoder().encode(upload))
            // Idempotent at the cloud (its own institution's ids are never a double use).
            let reply = try await retrying { try await self.client.send(.POST, "/v1/consumed", body: body) }
            let answer = try Self.answer(reply) { try JSONDecoder().decode(ConsumedAnswer.self, from: $0) }
            try service.recordDoubleUse(answer.doubleUse)
            try service.outbox.consumedUploaded(pending.map(\.tokenID))
        } catch {
            logger.warning("consumed ids not uploaded yet", metadata: ["error": "\(error)"])
            let wait = backoff(after: 6)  // half a minute or so, up to the maximum
            state.withLock { $0.consumedRetryAt = .now + .seconds(wait) }
        }
    }

    /// One opening's fate: answered (opened or refused, final) or not (try again later).
    struct Result: Sendable {
        var answer: Outbox.Answer?
        var failure: String?
        /// Whether the cloud answered at all (a connection or TLS failure is not an answer).
        var reachable = true
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
        guard (400..<500).contains(reply.status), reply.status != 408, reply.status != 429 else {
            return Result(failure: "the cloud answered \(reply.status)")
        }
        guard let problem = CloudProblem(body: reply.body, httpStatus: reply.status) else {
            return Result(failure: "the cloud answered \(reply.status) without a problem document's code")
        }
        switch problem.code {
        case .clientCertificateMissing, .institutionCertificateInvalid, .institutionUnknown:
            // About this station's certificate, not the visit: kept until the institution's is put right.
            return Result(failure: "the cloud refused the institution's certificate: \(problem)")
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

    /// Fetches both lists (`If-None-Match` with the last ETag) and installs what is newer; a lower
    /// sequence is refused by the trust state, as from a file.
    func syncLists() async {
        for (kind, path) in [(TrustState.Kind.trust, "/v1/trust-list"), (.revocation, "/v1/revocations")] {
            let etag = state.withLock { $0.etags[kind] }
            let reply: CloudClient.Reply
            do {
                reply = try await client.send(.GET, path, headers: etag.map { [("If-None-Match", $0)] } ?? [])
            } catch {
                noteFailure("\(error)")
                return
            }
            noteContact()
            guard reply.status != 304 else { continue }
            guard reply.status == 200 else {
                logger.warning(
                    "the cloud did not give its list", metadata: ["kind": "\(kind)", "status": "\(reply.status)"])
                continue
            }
            do {
                let result = try service.trust.install(
                    kind, cose: [UInt8](reply.body), root: settings.root, now: service.clock())
                state.withLock { $0.etags[kind] = reply.headers.first(name: "ETag") }
                if case .installed(let sequence) = result {
                    logger.info(
                        "list installed from the cloud", metadata: ["kind": "\(kind)", "sequence": "\(sequence)"])
                }
            } catch {
                logger.error("list from the cloud refused", metadata: ["kind": "\(kind)", "error": "\(error)"])
            }
        }
        state.withLock { $0.listsCheckedAt = service.clock() }
    }

    // MARK: - Records and alerts for a forwarded visit

    public func records(
        grant: String, category: RecordCategory, page: Int, pageSize: Int
    ) async throws
        -> CategoryPage
    {
        let path =
            "/v1/visits/\(URLComponentText.escape(grant))/records/\(category.rawValue)?page=\(page)&pageSize=\(pageSize)"
        let reply = try await retrying { try await self.client.send(.GET, path) }
        return try Self.answer(reply) { try CategoryPage(category: category, json: $0) }
    }

    public func alerts(grant: String, proposal: AlertRequest) async throws -> AlertAnswer {
        let body = Array(try JSONEncoder().encode(proposal))
        // Checking alerts changes nothing at the cloud but its audit: safe to send again.
        let reply = try await retrying {
            try await self.client.send(.POST, "/v1/visits/\(URLComponentText.escape(grant))/alerts", body: body)
        }
        return try Self.answer(reply) { try JSONDecoder().decode(AlertAnswer.self, from: $0) }
    }

    // MARK: - A practitioner's affiliation, at login

    public func checkAffiliation(certificate: [UInt8]) async -> AffiliationCheck.Outcome {
        let reply: CloudClient.Reply
        do {
            let body = Array(try JSONEncoder().encode(AffiliationCheck(certificate: certificate)))
            // One try: a person is waiting, and the first opening will tell anyway.
            reply = try await client.send(.POST, "/v1/affiliations", body: body)
        } catch {
            noteFailure("\(error)")
            return .unchecked("the cloud cannot be reached")
        }
        noteContact()
        return Self.affiliation(reply)
    }

    /// A yes is any 2xx; a no is a refusal the opening itself would get. Anything else (404 or 405 from
    /// a cloud without the extension, a server error) leaves the login unchecked: an extension the
    /// protocol does not define must never stop a station.
    static func affiliation(_ reply: CloudClient.Reply) -> AffiliationCheck.Outcome {
        if (200..<300).contains(reply.status) { return .confirmed }
        if (400..<500).contains(reply.status), let problem = CloudProblem(body: reply.body, httpStatus: reply.status),
            [.practitionerCertificateInvalid, .practitionerNotAffiliated, .requestSignatureInvalid].contains(
                problem.code)
        {
            return .refused(code: problem.code.rawValue, detail: String(problem.detail.prefix(240)))
        }
        return .unchecked("the cloud does not check affiliations (it answered \(reply.status))")
    }

    // MARK: - Remote consent

    public func requestConsent(patientID: String, setting: CareSetting) async throws -> Consent {
        let body = Array(try JSONEncoder().encode(ConsentRequest(patientId: patientID, setting: setting)))
        // Not retried: a second request would ask the patient twice.
        let reply: CloudClient.Reply
        do { reply = try await client.send(.POST, "/v1/consents", body: body) } catch {
            noteFailure("\(error)")
            throw CloudAccessError.unavailable("\(error)")
        }
        noteContact()
        let consent = try Self.answer(reply) { try JSONDecoder().decode(Consent.self, from: $0) }
        let patient = TaiwanID.masked(patientID)
        try service.consentRequested(consent, patient: patient)
        Task { await self.follow(consent, patient: patient) }
        return consent
    }

    /// Polls a consent until the patient answers or the window ends (and a little after, for a cloud
    /// whose clock runs behind). An approval's token is verified and opens the session as a scan.
    func follow(_ consent: Consent, patient: String) async {
        // The cloud's window, but never longer than the protocol's: its times come from the network.
        let start = service.clock()
        let deadline = min(max(consent.expiresAt, start), start + ConsentRequest.answerWindow) + 60
        while service.clock() <= deadline {
            try? await Task.sleep(for: .seconds(settings.consentPollSeconds))
            let reply: CloudClient.Reply
            // One try per poll: the cloud hands an approval's token over once, so a blind retry of a
            // poll whose answer was lost would only find it collected.
            do {
                reply = try await client.send(.GET, "/v1/consents/\(URLComponentText.escape(consent.id))")
            } catch {
                continue  // the cloud is away for now: ask again
            }
            do {
                let answer = try Self.answer(reply) { try JSONDecoder().decode(Consent.self, from: $0) }
                switch answer.state {
                case .pending: continue
                case .approved:
                    guard let token = answer.token else { continue }
                    try service.consentApproved(consent, patient: patient, token: token)
                    return
                case .collected, .refused, .expired:
                    // Collected without a token here: another poll took it; nothing more will come.
                    try service.consentEnded(
                        consent, patient: patient,
                        code: answer.state == .collected ? "consent_collected" : "consent_\(answer.state.rawValue)")
                    return
                }
            } catch let error as CloudAccessError {
                if case .refused(let problem) = error {
                    try? service.consentEnded(consent, patient: patient, code: problem.code.rawValue)
                    return
                }
            } catch {
                logger.error("a consent's answer could not be recorded", metadata: ["error": "\(error)"])
                return
            }
        }
        try? service.consentEnded(consent, patient: patient, code: "consent_expired")
    }

    /// An idempotent call, tried up to three times when the cloud cannot be reached or answers 5xx
    /// or 429, with a growing, jittered pause between tries.
    func retrying(
        _ call: @Sendable () async throws -> CloudClient.Reply
    ) async throws(CloudAccessError)
        -> CloudClient.Reply
    {
        var failure = ""
        for attempt in 0..<3 {
            if attempt > 0 {
                try? await Task.sleep(
                    for: .milliseconds(Int(200 * pow(2, Double(attempt - 1)) * .random(in: 0.5...1.5))))
            }
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

    /// The typed answer of a 2xx reply; a refusal as the cloud's problem; anything else unavailable.
    static func answer<T>(_ reply: CloudClient.Reply, _ decode: (Data) throws -> T) throws(CloudAccessError) -> T {
        do { return try CloudClient.decode(reply, with: decode) } catch let problem as CloudProblem {
            throw .refused(problem)
        } catch {
            throw .unavailable("\(error)")
        }
    }

    private func noteContact() {
        let cameBack = state.withLock { state -> Bool in
            defer {
                state.connection = .online
                state.failures = 0
                state.lastError = nil
                state.lastContactAt = service.clock()
            }
            return state.connection != .online
        }
        guard cameBack else { return }
        logger.info("the cloud answers")
        // What waited out a backoff is due now; the lists may have moved while the link was down.
        try? service.outbox.makeAllDue()
        state.withLock { $0.listsDue = true }
        let now = service.clock()
        service.events.publish { StationEvent(id: $0, type: .cloudOnline, at: now) }
        wake()
    }

    private func noteFailure(_ error: String) {
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
        let now = service.clock()
        service.events.publish { StationEvent(id: $0, type: .cloudOffline, at: now) }
    }

    /// Seconds to wait before the next try: doubling with each failure up to the maximum, with
    /// jitter so that stations coming back together do not all call at once.
    func backoff(after failures: Int? = nil) -> Double {
        let count = failures ?? state.withLock { $0.failures }
        let ceiling = min(settings.maximumBackoffSeconds, pow(2, Double(min(count, 16))))
        return ceiling * Double.random(in: 0.5...1.0)
    }
}

/// Runs one drain at a time, in the order asked: a caller arriving while one runs waits its turn and
/// then runs its own, so what it added is sent, and no opening is read by two drains at once. (A FIFO
/// lock handed from one caller to the next; the body runs off the actor.)
actor DrainGate {
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func run(_ body: @Sendable () async -> Void) async {
        if busy {
            await withCheckedContinuation { waiting.append($0) }  // handed over: `busy` stays set
        } else {
            busy = true
        }
        await body()
        if waiting.isEmpty {
            busy = false
        } else {
            waiting.removeFirst().resume()
        }
    }
}

extension CloudClient {
    /// The files `cloud.*` names, read and checked: the cloud's CA, and the institution's certificate
    /// and key, whose certificate must be an institution's (§1) for the station's own `institution`
    /// code (the cloud refuses every opening otherwise, `institution_mismatch`). A mistake names its key.
    public struct StationFiles: Sendable {
        public var caPEM: String
        public var authority: CertificateAuthority
        public var identity: CloudClient.Identity

        public init(_ cloud: StationConfig.Cloud, institution: String) throws(ConfigError) {
            func read(_ path: String, key: String) throws(ConfigError) -> String {
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw ConfigError(.invalidValue, key: key, "cannot read '\(path)'")
                }
                return text
            }
            caPEM = try read(cloud.ca, key: "cloud.ca")
            guard let authority = try? CertificateAuthority(pem: caPEM) else {
                throw ConfigError(.invalidValue, key: "cloud.ca", "'\(cloud.ca)' is not a PEM certificate")
            }
            self.authority = authority
            let certificatePEM = try read(cloud.certificate, key: "cloud.certificate")
            guard let certificate = try? Certificate(pemEncoded: certificatePEM),
                let named = InstitutionIdentity(certificate: certificate)
            else {
                throw ConfigError(
                    .invalidValue, key: "cloud.certificate",
                    "'\(cloud.certificate)' is not an institution's certificate (a 10-digit serialNumber)")
            }
            guard named.code == institution else {
                throw ConfigError(
                    .invalidValue, key: "cloud.certificate",
                    "the certificate is institution \(named.code)'s, and this station is \(institution)'s")
            }
            identity = CloudClient.Identity(
                certificatePEM: certificatePEM, keyPEM: try read(cloud.key, key: "cloud.key"))
        }
    }

    /// The station's client of the cloud: the cloud's CA pinned, the institution's certificate and key
    /// for mutual TLS.
    public static func station(_ files: StationFiles, url: String) throws -> CloudClient {
        do {
            return try CloudClient(baseURL: url, caPEM: files.caPEM, identity: files.identity, timeout: .seconds(10))
        } catch {
            throw ConfigError(
                .invalidValue, key: "cloud.key", "the certificate or key is not usable PEM: \(error)")
        }
    }
}
