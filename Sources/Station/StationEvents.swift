import Foundation
import Synchronization
import VirtualCard

/// What the station tells the front desk and the HIS as it happens (served as server-sent events).
/// Holders are masked: events go to shared screens.
public struct StationEvent: Sendable, Codable, Equatable {
    /// Increasing within one run of the daemon: SSE's `id:`.
    public var id: Int64
    /// `scan.accepted`, `scan.rejected`, `session.opened`, `session.id_checked`, `session.closed`,
    /// `session.expired`.
    public var type: String
    public var at: Int64
    /// For scans: the outcome code, its reason in both languages, and where the token came from.
    public var code: String?
    public var reason: StationReason?
    public var source: String?
    /// The masked holder, when known.
    public var holder: String?
    public var session: SessionSummary?
}

/// A session as shared screens and events show it: masked, without the document details.
public struct SessionSummary: Sendable, Codable, Equatable {
    public var id: String
    public var holder: String
    public var delegate: String?
    public var state: VisitSession.State
    public var photo: String
    public var openedAt: Int64
    public var expiresAt: Int64
    public var closeReason: String?

    public init(_ session: VisitSession) {
        id = session.id
        holder = session.maskedHolder
        delegate = session.delegateID.map(TaiwanID.masked)
        state = session.state
        photo = session.photo
        openedAt = session.openedAt
        expiresAt = session.expiresAt
        closeReason = session.closeReason
    }
}

/// Fans events out to every subscriber. Each subscriber has a bounded buffer that keeps the newest
/// events, so a stalled client costs a fixed amount of memory and never slows the scan path. The
/// latest `bufferSize` events are also kept, so a client that reconnects (SSE's `Last-Event-ID`) gets
/// what it missed.
public final class EventBus: Sendable {
    private struct State {
        var nextEventID: Int64 = 1
        var nextSubscriber = 0
        var subscribers: [Int: AsyncStream<StationEvent>.Continuation] = [:]
        var recent: [StationEvent] = []
        var finished = false
    }
    private let state = Mutex(State())
    public let bufferSize: Int

    public init(bufferSize: Int = 256) { self.bufferSize = bufferSize }

    /// A stream of the events published from now on, preceded by the kept ones after `lastEventID`
    /// when given; it ends when the subscriber stops iterating or the bus is finished (shutdown).
    public func subscribe(after lastEventID: Int64? = nil) -> AsyncStream<StationEvent> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: StationEvent.self, bufferingPolicy: .bufferingNewest(bufferSize))
        let key: Int? = state.withLock { state in
            guard !state.finished else { return nil }
            // Under the lock, so no event falls between the replay and the live ones.
            if let lastEventID {
                for event in state.recent where event.id > lastEventID { continuation.yield(event) }
            }
            let key = state.nextSubscriber
            state.nextSubscriber += 1
            state.subscribers[key] = continuation
            return key
        }
        guard let key else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: key) }
        }
        return stream
    }

    /// Publishes an event (its `id` is assigned here) to every current subscriber.
    @discardableResult
    public func publish(_ make: (Int64) -> StationEvent) -> StationEvent {
        state.withLock { state in
            let event = make(state.nextEventID)
            state.nextEventID += 1
            state.recent.append(event)
            if state.recent.count > bufferSize { state.recent.removeFirst(state.recent.count - bufferSize) }
            // Yielding under the lock keeps every subscriber's order the same as the ids'.
            for continuation in state.subscribers.values { continuation.yield(event) }
            return event
        }
    }

    public var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    /// Ends every stream (shutdown); later subscribers get an empty stream.
    public func finish() {
        let continuations = state.withLock { state in
            state.finished = true
            defer { state.subscribers.removeAll() }
            return Array(state.subscribers.values)
        }
        for continuation in continuations { continuation.finish() }
    }
}
