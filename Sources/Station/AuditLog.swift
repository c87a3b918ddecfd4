import AuditChain
import Foundation
import GRDB

/// The station's audit log: every scan verdict, session transition, ID-document check, API access to a
/// session, and configuration or list change, on the hash chain the cloud's log uses too
/// (`AuditChain`). Details are masked before they get here: no raw token, no full ID number or name.
package struct AuditLog: Sendable {
    let database: StationDatabase

    package init(database: StationDatabase) { self.database = database }

    package typealias Entry = AuditChain.Entry
    package typealias Kind = AuditKind
    package typealias Verification = AuditChain.Verification

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
    package func append(at: Int64, kind: AuditKind, subject: String = "", detail: [String: String] = [:]) throws -> Entry
    {
        try database.writer.write { db in
            try AuditChain.append(db, at: at, kind: kind, subject: subject, detail: detail)
        }
    }

    /// Entries after `sequence`, oldest first, at most `limit`.
    package func entries(after sequence: Int64 = 0, limit: Int = 1000) throws -> [Entry] {
        try database.writer.read { db in try AuditChain.entries(db, after: sequence, limit: limit) }
    }

    /// How many rows the log holds.
    package func count() throws -> Int64 {
        try database.writer.read { db in try AuditChain.count(db) }
    }

    /// Walks the whole chain from the first row and reports the first row that does not check out.
    package func verify() throws -> Verification {
        try database.writer.read { db in try AuditChain.verify(db) }
    }
}

/// The kinds of row the station writes.
extension AuditKind {
    package static let scanAccepted = AuditKind("scan.accepted")
    package static let scanRejected = AuditKind("scan.rejected")
    package static let sessionOpened = AuditKind("session.opened")
    package static let sessionClosed = AuditKind("session.closed")
    package static let sessionExpired = AuditKind("session.expired")
    package static let sessionIDChecked = AuditKind("session.id_checked")
    package static let sessionIDCheckFailed = AuditKind("session.id_check_failed")
    package static let sessionRead = AuditKind("session.read")
    /// A holder's full name and ID number shown on a screen that masks them (the front-desk page).
    package static let holderRevealed = AuditKind("holder.revealed")
    /// A one-time sign-in link for the front-desk page made (`vhc web`), used, or a page signed out.
    package static let webLinkIssued = AuditKind("web.link_issued")
    package static let webSignedIn = AuditKind("web.signed_in")
    package static let webSignedOut = AuditKind("web.signed_out")
    package static let sessionListed = AuditKind("session.listed")
    package static let listInstalled = AuditKind("list.installed")
    package static let configLoaded = AuditKind("config.loaded")
    package static let clockReset = AuditKind("clock.reset")
    /// A practitioner signed a visit opening (at the scan, or at their login for a waiting scan).
    package static let visitSigned = AuditKind("visit.signed")
    package static let visitForwarded = AuditKind("visit.forwarded")
    package static let visitRefused = AuditKind("visit.refused")
    /// The cloud refused the practitioner's signature: the visit waits for a login to sign it again.
    package static let visitUnsigned = AuditKind("visit.unsigned")
    /// An opening (or a scan waiting for a practitioner) given up after `cloud.give_up_hours`.
    package static let visitUndeliverable = AuditKind("visit.undeliverable")
    /// A visit's records or alerts were read through the station (what, by whom; never the records).
    package static let recordsRead = AuditKind("records.read")
    /// A token used here had been used first elsewhere (the cloud's consumed-id answer).
    package static let tokenDoubleUse = AuditKind("token.double_use")
    package static let consentRequested = AuditKind("consent.requested")
    package static let consentApproved = AuditKind("consent.approved")
    package static let consentRefused = AuditKind("consent.refused")
    package static let consentExpired = AuditKind("consent.expired")
    package static let consentCancelled = AuditKind("consent.cancelled")
    /// The HIS read a holder's identity through the compatibility listener (a token, or the card in the reader).
    package static let hisCardRead = AuditKind("his.card_read")
    /// The HIS took a visit the station had opened (the card in the reader) for its registration.
    package static let hisCardTaken = AuditKind("his.card_taken")
    package static let practitionerLoggedIn = AuditKind("practitioner.logged_in")
    package static let practitionerLoggedOut = AuditKind("practitioner.logged_out")
    /// The cloud said at login that it would refuse the practitioner's openings; the login was refused.
    package static let practitionerLoginRefused = AuditKind("practitioner.login_refused")
}
