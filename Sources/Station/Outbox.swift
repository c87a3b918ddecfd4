import CloudProtocol
import Foundation
import GRDB
import StationModels
import VirtualCard
import X509

/// The station's side of forwarding visits to the cloud, in its database: scans waiting for a
/// practitioner to sign them, and signed openings waiting for the cloud's answer (the outbox).
///
/// These two tables are the only places a token text rests, and only until the cloud has answered:
/// the answer deletes it in the same transaction that records the grant or the refusal, and the
/// audit keeps the token id alone. An opening keeps its request id from signing to answer, so sending
/// it again (a timeout, a crash between send and answer) opens the visit once (cloud-protocol.md §5).
package struct Outbox: Sendable {
    let database: StationDatabase

    package init(database: StationDatabase) { self.database = database }

    /// Where the station opens visits: its institution code and care setting.
    package struct Forwarding: Sendable, Equatable {
        package var institution: String
        package var setting: CareSetting
        package init(institution: String, setting: CareSetting) {
            self.institution = institution
            self.setting = setting
        }
    }

    /// A signed opening as stored.
    package struct Item: Sendable, Equatable {
        package var requestID: [UInt8]
        package var sessionID: String
        package var tokenID: [UInt8]
        /// The tagged COSE_Sign1 to POST to `/v1/visits`.
        package var body: [UInt8]
        package var scannedAt: Int64
        package var attempts: Int
    }

    /// What waits, for the status.
    package struct Backlog: Sendable, Equatable {
        package var outbox: Int
        package var oldestScannedAt: Int64?
        package var awaitingPractitioner: Int
        /// Given up after `cloud.give_up_hours`, and the last one's error.
        package var undeliverable: Int = 0
        package var lastUndeliverableError: String?
        package var lastUndeliverableAt: Int64?
    }

    /// Inside the scan's transaction: the opening signed now by `signer` into the outbox, or, with
    /// nobody logged in, the token kept until someone is. Returns the session's cloud state.
    static func enqueue(
        _ db: Database, session: VisitSession, token: [UInt8], tokenID: [UInt8], scannedAt: Int64,
        forwarding: Forwarding, signer: PractitionerCredential?, presigned: PractitionerCredential.Presigned? = nil
    ) throws -> CloudVisit {
        let text = Self.tokenText(token)
        guard let signer else {
            try wait(
                db, sessionID: session.id, token: text, tokenID: tokenID, scannedAt: scannedAt,
                setting: forwarding.setting)
            return CloudVisit(state: .awaitingPractitioner)
        }
        do {
            try insert(
                db, sessionID: session.id, token: text, tokenID: tokenID, scannedAt: scannedAt, signedAt: scannedAt,
                forwarding: forwarding, signer: signer,
                presigned: presigned.flatMap { $0.matches(signer, token: text, forwarding: forwarding) ? $0 : nil })
        } catch is PractitionerCredential.SigningFailed {
            // The card was pulled out between the check and the signature: the scan waits for a
            // practitioner, as with nobody logged in (the maintenance tick ends the shift).
            try wait(
                db, sessionID: session.id, token: text, tokenID: tokenID, scannedAt: scannedAt,
                setting: forwarding.setting)
            return CloudVisit(state: .awaitingPractitioner)
        }
        return CloudVisit(state: .pendingCloud, practitioner: signer.status.name)
    }

    /// Keeps a token until a practitioner logs in and signs its opening (in the visit's own setting).
    private static func wait(
        _ db: Database, sessionID: String, token: String, tokenID: [UInt8], scannedAt: Int64, setting: CareSetting
    ) throws {
        try db.execute(
            sql: """
                INSERT INTO awaiting_practitioner (session_id, token, token_id, scanned_at, setting)
                VALUES (?, ?, ?, ?, ?)
                """,
            arguments: [sessionID, token, Data(tokenID), scannedAt, setting.rawValue])
    }

    /// The token as the opening carries it: as scanned, with at most one trailing newline removed
    /// (cloud-protocol.md §3, key 1), as the verifier reads it.
    static func tokenText(_ bytes: [UInt8]) -> String {
        String(decoding: TokenVerifier.withoutTrailingNewline(bytes[...]), as: UTF8.self)
    }

    private static func insert(
        _ db: Database, sessionID: String, token: String, tokenID: [UInt8], scannedAt: Int64, signedAt: Int64,
        forwarding: Forwarding, signer: PractitionerCredential, presigned: PractitionerCredential.Presigned? = nil
    ) throws {
        let opening: VisitOpening, body: [UInt8]
        if let presigned {
            (opening, body) = (presigned.opening, presigned.body)
        } else {
            opening = VisitOpening(
                token: token, institution: forwarding.institution, setting: forwarding.setting, signedAt: signedAt,
                scannedAt: scannedAt)
            body = try signer.sign(opening)
        }
        try db.execute(
            sql: """
                INSERT INTO outbox (request_id, session_id, token_id, body, scanned_at, signed_at, next_attempt_at)
                VALUES (?, ?, ?, ?, ?, ?, 0)
                """,
            arguments: [
                Data(opening.requestID), sessionID, Data(tokenID), Data(body), scannedAt, opening.signedAt,
            ])
        try AuditLog.append(
            db, at: signedAt, kind: .visitSigned, subject: sessionID,
            detail: ["token": Hex.encode(tokenID), "practitioner": signer.status.id, "scanned_at": String(scannedAt)])
    }

    /// Signs every scan that waited for a practitioner, now, as `signer`: each moves to the outbox
    /// and its session to `pending_cloud`. Returns the sessions.
    package func signWaiting(
        by signer: PractitionerCredential, forwarding: Forwarding, now: Int64
    ) throws
        -> [VisitSession]
    {
        try database.writer.write { db in
            let waiting = try Row.fetchAll(
                db,
                sql:
                    "SELECT session_id, token, token_id, scanned_at, setting FROM awaiting_practitioner ORDER BY scanned_at"
            )
            var signed: [VisitSession] = []
            for row in waiting {
                let sessionID: String = row["session_id"]
                var visit = forwarding
                if let setting = CareSetting(rawValue: row["setting"]) { visit.setting = setting }
                try Self.insert(
                    db, sessionID: sessionID, token: row["token"], tokenID: [UInt8](row["token_id"] as Data),
                    scannedAt: row["scanned_at"], signedAt: now, forwarding: visit, signer: signer)
                try db.execute(sql: "DELETE FROM awaiting_practitioner WHERE session_id = ?", arguments: [sessionID])
                guard var session = try VisitSessions.fetch(db, id: sessionID) else { continue }
                session.cloud = CloudVisit(state: .pendingCloud, practitioner: signer.status.name)
                try VisitSessions.save(db, session)
                signed.append(session)
            }
            return signed
        }
    }

    /// Openings due for a try at `now`, oldest scan first.
    package func due(now: Int64, limit: Int) throws -> [Item] {
        try database.writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT request_id, session_id, token_id, body, scanned_at, attempts FROM outbox
                    WHERE next_attempt_at <= ? ORDER BY scanned_at, rowid LIMIT ?
                    """,
                arguments: [now, limit]
            ).map { row in
                Item(
                    requestID: [UInt8](row["request_id"] as Data), sessionID: row["session_id"],
                    tokenID: [UInt8](row["token_id"] as Data), body: [UInt8](row["body"] as Data),
                    scannedAt: row["scanned_at"], attempts: row["attempts"])
            }
        }
    }

    /// The cloud's answer to one opening, as the outbox applies it.
    package enum Answer: Sendable, Equatable {
        case opened(VisitGrant)
        /// A refusal: the cloud's code, and the token profile's code with `token_invalid`.
        case refused(code: String, tokenCode: String?)
        /// The practitioner's signature was refused (`practitioner_certificate_invalid`,
        /// `request_signature_invalid`, `practitioner_not_affiliated`): the cloud consumed nothing, so
        /// the visit waits for the next login to sign it again.
        case signatureRefused(code: String)
        /// A final refusal with a code this station does not know (another cloud's, a newer protocol's):
        /// the visit is closed as `cloud_refused`, the cloud's code kept beside it in the audit.
        case refusedUnknown(cloudCode: String)

        /// The code the station closes the visit with, for a refusal.
        package var refusalCode: String? {
            switch self {
            case .opened: nil
            case .refused(let code, _), .signatureRefused(let code): code
            case .refusedUnknown: CloudCode.cloudRefused.rawValue
            }
        }
    }

    /// Applies the cloud's answers in one transaction: each opening leaves the outbox (and its token
    /// with it), its session records the visit or is closed with the refusal, and the audit notes it
    /// with the token id. Returns the items applied now, with their sessions as they are now.
    package func apply(_ answers: [(Item, Answer)], now: Int64) throws -> [(Item, VisitSession, Answer)] {
        try database.writer.write { db in
            var changed: [(Item, VisitSession, Answer)] = []
            for (item, answer) in answers {
                try db.execute(sql: "DELETE FROM outbox WHERE request_id = ?", arguments: [Data(item.requestID)])
                guard db.changesCount == 1 else { continue }  // applied already
                var session = try VisitSessions.fetch(db, id: item.sessionID)
                var cloud = session?.cloud ?? CloudVisit(state: .pendingCloud)
                var detail = ["token": Hex.encode(item.tokenID)]
                switch answer {
                case .signatureRefused(let code):
                    guard let signed = try? SignedVisitOpening(item.body) else { break }
                    try Self.wait(
                        db, sessionID: item.sessionID, token: signed.opening.token, tokenID: item.tokenID,
                        scannedAt: item.scannedAt, setting: signed.opening.setting)
                    // Who was refused and why stay on the visit until the next signature.
                    let signer = (try? Certificate(derEncoded: signed.certificate)).flatMap(PractitionerIdentity.init)
                    cloud = CloudVisit(
                        state: .awaitingPractitioner, practitioner: signer.map { PersonName.masked($0.name) },
                        refusal: code)
                    detail["code"] = code
                    if let signer { detail["practitioner"] = signer.id }
                    try AuditLog.append(db, at: now, kind: .visitUnsigned, subject: item.sessionID, detail: detail)
                case .opened(let grant):
                    cloud.state = .forwarded
                    cloud.visitSequence = grant.visitSequence
                    cloud.deferred = grant.deferred
                    cloud.cardNumber = grant.patient.cardNumber
                    cloud.insuranceStatus = grant.patient.insuranceStatus?.rawValue
                    cloud.treatmentNumber = grant.treatmentNumber
                    cloud.sex = grant.patient.sex?.rawValue
                    cloud.grantExpiresAt = Self.epochSeconds(grant.expiresAt)
                    detail["visit_sequence"] = grant.visitSequence
                    detail["deferred"] = String(grant.deferred)
                    try AuditLog.append(db, at: now, kind: .visitForwarded, subject: item.sessionID, detail: detail)
                case .refused, .refusedUnknown:
                    let code = answer.refusalCode ?? CloudCode.cloudRefused.rawValue
                    var tokenCode: String?
                    if case .refused(_, let profileCode) = answer { tokenCode = profileCode }
                    if case .refusedUnknown(let cloudCode) = answer { detail["cloud_code"] = cloudCode }
                    if code != "token_replayed" {
                        // Used here, unknown to the cloud: it must learn of it (a replay it already knows).
                        try db.execute(
                            sql: "INSERT OR IGNORE INTO consumed_upload (token_id, consumed_at) VALUES (?, ?)",
                            arguments: [Data(item.tokenID), item.scannedAt])
                    }
                    cloud.state = .refused
                    cloud.refusal = code
                    cloud.tokenCode = tokenCode
                    detail["code"] = code
                    if let tokenCode { detail["token_code"] = tokenCode }
                    try AuditLog.append(db, at: now, kind: .visitRefused, subject: item.sessionID, detail: detail)
                    if let open = session, open.state.isOpen {
                        session?.state = .closed
                        session?.closedAt = now
                        session?.closeReason = CloseReason(rawValue: code)
                        try AuditLog.append(
                            db, at: now, kind: .sessionClosed, subject: item.sessionID,
                            detail: ["reason": code, "holder": open.maskedHolder])
                    }
                }
                guard var updated = session else { continue }
                updated.cloud = cloud
                try VisitSessions.save(db, updated)
                if case .opened(let grant) = answer {
                    try db.execute(
                        sql: "UPDATE visit_session SET cloud_grant = ? WHERE id = ?",
                        arguments: [grant.grant, item.sessionID])
                }
                changed.append((item, updated, answer))
            }
            return changed
        }
    }

    /// No answer this time (the cloud unreachable, busy or failing): each item is tried again at the
    /// time `retryAt` gives for its count of attempts so far, and keeps why it failed.
    package func postpone(_ items: [(item: Item, error: String)], until retryAt: (Item) -> Int64) throws {
        try database.writer.write { db in
            for (item, error) in items {
                try db.execute(
                    sql: """
                        UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?
                        WHERE request_id = ?
                        """,
                    arguments: [retryAt(item), String(error.prefix(Self.errorLength)), Data(item.requestID)])
            }
        }
    }

    /// How much of an error is kept: enough to say what failed.
    static let errorLength = 240

    /// Writes the log back into the database file and empties it: the pages that held a token the
    /// cloud has answered are overwritten in the file (`secure_delete`), and the log's copies go with
    /// this. Best effort: a reader in the middle of a read only delays it to the next time.
    package func scrubLog() {
        try? database.writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
    }

    /// Makes every waiting opening due now (the cloud is back: no need to wait out each backoff).
    package func makeAllDue() throws {
        try database.writer.write { db in try db.execute(sql: "UPDATE outbox SET next_attempt_at = 0") }
    }

    /// Token ids to tell the cloud of, oldest first: (id, when it was used here).
    package func consumedToUpload(limit: Int) throws -> [(tokenID: [UInt8], consumedAt: Int64)] {
        try database.writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT token_id, consumed_at FROM consumed_upload ORDER BY consumed_at LIMIT ?",
                arguments: [limit]
            ).map { ([UInt8]($0["token_id"] as Data), $0["consumed_at"]) }
        }
    }

    /// The cloud recorded these ids (and named those used elsewhere first, handled by the caller).
    package func consumedUploaded(_ tokenIDs: [[UInt8]]) throws {
        try database.writer.write { db in
            for id in tokenIDs {
                try db.execute(sql: "DELETE FROM consumed_upload WHERE token_id = ?", arguments: [Data(id)])
            }
        }
    }

    package func backlog() throws -> Backlog {
        try database.writer.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT count(*) AS n, min(scanned_at) AS oldest FROM outbox")
            let awaiting = try Int.fetchOne(db, sql: "SELECT count(*) FROM awaiting_practitioner") ?? 0
            let given = try Row.fetchOne(
                db,
                sql: """
                    SELECT (SELECT count(*) FROM undeliverable_visit) AS n, last_error, given_up_at
                    FROM (SELECT NULL) LEFT JOIN
                        (SELECT last_error, given_up_at FROM undeliverable_visit
                         ORDER BY given_up_at DESC, rowid DESC LIMIT 1)
                    """)
            return Backlog(
                outbox: row?["n"] ?? 0, oldestScannedAt: row?["oldest"], awaitingPractitioner: awaiting,
                undeliverable: given?["n"] ?? 0, lastUndeliverableError: given?["last_error"],
                lastUndeliverableAt: given?["given_up_at"])
        }
    }

    /// An ISO 8601 time from the cloud as epoch seconds; nil when it is not one.
    static func epochSeconds(_ text: String) -> Int64? {
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return Int64(date.timeIntervalSince1970) }
        formatter.formatOptions.insert(.withFractionalSeconds)
        return formatter.date(from: text).map { Int64($0.timeIntervalSince1970) }
    }
}
