import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// SIGINT and SIGTERM end a capture loop at the next frame instead of killing it mid-write.
final class StopSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    private var sources: [DispatchSourceSignal] = []

    var requested: Bool { lock.withLock { flag } }

    static func install() -> StopSignal {
        let stop = StopSignal()
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { stop.lock.withLock { stop.flag = true } }
            source.resume()
            stop.sources.append(source)
        }
        return stop
    }
}
