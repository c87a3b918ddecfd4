import Foundation
import Scanner
import Synchronization
import TestSupport
import Testing

/// A handheld scanner (issue 22), its lines cleaned; the serial path driven through a pseudo-terminal
/// pair, which is what a USB CDC-ACM port is to the reader (a tty), the keyboard path through a stream of
/// evdev `input_event` records.
@Suite("Handheld scanner: lines cleaned, repeats dropped, a serial port and a keyboard read and reopened")
struct HandheldScannerTests {
    static let token = Array("VHC1:6BFOXN*TS0BI$ZD4N9:9S6RCVN5+O30K3/XIV0W23NTDEXWK G2EP4J0BGJLFX$7:FDM5".utf8)

    @Test("a token passes; ]Q1 is stripped; another symbology, control characters, non-ASCII, lower case are refused")
    func cleaning() {
        #expect(ScannerLine.clean(Self.token) == .success(Self.token))
        #expect(ScannerLine.clean(Array("]Q1".utf8) + Self.token) == .success(Self.token))
        #expect(ScannerLine.clean(Array("]Q3".utf8) + Self.token) == .success(Self.token))
        #expect(ScannerLine.clean(Array("]C0ABC123".utf8)) == .failure(.symbology))
        #expect(ScannerLine.clean(Array("]d2".utf8) + Self.token) == .failure(.symbology))
        #expect(ScannerLine.clean([0x1B] + Self.token) == .failure(.garbled))
        #expect(ScannerLine.clean(Array("VHC1:ÄB".utf8)) == .failure(.garbled))
        #expect(ScannerLine.clean(Array("vhc1:6bfoxn*ts0bi".utf8)) == .failure(.garbled), "Caps Lock")
        #expect(ScannerLine.clean([]) == .failure(.garbled))
        #expect(ScannerLine.clean(Array("]Q1".utf8)) == .failure(.garbled), "an identifier and nothing")
    }

    @Test("lines end at CR, LF or CRLF, across reads; an overlong line is reported once and the next one read")
    func framing() {
        var framer = LineFramer()
        #expect(framer.push(Array("ABC\r\nDE".utf8)) == [.text(Array("ABC".utf8))])
        #expect(framer.holdsPartialLine)
        #expect(framer.push(Array("F\rGHI\n\n".utf8)) == [.text(Array("DEF".utf8)), .text(Array("GHI".utf8))])
        #expect(!framer.holdsPartialLine)
        let long = [UInt8](repeating: 0x41, count: ScannerLine.maximumLength + 100)
        #expect(framer.push(long).isEmpty)
        #expect(framer.push(Array("more\rOK\r".utf8)) == [.overlong, .text(Array("OK".utf8))])
    }

    /// Events of a scanner, and a way to wait for one.
    final class Events: Sendable {
        private let events = Mutex<[HandheldScanner.Event]>([])
        func add(_ event: HandheldScanner.Event) { events.withLock { $0.append(event) } }
        var all: [HandheldScanner.Event] { events.withLock { $0 } }
        func wait(for expected: HandheldScanner.Event, count: Int = 1) async throws {
            for _ in 0..<400 {
                if all.filter({ $0 == expected }).count >= count { return }
                try await Task.sleep(for: .milliseconds(10))
            }
            Issue.record("no \(expected) (×\(count)) in \(all)")
        }
    }

    @Test("a device of the wrong kind is not read: an event node named serial, a tty named keyboard (ENOTTY)")
    func wrongKind() async throws {
        for mode in HandheldScanner.Mode.allCases {
            let events = Events()
            // /dev/null is a character device that is neither a terminal nor an input device.
            let scanner = Self.started(HandheldScanner(path: "/dev/null", mode: mode, maximumRetryInterval: 0.5) { events.add($0) })
            defer { scanner.stop() }
            try await events.wait(for: .openFailed(errno: ENOTTY))
            #expect(!events.all.contains(.opened), "\(mode): \(events.all)")
        }
    }

    /// `scanner` running on a thread of its own, as the daemon runs it.
    static func started(_ scanner: HandheldScanner) -> HandheldScanner {
        Thread { scanner.run() }.start()
        return scanner
    }

    @Test("over a pseudo-terminal: a code read, its repeat dropped, a prefixed one read, garbage refused; unplugged and back")
    func serialPort() async throws {
        let folder = try TemporaryFolder(prefix: "vhc-scanner")
        defer { withExtendedLifetime(folder) {} }
        let link = folder.path("scanner")
        let events = Events()
        let scanner = Self.started(HandheldScanner(path: link, repeatWindow: 3, maximumRetryInterval: 0.5) { events.add($0) })
        defer { scanner.stop() }
        // Not plugged in yet: open failures, retried.
        try await events.wait(for: .openFailed(errno: ENOENT))
        var port = try PseudoTerminal(linkedAt: link)
        try await events.wait(for: .opened)
        port.send(Self.token + [0x0D, 0x0A])
        try await events.wait(for: .read(Self.token))
        port.send(Self.token + [0x0D])  // the trigger pulled again
        let second = Array("VHC1:SECOND*CODE".utf8)
        port.send(Array("]Q1".utf8) + second + [0x0D])
        try await events.wait(for: .read(second))
        #expect(events.all.filter { $0 == .read(Self.token) }.count == 1, "a repeat within the window was passed on")
        port.send([0x1B, 0x5B, 0x41, 0x0D])
        try await events.wait(for: .refused(.garbled))
        port.unplug()
        try await events.wait(for: .unplugged)
        port = try PseudoTerminal(linkedAt: link)
        try await events.wait(for: .opened, count: 2)
        let third = Array("VHC1:AFTER*REPLUG".utf8)
        port.send(third + [0x0A])
        try await events.wait(for: .read(third))
        port.unplug()
    }

