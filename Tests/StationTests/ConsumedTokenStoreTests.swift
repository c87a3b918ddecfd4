import Crypto
import Foundation
import Station
import TestSupport
import Testing
import VirtualCard

@Suite("Station database: replay store and held list sequences")
struct ConsumedTokenStoreTests {
    /// Every test works in its own folder, removed when the test ends.
    let folder = try! TemporaryFolder(prefix: "vhc-station-tests")
    var databasePath: String { folder.path("station.sqlite") }

    @Test("a token id is consumed once; the record survives reopening")
    func consumeOnce() throws {
        let path = databasePath
        let id = [UInt8](repeating: 7, count: 16)
        do {
            let store = SQLiteConsumedTokenStore(database: try StationDatabase(path: path))
            #expect(try store.consume(tokenID: id, keepUntil: 1000, now: 500))
            #expect(try !store.consume(tokenID: id, keepUntil: 1000, now: 600))
        }
        let reopened = SQLiteConsumedTokenStore(database: try StationDatabase(path: path))
        #expect(try !reopened.consume(tokenID: id, keepUntil: 1000, now: 1000))
        #expect(try reopened.count() == 1)
    }

    @Test("entries are purged after keep-until, not before")
    func purge() throws {
        let store = SQLiteConsumedTokenStore(database: try StationDatabase(path: databasePath))
        let old = [UInt8](repeating: 1, count: 16)
        let fresh = [UInt8](repeating: 2, count: 16)
        #expect(try store.consume(tokenID: old, keepUntil: 100, now: 0))
        #expect(try store.consume(tokenID: fresh, keepUntil: 100, now: 100))
        #expect(try store.count() == 2)
        #expect(try store.consume(tokenID: [UInt8](repeating: 3, count: 16), keepUntil: 500, now: 101))
        #expect(try store.count() == 1)
    }

    @Test("50 concurrent consumers of one token id over separate connections: exactly one wins")
    func concurrentConsumers() async throws {
        let path = databasePath
        _ = try StationDatabase(path: path)  // create and migrate once
        let id = [UInt8](repeating: 9, count: 16)
        let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<50 {
                group.addTask {
                    let store = SQLiteConsumedTokenStore(database: try StationDatabase(path: path))
                    return try store.consume(tokenID: id, keepUntil: 10_000, now: 1)
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(wins == 1)
    }

    @Test("the database file is private to its owner")
    func fileMode() throws {
        let path = databasePath
        _ = try StationDatabase(path: path)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test("held sequences rise and never fall")
    func heldSequences() throws {
        let held = HeldListStore(database: try StationDatabase(path: databasePath))
        #expect(try held.held() == HeldSequences())
        try held.record(trustList: 5, revocationList: nil)
        #expect(try held.held() == HeldSequences(trustList: 5, revocationList: nil))
        try held.record(trustList: 3, revocationList: 2)
        #expect(try held.held() == HeldSequences(trustList: 5, revocationList: 2))
        try held.record(trustList: 7, revocationList: 1)
        #expect(try held.held() == HeldSequences(trustList: 7, revocationList: 2))
    }

    @Test("a path that cannot be opened is a clear error, not a crash")
    func unopenable() throws {
        #expect(throws: StationDatabase.OpenError.self) {
            try StationDatabase(path: "/nonexistent-dir/x/station.sqlite")
        }
        let notADatabase = folder.path("not-a-database.sqlite")
        try Data("not sqlite at all, just text".utf8).write(to: URL(fileURLWithPath: notADatabase))
        #expect(throws: StationDatabase.OpenError.self) { try StationDatabase(path: notADatabase) }
    }

    @Test("the verifier with the SQLite store: replay across store instances")
    func verifierIntegration() throws {
        let path = databasePath
        let key = P256Keys.make()
        let now: Int64 = 1_795_341_600
        let trust = try TrustList.build(
            issuer: "TW-NHIA", sequence: 1, issuedAt: now, expiresAt: now + 100_000,
            keys: [.init(publicKey: key.token.publicKey, usage: .tokenSigning, notBefore: 0, notAfter: now + 100_000)],
            root: key.root)
        let verifier = TokenVerifier(root: key.root.publicKey, trustList: trust, revocationList: nil)
        let claims = TokenClaims(
            issuer: "TW-NHIA", issuedAt: now, expiresAt: now + 300, tokenID: TokenIssuer.newTokenID(),
            holder: .init(id: "A123456789", name: "王小明", birthDate: CalendarDate(iso: "1980-05-17")!, photo: .verified))
        let text = try TokenIssuer(signingKey: key.token, issuer: "TW-NHIA").issue(claims)
        let first = SQLiteConsumedTokenStore(database: try StationDatabase(path: path))
        #expect(try verifier.verify(text, at: now, consumedTokens: first).code == .valid)
        let second = SQLiteConsumedTokenStore(database: try StationDatabase(path: path))
        #expect(try verifier.verify(text, at: now + 5, consumedTokens: second).code == .replayed)
    }
}

enum P256Keys {
    static func make() -> (root: P256.Signing.PrivateKey, token: P256.Signing.PrivateKey) {
        (P256.Signing.PrivateKey(), P256.Signing.PrivateKey())
    }
}
