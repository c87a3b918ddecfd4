import NIOPosix

/// Runs the station's synchronous database work on NIO's blocking thread pool. While SQLite waits for a
/// lock (another process writing, up to the busy timeout), only a pool thread waits: the few threads of
/// Swift's cooperative pool keep serving every other request, the event streams and the watchdog.
package enum Blocking {
    package static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(work)
    }
}
