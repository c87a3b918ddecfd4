import CloudProtocol
import Crypto
import Foundation
import GRDB
import StationModels
import Synchronization
import VirtualCard

/// The station's policy around the pure verifier: one scanned token text in, one outcome out.
///
/// Everything a scan changes happens in one database transaction: the clock check, the verdict
/// against the held lists, the replay record, the session it opens (closing the holder's previous
/// one), the clock's high-water mark and the audit entries. Either all of it is stored or none of it:
/// a crash or a SIGTERM mid-scan never leaves a token consumed without its session. Concurrent
/// submissions of one token serialise on the database writer, so exactly one opens a session.
package final class StationPolicy: Sendable {
    package struct Settings: Sendable, Equatable {
        package var institution: String
        package var skewSeconds: Int64
        package var sessionLengthSeconds: Int64
        /// Set when the station forwards visits to a cloud: each accepted scan is signed into the outbox
        /// (or waits for a practitioner) in its own transaction.
        package var forwarding: Outbox.Forwarding?

        package init(
            institution: String, skewSeconds: Int64 = 120, sessionLengthSeconds: Int64 = 3600,
            forwarding: Outbox.Forwarding? = nil
        ) {
            self.institution = institution
            self.skewSeconds = skewSeconds
            self.sessionLengthSeconds = sessionLengthSeconds
            self.forwarding = forwarding
        }

    }

    /// What became of one scan.
    package struct Outcome: Sendable, Equatable {
        package var code: OutcomeCode
        package var reason: StationReason
        package var session: VisitSession?
        /// The holder's previous session, closed because this scan opened a new one.
        package var superseded: VisitSession?
        /// The holder as shown on shared screens, when the token got far enough to name one.
        package var maskedHolder: String?

        package var accepted: Bool { session != nil }
    }

    package let database: StationDatabase
    package let settings: Settings
    let root: P256.Signing.PublicKey
    /// The verifier for the held lists, rebuilt only when a list changes (parsing a list checks its
    /// signature, which each scan need not repeat).
    private let verifierCache = Mutex<(key: [Int64?], verifier: TokenVerifier)?>(nil)

    package init(database: StationDatabase, root: P256.Signing.PublicKey, settings: Settings) {
        self.database = database
        self.root = root
        self.settings = settings
    }

    package var sessions: VisitSessions { VisitSessions(database: database) }
    package var trust: TrustState { TrustState(database: database) }
    package var audit: AuditLog { AuditLog(database: database) }

    /// Verifies `text` (as scanned, bytes) from `source` at `now` and, when valid, opens its session
    /// and, with forwarding on, hands the visit to the outbox signed by `signer` (or to wait for one).
    /// `setting` overrides the station's care setting for this visit (a consented telemedicine visit).
    /// `signer` is asked inside the transaction, so a login's signing of the waiting scans (a write of
    /// its own) either sees this scan waiting or this scan sees the login.
    package func submit(
        _ text: [UInt8], source: String, now: Int64, signer: () -> PractitionerCredential? = { nil },
        setting: CareSetting? = nil
    ) throws -> Outcome {
        let presigned = presign(text, now: now, signer: signer(), setting: setting)
        return try database.writer.write { db in
            try scan(db, text, source: source, now: now, signer: signer(), setting: setting, presigned: presigned)
        }
    }

    /// The same scan, committed together with the others that arrive while a transaction runs (the
    /// API's path): each in a savepoint of its own, answered once the group's transaction committed. No
    /// thread of the caller's waits for the database lock.
    package func submitGrouped(
        _ text: [UInt8], source: String, now: Int64, signer: @escaping @Sendable () -> PractitionerCredential?,
        setting: CareSetting?
    ) async throws -> Outcome {
        // A card's signature takes tens of milliseconds: made on the blocking pool, not a cooperative thread.
        let credential = signer()
        let presigned =
            credential?.signsOnCard == true
            ? try await Blocking.run { self.presign(text, now: now, signer: credential, setting: setting) } : nil
        return try await database.groupCommit.write { db in
            try self.scan(db, text, source: source, now: now, signer: signer(), setting: setting, presigned: presigned)
        }
    }

    /// With the practitioner's key on a card (tens of milliseconds a signature), the opening is signed
    /// before the scan's write transaction, once a read-only verification says the scan will be accepted:
    /// a card's signature never holds the database's write lock (nor a group commit's batch). The
    /// transaction uses it only if the same login still holds the desk; else it signs or waits as usual.
    private func presign(
        _ text: [UInt8], now: Int64, signer: PractitionerCredential?, setting: CareSetting?
    ) -> PractitionerCredential.Presigned? {
        guard var forwarding = settings.forwarding, let signer, signer.signsOnCard else { return nil }
        if let setting { forwarding.setting = setting }
        let acceptable = (try? database.writer.read { db in try self.wouldAccept(db, text, now: now) }) ?? false
        guard acceptable else { return nil }
        return signer.presign(token: Outbox.tokenText(text), forwarding: forwarding, at: now)
    }

    /// Whether `text` verifies now, read-only: the same checks as `decide`, the replay store only asked.
    /// A token's verdict and claims without consuming it or opening anything (the HIS's "read the card"
    /// before it registers): the same checks as a scan, the replay store only asked.
    package func inspect(_ text: [UInt8], now: Int64) throws -> (code: OutcomeCode, claims: TokenClaims?) {
        try database.writer.read { db in
            if TrustState.isRolledBack(now: now, highWater: try TrustState.highWater(db), skew: settings.skewSeconds) {
                return (.clockRolledBack, nil)
            }
            guard let verifier = try verifier(db) else { return (.trustListUnavailable, nil) }
            let verification = try verifier.verify(
                text, at: now, skew: settings.skewSeconds, held: try HeldListStore.held(db),
                consumedTokens: UnconsumedTokensCheck(db: db))
            return (OutcomeCode(verification.code), verification.isValid ? verification.claims : nil)
        }
    }

    private func wouldAccept(_ db: Database, _ text: [UInt8], now: Int64) throws -> Bool {
        guard !TrustState.isRolledBack(now: now, highWater: try TrustState.highWater(db), skew: settings.skewSeconds),
            let verifier = try verifier(db)
        else { return false }
        return try verifier.verify(
            text, at: now, skew: settings.skewSeconds, held: try HeldListStore.held(db),
            consumedTokens: UnconsumedTokensCheck(db: db)
        ).isValid
    }

    /// One scan inside the caller's transaction: its verdict and everything it changes, and its audit entry.
    private func scan(
        _ db: Database, _ text: [UInt8], source: String, now: Int64, signer: PractitionerCredential?,
        setting: CareSetting?, presigned: PractitionerCredential.Presigned?
    ) throws -> Outcome {
        let outcome = try decide(
            db, text, source: source, now: now, signer: signer, setting: setting, presigned: presigned)
        var detail = ["code": outcome.code.rawValue, "source": source]
        if let holder = outcome.maskedHolder { detail["holder"] = holder }
        try AuditLog.append(
            db, at: now, kind: outcome.accepted ? .scanAccepted : .scanRejected,
            subject: outcome.session?.id ?? "", detail: detail)
        return outcome
    }

    private func decide(
        _ db: Database, _ text: [UInt8], source: String, now: Int64, signer: PractitionerCredential?,
        setting: CareSetting?, presigned: PractitionerCredential.Presigned?
    ) throws -> Outcome {
        func rejected(_ code: OutcomeCode, holder: String? = nil) -> Outcome {
            Outcome(code: code, reason: StationReason(code: code), session: nil, superseded: nil, maskedHolder: holder)
        }
        // A clock behind the latest trusted time by more than the skew cannot judge a 5-minute window.
        if TrustState.isRolledBack(now: now, highWater: try TrustState.highWater(db), skew: settings.skewSeconds) {
            return rejected(.clockRolledBack)
        }
        guard let verifier = try verifier(db) else { return rejected(.trustListUnavailable) }
        let held = try HeldListStore.held(db)
        let verification = try verifier.verify(
            text, at: now, skew: settings.skewSeconds, held: held, consumedTokens: TransactionConsumedTokens(db: db))
        let masked = verification.claims.map { VisitSession.masked(id: $0.holder.id, name: $0.holder.name) }
        guard verification.isValid, let claims = verification.claims else {
            return rejected(OutcomeCode(verification.code), holder: masked)
        }
        try TrustState.raiseHighWater(db, to: claims.issuedAt)
        var (opened, superseded) = try VisitSessions.open(
            db, claims: claims, institution: settings.institution, source: source, now: now,
            length: settings.sessionLengthSeconds, setting: (setting ?? settings.forwarding?.setting)?.rawValue)
        if var forwarding = settings.forwarding {
            if let setting { forwarding.setting = setting }
            opened.cloud = try Outbox.enqueue(
                db, session: opened, token: text, tokenID: claims.tokenID, scannedAt: now, forwarding: forwarding,
                signer: signer, presigned: presigned)
            try VisitSessions.save(db, opened)
        }
        return Outcome(
            code: .valid, reason: StationReason(code: .valid),
            session: opened, superseded: superseded, maskedHolder: masked)
    }

    /// The verifier over the installed lists, from the cache when they have not changed.
    private func verifier(_ db: Database) throws -> TokenVerifier? {
        guard let trust = try TrustState.fetch(db, .trust) else { return nil }
        let revocation = try TrustState.fetch(db, .revocation)
        let key = [trust.sequence, revocation?.sequence]
        return verifierCache.withLock { cache in
            if let cache, cache.key == key { return cache.verifier }
            let verifier = TokenVerifier(root: root, trustList: trust.cose, revocationList: revocation?.cose)
            cache = (key, verifier)
            return verifier
        }
    }
}

/// The replay store inside the scan's own transaction.
struct TransactionConsumedTokens: ConsumedTokenStore {
    let db: Database
    func consume(tokenID: [UInt8], keepUntil: Int64, now: Int64) throws -> Bool {
        try SQLiteConsumedTokenStore.consume(db, tokenID: tokenID, keepUntil: keepUntil, now: now)
    }
}

/// The replay store asked, not written: whether a token id is still unconsumed (for a read-only check).
struct UnconsumedTokensCheck: ConsumedTokenStore {
    let db: Database
    func consume(tokenID: [UInt8], keepUntil: Int64, now: Int64) throws -> Bool {
        try Int.fetchOne(
            db, sql: "SELECT 1 FROM consumed_token WHERE token_id = ? AND keep_until >= ?",
            arguments: [Data(tokenID), now]) == nil
    }
}