    /// The typed text of key records, one line.
    static func typed(_ records: [UInt8]) -> [UInt8] {
        var decoder = KeyboardDecoder()
        return decoder.push(records)
    }

    @Test("keystrokes decoded with the US map: Shift honoured, Caps Lock ignored, Enter ends, odd keys garbled")
    func keyboardDecoding() {
        let text = String(decoding: Self.token, as: UTF8.self)
        // The records a scanner's keys make, as the fake writes them: every character of the alphabet.
        func records(_ text: String, enter: Bool = true) -> [UInt8] {
            var bytes: [UInt8] = []
            for character in text {
                let (code, shift) = FakeKeyboard.usKey(for: character)!
                if shift { bytes += FakeKeyboard.key(42, pressed: true) }
                bytes += FakeKeyboard.key(code, pressed: true) + FakeKeyboard.key(code, pressed: false)
                if shift { bytes += FakeKeyboard.key(42, pressed: false) }
            }
            return bytes + (enter ? FakeKeyboard.key(28, pressed: true) + FakeKeyboard.key(28, pressed: false) : [])
        }
        #expect(Self.typed(records(text)) == Self.token + [0x0D])
        let alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
        #expect(Self.typed(records(alphabet, enter: false)) == Array(alphabet.utf8))
        // Caps Lock pressed by the scanner's probe or left on at the desk changes nothing.
        let capsLock = FakeKeyboard.key(58, pressed: true) + FakeKeyboard.key(58, pressed: false)
        #expect(Self.typed(capsLock + records("VHC1:AB")) == Array("VHC1:AB\r".utf8))
        // Letters without Shift (a scanner that relies on the host's Caps Lock) come out lower case, which
        // the cleaning refuses as garbled with its advice.
        let unshifted = [UInt16]([47, 35, 46]).flatMap { FakeKeyboard.key($0, pressed: true) + FakeKeyboard.key($0, pressed: false) }
        #expect(Self.typed(unshifted) == Array("vhc".utf8))
        // Ctrl held, a function key, Backspace: a control character, so the line is refused.
        let control = FakeKeyboard.key(29, pressed: true) + records("J", enter: false) + FakeKeyboard.key(29, pressed: false)
        #expect(Self.typed(control) == [KeyboardDecoder.unmapped])
        #expect(Self.typed(FakeKeyboard.key(59, pressed: true) + FakeKeyboard.key(14, pressed: true)) == [0x1A, 0x1A])
        #expect(ScannerLine.clean([0x41, KeyboardDecoder.unmapped, 0x42]) == .failure(.garbled))
        // The kernel's auto-repeat of a held key is not a second character; the keypad types its signs.
        let repeated = FakeKeyboard.record(type: 1, code: 30, value: 1) + FakeKeyboard.record(type: 1, code: 30, value: 2)
        #expect(Self.typed(repeated) == Array("a".utf8))
        let keypad = [UInt16]([79, 78, 55, 96]).flatMap { FakeKeyboard.key($0, pressed: true) }
        #expect(Self.typed(keypad) == Array("1+*\r".utf8))
        // Keys the kernel threw away (SYN_DROPPED): the line cannot be the code, and Shift is no longer held.
        let dropped = FakeKeyboard.key(42, pressed: true) + FakeKeyboard.record(type: 0, code: 3, value: 0)
            + FakeKeyboard.key(30, pressed: true)
        #expect(Self.typed(dropped) == [KeyboardDecoder.unmapped] + Array("a".utf8))
        // A record cut across two reads (a pipe may do that) is joined.
        var decoder = KeyboardDecoder()
        let all = records("AB")
        #expect(decoder.push(all.prefix(30)) + decoder.push(all.dropFirst(30)) == Array("AB\r".utf8))
    }

    @Test("a keyboard device: a code typed and read, its repeat dropped, a half-typed code timed out; unplugged and back")
    func keyboardDevice() async throws {
        let folder = try TemporaryFolder(prefix: "vhc-keyboard")
        defer { withExtendedLifetime(folder) {} }
        let path = folder.path("event-kbd")
        let events = Events()
        let scanner = Self.started(
            HandheldScanner(path: path, mode: .keyboard, lineTimeout: 0.5, maximumRetryInterval: 0.5) { events.add($0) })
        defer { scanner.stop() }
        try await events.wait(for: .openFailed(errno: ENOENT))
        var keyboard = try FakeKeyboard(at: path)
        try await events.wait(for: .opened)
        let text = String(decoding: Self.token, as: UTF8.self)
        keyboard.type("]Q1" + text)
        try await events.wait(for: .read(Self.token))
        keyboard.type(text)
        // Half a code, then silence past the timeout: refused (the desk sees why nothing opened), and the
        // next code is read whole.
        keyboard.type("VHC1:HALF", enter: false)
        try await events.wait(for: .refused(.garbled))
        keyboard.type("VHC1:WHOLE")
        try await events.wait(for: .read(Array("VHC1:WHOLE".utf8)))
        #expect(events.all.filter { $0 == .read(Self.token) }.count == 1, "a repeat within the window was passed on")
        #expect(!events.all.contains { if case .read(let bytes) = $0 { bytes.starts(with: Array("VHC1:HALF".utf8)) } else { false } })
        keyboard.press([59])  // F1, then Enter
        keyboard.press([28])
        try await events.wait(for: .refused(.garbled), count: 2)
        keyboard.unplug()
        try await events.wait(for: .unplugged)
        keyboard = try FakeKeyboard(at: path)
        try await events.wait(for: .opened, count: 2)
        keyboard.type("VHC1:AFTER*REPLUG")
        try await events.wait(for: .read(Array("VHC1:AFTER*REPLUG".utf8)))
        keyboard.unplug()
    }
}
