import Foundation
import GRDB

/// The front-desk page's sign-ins on disk, so a screen stays signed in across a daemon restart (an
/// update, a crash that systemd restarts): a clerk who never opens a shell cannot run `vhc web` again.
/// Only SHA-256 digests of the cookie and the page key are kept, with the sign-in's number and end;
/// expired rows go at each write, and at most `keep` rows stay (the newest).
package struct WebSessionStore: Sendable {
    let database: StationDatabase

    package init(database: StationDatabase) { self.database = database }

    package struct SignIn: Sendable, Equatable {
        package var cookieDigest: Data
        package var keyDigest: Data
        package var serial: Int
        package var expiresAt: Int64
        package init(cookieDigest: Data, keyDigest: Data, serial: Int, expiresAt: Int64) {
            self.cookieDigest = cookieDigest
            self.keyDigest = keyDigest
            self.serial = serial
            self.expiresAt = expiresAt
        }
    }

    package func save(_ row: SignIn, now: Int64, keep: Int) throws {
        try database.writer.write { db in
            try db.execute(sql: "DELETE FROM web_session WHERE expires_at <= ?", arguments: [now])
            try db.execute(
                sql:
                    "INSERT OR REPLACE INTO web_session (cookie_digest, key_digest, serial, expires_at) VALUES (?, ?, ?, ?)",
                arguments: [row.cookieDigest, row.keyDigest, row.serial, row.expiresAt])
            try db.execute(
                sql: """
                    DELETE FROM web_session WHERE serial NOT IN
                        (SELECT serial FROM web_session ORDER BY serial DESC LIMIT ?)
                    """,
                arguments: [keep])
        }
    }

    /// The live sign-in with this cookie digest, if any.
    package func find(cookieDigest: Data, now: Int64) throws -> SignIn? {
        try database.writer.read { db in
            try GRDB.Row.fetchOne(
                db, sql: "SELECT * FROM web_session WHERE cookie_digest = ? AND expires_at > ?",
                arguments: [cookieDigest, now]
            ).map {
                SignIn(
                    cookieDigest: $0["cookie_digest"], keyDigest: $0["key_digest"], serial: $0["serial"],
                    expiresAt: $0["expires_at"])
            }
        }
    }

    package func remove(cookieDigest: Data) throws {
        try database.writer.write { db in
            try db.execute(sql: "DELETE FROM web_session WHERE cookie_digest = ?", arguments: [cookieDigest])
        }
    }

    /// The last number given, so numbers keep rising across restarts (the audit tells sign-ins apart).
    package func highestSerial() throws -> Int {
        try database.writer.read { db in try Int.fetchOne(db, sql: "SELECT max(serial) FROM web_session") ?? 0 }
    }
}
