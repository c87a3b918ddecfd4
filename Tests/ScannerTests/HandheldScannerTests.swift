import Foundation
import Scanner
import Synchronization
import TestSupport
import Testing

/// A handheld scanner in serial mode (issue 22), its lines cleaned; the serial path driven through a
/// pseudo-terminal pair, which is what a USB CDC-ACM port is to the reader: a tty.
@Suite("Handheld scanner: lines cleaned, repeats dropped, a serial port read and reopened")
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
        private let events = Mutex<[SerialScanner.Event]>([])
        func add(_ event: SerialScanner.Event) { events.withLock { $0.append(event) } }
        var all: [SerialScanner.Event] { events.withLock { $0 } }
        func wait(for expected: SerialScanner.Event, count: Int = 1) async throws {
            for _ in 0..<400 {
                if all.filter({ $0 == expected }).count >= count { return }
                try await Task.sleep(for: .milliseconds(10))
            }
            Issue.record("no \(expected) (×\(count)) in \(all)")
        }
    }

    @Test("over a pseudo-terminal: a code read, its repeat dropped, a prefixed one read, garbage refused; unplugged and back")
    func serialPort() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vhc-scanner-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let link = folder + "/scanner"
        let events = Events()
        let scanner = SerialScanner(path: link, repeatWindow: 3, maximumRetryInterval: 0.5) { events.add($0) }
        // Not plugged in yet: open failures, retried.
        let thread = Thread { scanner.run() }
        thread.start()
        defer { scanner.stop() }
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
}
