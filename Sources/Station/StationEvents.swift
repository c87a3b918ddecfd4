import Foundation
import StationModels
import Synchronization
import VirtualCard

/// Fans events out to every subscriber. Each subscriber has a bounded buffer that keeps the newest
/// events, so a stalled client costs a fixed amount of memory and never slows the scan path. The
/// latest `bufferSize` events are also kept, so a client that reconnects (SSE's `Last-Event-ID`) gets
/// what it missed.
package final class EventBus: Sendable {
    private struct State {
        var nextEventID: Int64
        /// The last id of the block reserved in the database; past it, another block is reserved.
        var reservedUntil: Int64
        var nextSubscriber = 0
        var subscribers: [Int: AsyncStream<StationEvent>.Continuation] = [:]
        var recent: [StationEvent] = []
        var finished = false
    }
    private let state: Mutex<State>
    package let bufferSize: Int
    /// The first id of this run: a client resuming from below it saw a previous run.
    let firstEventID: Int64
    /// Reserves a block of ids (`StationDatabase.reserveEventIDs`); nil for ids from 1 in memory (tests).
    let reserve: (@Sendable (Int64) throws -> ClosedRange<Int64>)?
    static let blockSize: Int64 = 1000

    package init(bufferSize: Int = 256) {
        self.bufferSize = bufferSize
        firstEventID = 1
        reserve = nil
        state = Mutex(State(nextEventID: 1, reservedUntil: .max))
    }

    /// Event ids from `database`, so they keep rising across restarts.
    package init(database: StationDatabase, bufferSize: Int = 256) throws {
        self.bufferSize = bufferSize
        let reserve: @Sendable (Int64) throws -> ClosedRange<Int64> = { try database.reserveEventIDs($0) }
        let block = try reserve(Self.blockSize)
        firstEventID = block.lowerBound
        self.reserve = reserve
        state = Mutex(State(nextEventID: block.lowerBound, reservedUntil: block.upperBound))
    }

    /// A stream of the events published from now on, preceded by the kept ones after `lastEventID`
    /// when given; it ends when the subscriber stops iterating or the bus is finished (shutdown).
    package func subscribe(after lastEventID: Int64? = nil) -> AsyncStream<StationEvent> {
        // Room for every kept event and the gap notice before them.
        let (stream, continuation) = AsyncStream.makeStream(
            of: StationEvent.self, bufferingPolicy: .bufferingNewest(bufferSize + 1))
        let key: Int? = state.withLock { state in
            guard !state.finished else { return nil }
            // Under the lock, so no event falls between the replay and the live ones.
            if let lastEventID {
                if let gap = Self.gap(after: lastEventID, state: state, firstEventID: firstEventID) {
                    continuation.yield(gap)
                }
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

    /// What a client resuming after `lastEventID` is told before the kept events, when it may have
    /// missed some: events of an earlier run (not kept across a restart), events older than the kept
    /// ones, or an id this station never gave.
    private static func gap(after lastEventID: Int64, state: State, firstEventID: Int64) -> StationEvent? {
        let lastGiven = state.nextEventID - 1
        let code: OutcomeCode
        if lastEventID > lastGiven {
            code = .eventIDUnknown
        } else if lastEventID < firstEventID - 1 {
            code = .eventsMissed
        } else if let oldest = state.recent.first?.id, lastEventID < oldest - 1 {
            code = .eventsMissed
        } else {
            return nil
        }
        return StationEvent(
            id: max(lastGiven, firstEventID - 1), type: .streamGap, at: Int64(Date().timeIntervalSince1970),
            code: code, reason: nil, source: nil, holder: nil, session: nil)
    }

    /// Publishes an event (its `id` is assigned here) to every current subscriber.
    @discardableResult
    package func publish(_ make: (Int64) -> StationEvent) -> StationEvent {
        state.withLock { state in
            if state.nextEventID > state.reservedUntil, let reserve {
                // Rare (once a block): a failed reservation leaves the ids rising in memory.
                if let block = try? reserve(Self.blockSize) {
                    state.nextEventID = max(state.nextEventID, block.lowerBound)
                    state.reservedUntil = block.upperBound
                } else {
                    state.reservedUntil = state.nextEventID
                }
            }
            let event = make(state.nextEventID)
            state.nextEventID += 1
            state.recent.append(event)
            if state.recent.count > bufferSize { state.recent.removeFirst(state.recent.count - bufferSize) }
            // Yielding under the lock keeps every subscriber's order the same as the ids'.
            for continuation in state.subscribers.values { continuation.yield(event) }
            return event
        }
    }

    package var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    /// Ends every stream (shutdown); later subscribers get an empty stream.
    package func finish() {
        let continuations = state.withLock { state in
            state.finished = true
            defer { state.subscribers.removeAll() }
            return Array(state.subscribers.values)
        }
        for continuation in continuations { continuation.finish() }
    }
}
