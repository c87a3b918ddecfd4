import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A handheld scanner in serial mode (USB CDC-ACM, `/dev/ttyACM*`), read on a thread of its own: the
/// port opened raw (no echo, no line editing, no character translation), each line cleaned
/// (`ScannerLine`), a repeat of the same code within `repeatWindow` seconds dropped (a second trigger
/// pull must not turn the verdict red `replayed`), and the port reopened with a back-off when it goes
/// away. Never blocks its caller: `run` is the thread's loop and `stop` ends it within a poll.
package final class SerialScanner: @unchecked Sendable {
    /// What the scanner did, for the station to act on and to tell.
    package enum Event: Sendable, Equatable {
        case opened
        /// The port could not be opened (not there, no permission); retried with a back-off.
        case openFailed(errno: Int32)
        case unplugged
        /// A code read, cleaned: the text to verify.
        case read([UInt8])
        case refused(ScannerLine.Refusal)
    }

    package let path: String
    package let repeatWindow: Double
    /// A partial line older than this is dropped (a code cut off mid-way).
    package let lineTimeout: Double
    private let onEvent: @Sendable (Event) -> Void
    private let stopped = Mutex(false)
    /// Seconds between open attempts: from half a second, doubling to `maximumRetryInterval`.
    package let maximumRetryInterval: Double

    package init(
        path: String, repeatWindow: Double = 3, lineTimeout: Double = 2, maximumRetryInterval: Double = 5,
        onEvent: @escaping @Sendable (Event) -> Void
    ) {
        self.path = path
        self.repeatWindow = repeatWindow
        self.lineTimeout = lineTimeout
        self.maximumRetryInterval = maximumRetryInterval
        self.onEvent = onEvent
    }

    package func stop() { stopped.withLock { $0 = true } }
    private var isStopped: Bool { stopped.withLock { $0 } }

    /// The loop: open, read until the port goes away, wait, open again; until `stop`.
    package func run() {
        var failures = 0
        var recent = RecentPayloads(window: repeatWindow)
        while !isStopped {
            let descriptor = Self.openRaw(path)
            guard descriptor >= 0 else {
                onEvent(.openFailed(errno: errno))
                failures += 1
                sleep(seconds: RetryBackoff.delay(afterFailures: failures, initial: 0.5, maximum: maximumRetryInterval))
                continue
            }
            failures = 0
            onEvent(.opened)
            read(descriptor, recent: &recent)
            close(descriptor)
            if !isStopped { onEvent(.unplugged) }
        }
    }

    /// Reads lines until the port hangs up or errs, or `stop`.
    private func read(_ descriptor: Int32, recent: inout RecentPayloads) {
        var framer = LineFramer()
        var buffer = [UInt8](repeating: 0, count: 4096)
        var partialSince: Double?
        while !isStopped {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 200)
            if ready < 0 && errno == EINTR { continue }
            guard ready >= 0 else { return }
            let now = MonotonicSeconds.now()
            if ready == 0 {
                if let since = partialSince, now - since > lineTimeout {
                    framer.reset()
                    partialSince = nil
                }
                continue
            }
            if poller.revents & Int16(POLLIN) == 0 { return }  // POLLHUP or POLLERR alone: gone
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            guard count > 0 else { return }  // EOF or EIO: unplugged
            for line in framer.push(buffer[0..<count]) {
                switch line {
                case .overlong: onEvent(.refused(.garbled))
                case .text(let bytes):
                    switch ScannerLine.clean(bytes) {
                    case .failure(let refusal): onEvent(.refused(refusal))
                    case .success(let text):
                        if recent.isNew(String(decoding: text, as: UTF8.self), at: now) { onEvent(.read(text)) }
                    }
                }
            }
            partialSince = framer.holdsPartialLine ? (partialSince ?? now) : nil
        }
    }

    /// The port opened for reading, raw; -1 with errno set when it cannot be.
    static func openRaw(_ path: String) -> Int32 {
        let descriptor = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { return -1 }
        var settings = termios()
        // Not a terminal (a fake, a pipe): read as it is.
        if tcgetattr(descriptor, &settings) == 0 {
            cfmakeraw(&settings)
            settings.c_cflag |= tcflag_t(CLOCAL | CREAD)
            _ = tcsetattr(descriptor, TCSANOW, &settings)
            _ = tcflush(descriptor, TCIFLUSH)  // what was typed before we listened is not a scan
        }
        return descriptor
    }

    private func sleep(seconds: Double) {
        // In steps, so `stop` is heard within a fifth of a second.
        var left = seconds
        while left > 0, !isStopped {
            usleep(UInt32(min(0.2, left) * 1_000_000))
            left -= 0.2
        }
    }
}
