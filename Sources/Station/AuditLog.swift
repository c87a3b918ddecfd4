import AuditChain
import Foundation
import GRDB

/// The station's audit log: every scan verdict, session transition, ID-document check, API access to a
/// session, and configuration or list change, on the hash chain the cloud's log uses too
/// (`AuditChain`). Details are masked before they get here: no raw token, no full ID number or name.
public struct AuditLog: Sendable {
    let database: StationDatabase

    public init(database: StationDatabase) { self.database = database }

    public typealias Entry = AuditChain.Entry
    public typealias Kind = AuditKind
    public typealias Verification = AuditChain.Verification

    /// Appends an entry inside the caller's transaction, so the entry and the change it records
    /// commit together or not at all.
    @discardableResult
    static func append(
        _ db: Database, at: Int64, kind: AuditKind, subject: String = "", detail: [String: String] = [:]
    ) throws -> Entry {
        try AuditChain.append(db, at: at, kind: kind, subject: subject, detail: detail)
    }

    /// Appends one entry in a transaction of its own (API reads, configuration loads).
    @discardableResult
    public func append(at: Int64, kind: AuditKind, subject: String = "", detail: [String: String] = [:]) throws -> Entry
    {
        try database.writer.write { db in
            try AuditChain.append(db, at: at, kind: kind, subject: subject, detail: detail)
        }
    }

    /// Entries after `sequence`, oldest first, at most `limit`.
    public func entries(after sequence: Int64 = 0, limit: Int = 1000) throws -> [Entry] {
        try database.writer.read { db in try AuditChain.entries(db, after: sequence, limit: limit) }
    }

    /// How many rows the log holds.
    public func count() throws -> Int64 {
        try database.writer.read { db in try AuditChain.count(db) }
    }

    /// Walks the whole chain from the first row and reports the first row that does not check out.
    public func verify() throws -> Verification {
        try database.writer.read { db in try AuditChain.verify(db) }
    }
}

/// The kinds of row the station writes.
extension AuditKind {
    public static let scanAccepted = AuditKind("scan.accepted")
    public static let scanRejected = AuditKind("scan.rejected")
    public static let sessionOpened = AuditKind("session.opened")
    public static let sessionClosed = AuditKind("session.closed")
    public static let sessionExpired = AuditKind("session.expired")
    public static let sessionIDChecked = AuditKind("session.id_checked")
    public static let sessionIDCheckFailed = AuditKind("session.id_check_failed")
    public static let sessionRead = AuditKind("session.read")
    /// A holder's full name and ID number shown on a screen that masks them (the front-desk page).
    public static let holderRevealed = AuditKind("holder.revealed")
    /// A one-time sign-in link for the front-desk page made (`vhc web`), used, or a page signed out.
    public static let webLinkIssued = AuditKind("web.link_issued")
    public static let webSignedIn = AuditKind("web.signed_in")
    public static let webSignedOut = AuditKind("web.signed_out")
    public static let sessionListed = AuditKind("session.listed")
    public static let listInstalled = AuditKind("list.installed")
    public static let configLoaded = AuditKind("config.loaded")
    public static let clockReset = AuditKind("clock.reset")
    /// A practitioner signed a visit opening (at the scan, or at their login for a waiting scan).
    public static let visitSigned = AuditKind("visit.signed")
    public static let visitForwarded = AuditKind("visit.forwarded")
    public static let visitRefused = AuditKind("visit.refused")
    /// The cloud refused the practitioner's signature: the visit waits for a login to sign it again.
    public static let visitUnsigned = AuditKind("visit.unsigned")
    /// An opening (or a scan waiting for a practitioner) given up after `cloud.give_up_hours`.
    public static let visitUndeliverable = AuditKind("visit.undeliverable")
    /// A visit's records or alerts were read through the station (what, by whom; never the records).
    public static let recordsRead = AuditKind("records.read")
    /// A token used here had been used first elsewhere (the cloud's consumed-id answer).
    public static let tokenDoubleUse = AuditKind("token.double_use")
    public static let consentRequested = AuditKind("consent.requested")
    public static let consentApproved = AuditKind("consent.approved")
    public static let consentRefused = AuditKind("consent.refused")
    public static let consentExpired = AuditKind("consent.expired")
    public static let practitionerLoggedIn = AuditKind("practitioner.logged_in")
    public static let practitionerLoggedOut = AuditKind("practitioner.logged_out")
    /// The cloud said at login that it would refuse the practitioner's openings; the login was refused.
    public static let practitionerLoginRefused = AuditKind("practitioner.login_refused")
}
