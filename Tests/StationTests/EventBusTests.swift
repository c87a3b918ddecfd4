import Foundation
import Station
import StationModels
import TestSupport
import Testing

@Suite("Event ids: rising across restarts; a resume that may have missed events is told so")
struct EventBusTests {
    let folder = try! TemporaryFolder(prefix: "vhc-events")

    func event(_ id: Int64) -> StationEvent {
        StationEvent(id: id, type: .scanRejected, at: 1, code: OutcomeCode(.expired))
    }

    /// The first `count` events a subscription delivers.
    func first(_ count: Int, of stream: AsyncStream<StationEvent>) async -> [StationEvent] {
        var events: [StationEvent] = []
        for await event in stream {
            events.append(event)
            if events.count == count { break }
        }
        return events
    }

    @Test func idsKeepRisingAfterARestartAndResumesAreToldWhatTheyMayHaveMissed() async throws {
        let path = folder.path("station.sqlite")
        var lastOfFirstRun: Int64 = 0
        do {
            let bus = try EventBus(database: try StationDatabase(path: path), bufferSize: 4)
            for _ in 0..<6 { lastOfFirstRun = bus.publish { event($0) }.id }
            // Resuming within the run, within the kept events: no gap.
            let fine = bus.subscribe(after: lastOfFirstRun - 2)
            bus.publish { event($0) }
            #expect(await first(2, of: fine).map(\.type) == [.scanRejected, .scanRejected])
            // Older than the kept ones (4 kept): told so first.
            let old = bus.subscribe(after: lastOfFirstRun - 5)
            #expect(await first(1, of: old).first?.code == .eventsMissed)
            lastOfFirstRun += 1
        }
        // The daemon restarts.
        let bus = try EventBus(database: try StationDatabase(path: path), bufferSize: 4)
        let next = bus.publish { event($0) }.id
        #expect(next > lastOfFirstRun)
        let resumed = bus.subscribe(after: lastOfFirstRun)
        let delivered = await first(2, of: resumed)
        #expect(delivered.first?.type == .streamGap && delivered.first?.code == .eventsMissed)
        #expect(delivered.last?.id == next)
        let future = bus.subscribe(after: next + 10_000)
        #expect(await first(1, of: future).first?.code == .eventIDUnknown)
        // Past a block of 1,000, ids still rise.
        var previous = next
        for _ in 0..<1_200 {
            let id = bus.publish { event($0) }.id
            #expect(id > previous)
            previous = id
        }
        bus.finish()
    }
}
