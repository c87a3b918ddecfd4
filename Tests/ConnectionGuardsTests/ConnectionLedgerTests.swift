import ConnectionGuards
import Synchronization
import Testing

/// The ledger alone: who gets a slot, who gives one up. The outside probe's floods (issue 21) in miniature.
@Suite("Connection ledger: a flood of unauthenticated connections never shuts out a station")
struct ConnectionLedgerTests {
    /// A ledger and a record of the connections it closed.
    final class Harness: Sendable {
        let ledger: ConnectionLedger
        private let closed = Mutex<[Int]>([])
        init(_ configure: (inout ConnectionLedger.Limits) -> Void) {
            var limits = ConnectionLedger.Limits()
            configure(&limits)
            ledger = ConnectionLedger(limits: limits)
        }
        /// Opens a connection whose eviction is recorded under `tag`.
        func open(_ address: String, tag: Int) -> ConnectionLedger.ID? {
            ledger.open(address: address, close: { self.closed.withLock { $0.append(tag) } })
        }
        var evictedTags: [Int] { closed.withLock { $0 } }
    }

    static func small(_ limits: inout ConnectionLedger.Limits) {
        limits.maximumConnections = 10
        limits.reservedForAuthenticated = 4
        limits.perAddress = 4
        limits.perCredential = 2
    }

    @Test("a newcomer from a flooding address evicts that address's oldest idler, never itself")
    func perAddressEviction() throws {
        let harness = Harness(Self.small)
        let flood = (0..<4).map { harness.open("10.0.0.9", tag: $0) }
        #expect(flood.allSatisfy { $0 != nil })
        let newcomer = try #require(harness.open("10.0.0.9", tag: 99))
        #expect(harness.evictedTags == [0])
        #expect(harness.ledger.state(newcomer) == .handshaking)
        #expect(harness.ledger.state(flood[0]!) == nil)
        #expect(harness.ledger.counts().evicted == 1 && harness.ledger.counts().handshaking == 4)
    }

    @Test("when the unauthenticated slots are full the busiest address gives one up, not a quiet one")
    func busiestAddressGivesWay() throws {
        let harness = Harness(Self.small)
        _ = harness.open("192.0.2.1", tag: 100)  // a station, mid-handshake
        for tag in 0..<4 { _ = harness.open("10.0.0.1", tag: tag) }
        _ = harness.open("10.0.0.2", tag: 10)
        // Six unauthenticated slots (10 − 4 reserved) are now full.
        #expect(try #require(harness.open("10.0.0.3", tag: 20)) > 0)
        #expect(harness.evictedTags == [0], "the oldest of the address holding four went")
        #expect(harness.ledger.counts().handshaking == 6)
    }

    @Test("the reserve is for authenticated connections: a flood never holds it, a station always gets in")
    func reserveForStations() throws {
        let harness = Harness(Self.small)
        for tag in 0..<20 { #expect(harness.open("10.0.\(tag).1", tag: tag) != nil) }
        #expect(harness.ledger.counts().handshaking == 6, "10 slots less the 4 reserved")
        #expect(harness.evictedTags.count == 14)
        for station in 0..<5 {
            // More flood between stations: the house stays full.
            for tag in 0..<8 { _ = harness.open("10.1.\(tag).\(station)", tag: 100 * station + tag) }
            let id = try #require(harness.open("192.0.2.\(station)", tag: 1000 + station))
            #expect(harness.ledger.handshakeDone(id, credential: "institution-\(station)"))
        }
        let counts = harness.ledger.counts()
        #expect(counts.authenticated == 5 && counts.total == 10)
        #expect(!harness.evictedTags.contains { $0 >= 1000 }, "a station was evicted")
    }

    @Test("one credential holds at most its limit; the connection over it is refused, others are not")
    func perCredential() throws {
        let harness = Harness(Self.small)
        let first = try #require(harness.open("10.0.0.1", tag: 0))
        let second = try #require(harness.open("10.0.0.1", tag: 1))
        let third = try #require(harness.open("10.0.0.1", tag: 2))
        #expect(harness.ledger.handshakeDone(first, credential: "attacker"))
        #expect(harness.ledger.handshakeDone(second, credential: "attacker"))
        #expect(!harness.ledger.handshakeDone(third, credential: "attacker"))
        #expect(harness.ledger.state(third) == nil)
        let station = try #require(harness.open("10.0.0.1", tag: 3))
        #expect(harness.ledger.handshakeDone(station, credential: "station"))
        #expect(harness.ledger.counts().refused == 1 && harness.ledger.counts().authenticated == 3)
        harness.ledger.closed(first)
        let again = try #require(harness.open("10.0.0.1", tag: 4))
        #expect(harness.ledger.handshakeDone(again, credential: "attacker"), "a closed connection gives its slot back")
    }

    @Test("a full house of authenticated connections refuses the newcomer instead of evicting a station")
    func refusedWhenAllAuthenticated() throws {
        let harness = Harness {
            Self.small(&$0)
            $0.perCredential = 100
        }
        for index in 0..<10 {
            let id = try #require(harness.open("10.0.0.\(index)", tag: index))
            #expect(harness.ledger.handshakeDone(id, credential: "c\(index % 3)"))
        }
        #expect(harness.open("10.9.9.9", tag: 99) == nil)
        #expect(harness.evictedTags.isEmpty)
        #expect(harness.ledger.counts().refused == 1)
    }

    @Test("an evicted connection's late handshake and close change nothing; anonymous ones stay evictable")
    func lateEvents() throws {
        let harness = Harness(Self.small)
        let ids = (0..<5).compactMap { harness.open("10.0.0.1", tag: $0) }
        #expect(!harness.ledger.handshakeDone(ids[0], credential: "late"), "evicted before its handshake ended")
        harness.ledger.closed(ids[0])
        #expect(harness.ledger.handshakeDone(ids[1], credential: nil))
        #expect(harness.ledger.state(ids[1]) == .anonymous)
        let counts = harness.ledger.counts()
        #expect(counts.handshaking == 3 && counts.anonymous == 1 && counts.authenticated == 0 && counts.evicted == 1)
        _ = harness.open("10.0.0.1", tag: 9)
        #expect(harness.evictedTags == [0, 1], "the anonymous one was the oldest left")
        harness.ledger.handshakeTimedOut(ids[2])
        #expect(harness.ledger.counts().handshakesTimedOut == 1 && harness.ledger.counts().handshaking == 3)
    }
}
