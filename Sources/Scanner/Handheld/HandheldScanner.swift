import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A handheld scanner read on a thread of its own, in either of its modes: serial (USB CDC-ACM,
/// `/dev/ttyACM*`: the port opened raw, no echo, no line editing, no character translation) or keyboard
/// (an evdev input device, grabbed so its keystrokes reach no window, decoded by `KeyboardDecoder`). Both
/// end in the same lines: each cleaned (`ScannerLine`), a repeat of the same code within `repeatWindow`
/// seconds dropped (a second trigger pull must not turn the verdict red `replayed`), and the device
/// reopened with a back-off when it goes away. Never blocks its caller: `run` is the thread's loop and
/// `stop` ends it within a poll.
package final class HandheldScanner: @unchecked Sendable {
    /// How the scanner talks to the computer (its interface setting).
    package enum Mode: String, Sendable, Equatable, CaseIterable {
        case serial
        case keyboard
    }

    /// What the scanner did, for the station to act on and to tell.
    package enum Event: Sendable, Equatable {
        case opened
        /// The device could not be opened (not there, no permission, grabbed by another program: `EBUSY`);
        /// retried with a back-off.
        case openFailed(errno: Int32)
        case unplugged
        /// A code read, cleaned: the text to verify.
        case read([UInt8])
        case refused(ScannerLine.Refusal)
    }

    package let path: String
    package let mode: Mode
    package let repeatWindow: Double
    /// A partial line that gets nothing more for this long is dropped (a code cut off mid-way, a
    /// half-typed one).
    package let lineTimeout: Double
    private let onEvent: @Sendable (Event) -> Void
    private let stopped = Mutex(false)
    /// Seconds between open attempts: from half a second, doubling to `maximumRetryInterval`.
    package let maximumRetryInterval: Double

    package init(
        path: String, mode: Mode = .serial, repeatWindow: Double = 3, lineTimeout: Double = 2, maximumRetryInterval: Double = 5,
        onEvent: @escaping @Sendable (Event) -> Void
    ) {
        self.path = path
        self.mode = mode
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
            let descriptor = mode == .serial ? Self.openRaw(path) : Self.openGrabbed(path)
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

    /// Reads lines until the device hangs up or errs, or `stop`.
    private func read(_ descriptor: Int32, recent: inout RecentPayloads) {
        var framer = LineFramer()
        var keys = KeyboardDecoder()
        var buffer = [UInt8](repeating: 0, count: 4096)
        var lastByteAt: Double?
        while !isStopped {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 200)
            if ready < 0 && errno == EINTR { continue }
            guard ready >= 0 else { return }
            let now = MonotonicSeconds.now()
            // A half line that got nothing more for `lineTimeout`: a code cut off, or a scanner whose line
            // never ends (a Tab suffix). Refused, so the desk sees why nothing opened; never glued to the
            // next code.
            if let last = lastByteAt, now - last > lineTimeout {
                framer.reset()
                lastByteAt = nil
                onEvent(.refused(.garbled))
            }
            if ready == 0 { continue }
            if poller.revents & Int16(POLLIN) == 0 { return }  // POLLHUP or POLLERR alone: gone
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            guard count > 0 else { return }  // EOF or EIO: unplugged
            let typed = mode == .serial ? Array(buffer[0..<count]) : keys.push(buffer[0..<count])
            if typed.isEmpty { continue }  // key releases and reports: nothing typed, no time reset
            for line in framer.push(typed) {
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
            lastByteAt = framer.holdsPartialLine ? now : nil
        }
    }

    /// The port opened for reading, raw; -1 with errno set when it cannot be (`ENOTTY`: a device that is
    /// no serial port, such as a keyboard's event node named without `keyboard:`).
    static func openRaw(_ path: String) -> Int32 {
        let descriptor = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { return -1 }
        var settings = termios()
        var information = stat()
        guard fstat(descriptor, &information) == 0 else { return closing(descriptor) }
        let isDevice = information.st_mode & S_IFMT == S_IFCHR
        if isDevice, tcgetattr(descriptor, &settings) != 0 {
            errno = ENOTTY
            return closing(descriptor)
        }
        // A terminal is set raw; what is no device (the tests' FIFO) is read as it is.
        if isDevice {
            cfmakeraw(&settings)
            settings.c_cflag |= tcflag_t(CLOCAL | CREAD)
            _ = tcsetattr(descriptor, TCSANOW, &settings)
            _ = tcflush(descriptor, TCIFLUSH)  // what was typed before we listened is not a scan
        }
        return descriptor
    }

    /// An input device opened and grabbed (`EVIOCGRAB`): while the station holds it, its keystrokes reach
    /// no window, console or other reader. -1 with errno set when it cannot be (`EBUSY`: another program
    /// holds the grab). A path that is no character device (a FIFO: the tests' fake) is read as it is.
    static func openGrabbed(_ path: String) -> Int32 {
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { return -1 }
        var information = stat()
        guard fstat(descriptor, &information) == 0 else { return closing(descriptor) }
        if information.st_mode & S_IFMT == S_IFCHR, ioctl(descriptor, evdevGrab, CInt(1)) != 0 {
            return closing(descriptor)
        }
        return descriptor
    }

    /// `EVIOCGRAB`, `_IOW('E', 0x90, int)`.
    static let evdevGrab: UInt = 0x4004_4590

    /// Closes `descriptor` keeping the errno that made it useless; -1.
    private static func closing(_ descriptor: Int32) -> Int32 {
        let failure = errno
        close(descriptor)
        errno = failure
        return -1
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
