import Crypto
import Foundation
import GRDB
import VirtualCard

/// The lists the station verifies with, held in its database with their sequence numbers, and the
/// clock's high-water mark: the latest trusted time it has seen (list issue times, verified tokens'
/// `iat`). A list is replaced only by a valid one with a higher sequence, atomically, with its audit
/// entry. A system clock more than the skew behind the high-water mark has been rolled back (or the
/// battery died): offline verification is refused until it is put right.
package struct TrustState: Sendable {
    let database: StationDatabase

    package init(database: StationDatabase) { self.database = database }

    package enum Kind: String, Sendable, CaseIterable {
        case trust
        case revocation
    }

    /// A list as held: its signed bytes and what the station shows about it.
    package struct Held: Sendable, Equatable {
        package var kind: Kind
        package var sequence: Int64
        package var issuedAt: Int64
        package var expiresAt: Int64
        package var installedAt: Int64
        package var cose: [UInt8]
    }

    package enum Installed: Sendable, Equatable {
        case installed(sequence: Int64)
        /// The same list (same sequence, same bytes) is already held.
        case unchanged(sequence: Int64)
    }

    /// Why a list was not installed: a stable code (the verifier's, where one fits) and a reason.
    package struct InstallError: Error, Equatable, CustomStringConvertible {
        package let code: String
        package let reason: String
        package var description: String { "\(code): \(reason)" }
    }

    /// Checks a list's signature (a revocation list against the held trust list) and installs it
    /// when its sequence is higher than the held one.
    @discardableResult
    package func install(_ kind: Kind, cose: [UInt8], root: P256.Signing.PublicKey, now: Int64) throws -> Installed {
        try database.writer.write { db in
            let parsed: (sequence: Int64, issuedAt: Int64, expiresAt: Int64)
            switch kind {
            case .trust:
                do throws(ListError) {
                    let list = try TrustList(cose: cose, root: root)
                    parsed = (list.sequence, list.issuedAt, list.expiresAt)
                } catch { throw InstallError(code: VerificationCode.trustListInvalid.rawValue, reason: error.reason) }
            case .revocation:
                guard let trustBytes = try Self.fetch(db, .trust)?.cose,
                    let trust = try? TrustList(cose: trustBytes, root: root)
                else {
                    throw InstallError(
                        code: "trust_list_unavailable", reason: "a revocation list needs a trust list installed first")
                }
                do throws(ListError) {
                    let list = try RevocationList(cose: cose, trustList: trust)
                    parsed = (list.sequence, list.issuedAt, list.expiresAt)
                } catch {
                    throw InstallError(code: VerificationCode.revocationListInvalid.rawValue, reason: error.reason)
                }
            }
            // Token-profile §7: issued more than the grace period ahead of this clock is not valid. This
            // check comes before anything moves, so a list dated in the future cannot lock the station.
            if parsed.issuedAt - SignedList.gracePeriod > now {
                let code =
                    kind == .trust ? VerificationCode.trustListInvalid : VerificationCode.revocationListInvalid
                throw InstallError(
                    code: code.rawValue,
                    reason:
                        "issued at \(parsed.issuedAt), more than \(SignedList.gracePeriod) s after the station's clock (\(now))"
                )
            }
            let held = try HeldListStore.held(db)
            let heldSequence = kind == .trust ? held.trustList : held.revocationList
            if let current = try Self.fetch(db, kind), current.sequence == parsed.sequence, current.cose == cose {
                return .unchanged(sequence: parsed.sequence)
            }
            if let heldSequence, parsed.sequence <= heldSequence {
                let code = kind == .trust ? VerificationCode.trustListRollback.rawValue : "revocation_list_rollback"
                throw InstallError(
                    code: code,
                    reason: "sequence \(parsed.sequence) is not above the held sequence \(heldSequence)")
            }
            try db.execute(
                sql: """
                    INSERT INTO installed_list (kind, sequence, issued_at, expires_at, installed_at, cose)
                    VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (kind) DO UPDATE SET sequence = excluded.sequence, issued_at = excluded.issued_at,
                        expires_at = excluded.expires_at, installed_at = excluded.installed_at, cose = excluded.cose
                    """,
                arguments: [kind.rawValue, parsed.sequence, parsed.issuedAt, parsed.expiresAt, now, Data(cose)])
            try HeldListStore.raise(db, kind: kind.rawValue, to: parsed.sequence)
            // A list signed by the root carries trusted time, but only up to this clock's now: a list
            // issued slightly ahead (within the grace period) must not make this clock look rolled back.
            try Self.raiseHighWater(db, to: min(parsed.issuedAt, now))
            try AuditLog.append(
                db, at: now, kind: .listInstalled, subject: kind.rawValue,
                detail: ["sequence": "\(parsed.sequence)", "expires_at": "\(parsed.expiresAt)"])
            return .installed(sequence: parsed.sequence)
        }
    }

    package func held(_ kind: Kind) throws -> Held? {
        try database.writer.read { db in try Self.fetch(db, kind) }
    }

    package func highWater() throws -> Int64? {
        try database.writer.read { db in try Self.highWater(db) }
    }

    /// Clock health at `now`: rolled back when more than `skew` behind the high-water mark.
    package func clockRolledBack(now: Int64, skew: Int64) throws -> Bool {
        Self.isRolledBack(now: now, highWater: try highWater(), skew: skew)
    }

    /// The rule itself, for callers that already hold the mark: more than `skew` behind it.
    package static func isRolledBack(now: Int64, highWater: Int64?, skew: Int64) -> Bool {
        guard let highWater else { return false }
        return now < highWater - skew
    }

    /// An operator's way out when the mark is wrong (set by a list or token from a machine whose clock
    /// ran ahead): the mark becomes `now`, with the operator and the old mark on the audit log.
    /// Returns the old mark.
    @discardableResult
    package func resetHighWater(now: Int64, operator name: String) throws -> Int64? {
        try database.writer.write { db in
            let previous = try Self.highWater(db)
            try db.execute(
                sql: """
                    INSERT INTO clock_state (id, high_water) VALUES (1, ?)
                    ON CONFLICT (id) DO UPDATE SET high_water = excluded.high_water
                    """,
                arguments: [now])
            try AuditLog.append(
                db, at: now, kind: .clockReset, subject: "",
                detail: ["operator": name, "previous": previous.map(String.init) ?? "none", "now": String(now)])
            return previous
        }
    }

    static func highWater(_ db: Database) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT high_water FROM clock_state WHERE id = 1")
    }

    static func raiseHighWater(_ db: Database, to time: Int64) throws {
        try db.execute(
            sql: """
                INSERT INTO clock_state (id, high_water) VALUES (1, ?)
                ON CONFLICT (id) DO UPDATE SET high_water = max(high_water, excluded.high_water)
                """,
            arguments: [time])
    }

    static func fetch(_ db: Database, _ kind: Kind) throws -> Held? {
        try Row.fetchOne(db, sql: "SELECT * FROM installed_list WHERE kind = ?", arguments: [kind.rawValue]).map {
            Held(
                kind: kind, sequence: $0["sequence"], issuedAt: $0["issued_at"], expiresAt: $0["expires_at"],
                installedAt: $0["installed_at"], cose: [UInt8]($0["cose"] as Data))
        }
    }
}
