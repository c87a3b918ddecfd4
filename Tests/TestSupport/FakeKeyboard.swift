import Foundation

/// A keyboard-mode scanner standing in for an evdev device (the machine has no uinput): a FIFO at a
/// fixed path carrying the `struct input_event` records a USB HID scanner makes the kernel emit, key by
/// key, Shift pressed around shifted characters, a SYN_REPORT after each. Unplugging closes the writer
/// and removes the FIFO, as the device node goes when the cable is pulled.
package final class FakeKeyboard {
    package let path: String
    private var writer: Int32 = -1

    /// Creates the FIFO and holds it open for writing (O_RDWR: no reader needed yet).
    package init(at path: String) throws {
        self.path = path
        try? FileManager.default.removeItem(atPath: path)
        guard mkfifo(path, 0o600) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        writer = open(path, O_RDWR | O_CLOEXEC)
        guard writer >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    }

    /// Types `text` as a US keyboard would, then Enter when `enter`. Characters with no US key are typed
    /// as F1 (a key that types nothing).
    package func type(_ text: String, enter: Bool = true) {
        var records: [UInt8] = []
        for character in text {
            let (code, shift) = Self.usKey(for: character) ?? (59, false)  // KEY_F1
            if shift { records += Self.key(42, pressed: true) }  // KEY_LEFTSHIFT
            records += Self.key(code, pressed: true) + Self.key(code, pressed: false)
            if shift { records += Self.key(42, pressed: false) }
        }
        if enter { records += Self.key(28, pressed: true) + Self.key(28, pressed: false) }
        send(records)
    }

    /// Presses and releases the keys of `codes` as they are, Shift neither added nor released.
    package func press(_ codes: [UInt16]) {
        send(codes.flatMap { Self.key($0, pressed: true) + Self.key($0, pressed: false) })
    }

    /// Raw bytes, for a record cut in two.
    package func send(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { write(writer, $0.baseAddress, $0.count) }
    }

    /// The cable pulled.
    /// Removed before closed: the reader, woken by the hang-up, must not reopen the old FIFO.
    package func unplug() {
        guard writer >= 0 else { return }
        unlink(path)
        close(writer)
        writer = -1
    }

    deinit { unplug() }

    /// One key's event and its SYN_REPORT, as `struct input_event` on a 64-bit kernel (a zero timeval).
    package static func key(_ code: UInt16, pressed: Bool) -> [UInt8] {
        record(type: 1, code: code, value: pressed ? 1 : 0) + record(type: 0, code: 0, value: 0)
    }

    package static func record(type: UInt16, code: UInt16, value: Int32) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: MemoryLayout<timeval>.size)
        withUnsafeBytes(of: type.littleEndian) { bytes += $0 }
        withUnsafeBytes(of: code.littleEndian) { bytes += $0 }
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
        return bytes
    }

    /// The US key for a character of a token's alphabet (linux/input-event-codes.h), written out apart
    /// from the station's own map so a mistake in one is caught by the other.
    package static func usKey(for character: Character) -> (UInt16, Bool)? {
        let rows: [(UInt16, String)] = [(16, "QWERTYUIOP"), (30, "ASDFGHJKL"), (44, "ZXCVBNM")]
        for (first, row) in rows {
            if let index = row.firstIndex(of: Character(character.uppercased())) {
                return (first + UInt16(row.distance(from: row.startIndex, to: index)), character.isUppercase)
            }
        }
        if let digit = character.wholeNumberValue, character.isASCII {
            return (digit == 0 ? 11 : UInt16(1 + digit), false)
        }
        let signs: [Character: (UInt16, Bool)] = [
            " ": (57, false), "$": (5, true), "%": (6, true), "*": (9, true), "+": (13, true), "-": (12, false),
            ".": (52, false), "/": (53, false), ":": (39, true), "]": (27, false),
        ]
        return signs[character]
    }
}
