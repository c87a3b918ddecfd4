import Synchronization

/// Who holds the server's connection slots, and who gives one up when they run out. A server that
/// stops accepting at its cap (Hummingbird's `MaximumAvailableConnections`) lets anyone who can open
/// sockets hold it shut; this one always accepts, and makes room by closing a connection that has not
/// proved who it is. The rules:
/// - connections that have not authenticated (still in their TLS handshake, or finished it without a
///   valid credential) share `maximumConnections - reservedForAuthenticated` slots, so the reserve is
///   only ever used by authenticated ones;
/// - one address holds at most `perAddress` unauthenticated connections;
/// - one credential (a client certificate) holds at most `perCredential` connections, so one holder of
///   a certificate cannot take the reserve either;
/// - when a new connection needs a slot, the oldest unauthenticated connection of the address holding
///   the most goes (its own address first when that one is over its limit). A newcomer is never the
///   victim, so a station opening a connection during a flood always gets to its handshake; only when
///   every slot is authenticated is the newcomer refused.
/// Thread-safe; the closing itself is done by the closures handed in, outside the lock.
package final class ConnectionLedger: Sendable {
    package struct Limits: Sendable, Equatable {
        /// An idle connection costs the cloud about 45 KiB; closing one to make room costs a TLS
        /// handshake when it comes back. Room to hold a flood is the cheaper of the two (docs/cloud.md).
        package var maximumConnections = 4096
        /// Slots only authenticated connections may use.
        package var reservedForAuthenticated = 512
        /// Unauthenticated connections from one address.
        package var perAddress = 3072
        /// Connections, authenticated, with one credential (a few stations sharing an institution's
        /// certificate, each with an HTTP client's pool of 8).
        package var perCredential = 64
        package init() {}

        /// The limits as they are applied: each at least 1, the reserve below the maximum.
        var normalised: Limits {
            var limits = self
            limits.maximumConnections = max(2, maximumConnections)
            limits.reservedForAuthenticated = min(max(0, reservedForAuthenticated), limits.maximumConnections - 1)
            limits.perAddress = max(1, perAddress)
            limits.perCredential = max(1, perCredential)
            return limits
        }
        var unauthenticatedSlots: Int { maximumConnections - reservedForAuthenticated }
    }

    package enum State: Sendable, Equatable {
        /// Accepted; the TLS handshake (or the check of its certificate) is not done.
        case handshaking
        /// Handshake done without a credential the server accepts.
        case anonymous
        /// Handshake done with an accepted credential.
        case authenticated(credential: String)

        var isAuthenticated: Bool {
            if case .authenticated = self { return true }
            return false
        }
    }

    /// Connections by state now, and what the ledger has done since the start.
    package struct Counts: Sendable, Equatable {
        package var handshaking = 0
        package var anonymous = 0
        package var authenticated = 0
        /// Unauthenticated connections closed to make room for a newer one.
        package var evicted = 0
        /// New connections refused: every slot authenticated, or a credential over its limit.
        package var refused = 0
        /// Connections closed because their TLS handshake did not finish in time.
        package var handshakesTimedOut = 0
        /// Connections closed because a request's head or body came too slowly (`RequestDeadlineHandler`).
        package var requestsTooSlow = 0
        package var total: Int { handshaking + anonymous + authenticated }
    }

    package typealias ID = UInt64

    private struct Entry {
        let address: String
        var state: State
        let close: @Sendable () -> Void
    }

    private struct Book {
        var next: ID = 0
        var entries: [ID: Entry] = [:]
        var unauthenticatedByAddress: [String: Int] = [:]
        var byCredential: [String: Int] = [:]
        var counts = Counts()
        var unauthenticated: Int { counts.handshaking + counts.anonymous }
    }

    package let limits: Limits
    private let book = Mutex(Book())

    package init(limits: Limits = .init()) { self.limits = limits.normalised }

    /// A newly accepted connection from `address`, in `.handshaking`. Returns its id, or nil when it is
    /// refused (the caller closes it). `close` is called, at most once, if it is later evicted.
    package func open(address: String, close: @escaping @Sendable () -> Void) -> ID? {
        let (id, victim): (ID?, Entry?) = book.withLock { book in
            var victim: Entry?
            if book.unauthenticatedByAddress[address, default: 0] >= limits.perAddress {
                victim = Self.evict(from: address, &book)
            } else if book.unauthenticated >= limits.unauthenticatedSlots
                || book.counts.total >= limits.maximumConnections
            {
                victim = Self.busiestAddress(book).flatMap { Self.evict(from: $0, &book) }
            }
            guard book.counts.total < limits.maximumConnections else {
                book.counts.refused += 1
                return (nil, victim)
            }
            book.next += 1
            book.entries[book.next] = Entry(address: address, state: .handshaking, close: close)
            Self.count(address, .handshaking, &book)
            return (book.next, victim)
        }
        victim?.close()
        return id
    }

    /// The handshake of `id` is done, with the credential it proved (nil: none). Returns false when the
    /// connection must close: evicted meanwhile, or its credential already holds `perCredential`.
    @discardableResult
    package func handshakeDone(_ id: ID, credential: String?) -> Bool {
        book.withLock { book in
            guard let entry = book.entries[id], entry.state == .handshaking else { return false }
            guard let credential else {
                Self.move(id, to: .anonymous, &book)
                return true
            }
            guard book.byCredential[credential, default: 0] < limits.perCredential else {
                Self.remove(id, &book)
                book.counts.refused += 1
                return false
            }
            Self.move(id, to: .authenticated(credential: credential), &book)
            return true
        }
    }

    /// The connection closed (by either side, or evicted: then this does nothing).
    package func closed(_ id: ID) {
        book.withLock { book in Self.remove(id, &book) }
    }

    /// `id` is being closed because its handshake took too long.
    package func handshakeTimedOut(_ id: ID) {
        book.withLock { book in
            guard book.entries[id] != nil else { return }
            Self.remove(id, &book)
            book.counts.handshakesTimedOut += 1
        }
    }

    /// A connection is being closed because a request came too slowly.
    package func requestTooSlow() { book.withLock { $0.counts.requestsTooSlow += 1 } }

    package func counts() -> Counts { book.withLock { $0.counts } }

    package func state(_ id: ID) -> State? { book.withLock { $0.entries[id]?.state } }

    // MARK: - Bookkeeping, inside the lock

    private static func busiestAddress(_ book: Book) -> String? {
        book.unauthenticatedByAddress.max { $0.value < $1.value }?.key
    }

    /// Removes the oldest unauthenticated connection of `address` and returns it for closing.
    private static func evict(from address: String, _ book: inout Book) -> Entry? {
        let oldest = book.entries.lazy.filter { $0.value.address == address && !$0.value.state.isAuthenticated }
            .min { $0.key < $1.key }
        guard let (id, entry) = oldest else { return nil }
        remove(id, &book)
        book.counts.evicted += 1
        return entry
    }

    private static func move(_ id: ID, to state: State, _ book: inout Book) {
        guard let entry = book.entries[id] else { return }
        let address = entry.address
        uncount(entry, &book)
        book.entries[id]?.state = state
        count(address, state, &book)
    }

    private static func remove(_ id: ID, _ book: inout Book) {
        guard let entry = book.entries.removeValue(forKey: id) else { return }
        uncount(entry, &book)
    }

    private static func count(_ address: String, _ state: State, _ book: inout Book) {
        switch state {
        case .handshaking, .anonymous:
            book.unauthenticatedByAddress[address, default: 0] += 1
            if state == .handshaking { book.counts.handshaking += 1 } else { book.counts.anonymous += 1 }
        case .authenticated(let credential):
            book.byCredential[credential, default: 0] += 1
            book.counts.authenticated += 1
        }
    }

    private static func uncount(_ entry: Entry, _ book: inout Book) {
        switch entry.state {
        case .handshaking, .anonymous:
            let left = book.unauthenticatedByAddress[entry.address, default: 1] - 1
            book.unauthenticatedByAddress[entry.address] = left > 0 ? left : nil
            if entry.state == .handshaking { book.counts.handshaking -= 1 } else { book.counts.anonymous -= 1 }
        case .authenticated(let credential):
            let left = book.byCredential[credential, default: 1] - 1
            book.byCredential[credential] = left > 0 ? left : nil
            book.counts.authenticated -= 1
        }
    }
}
