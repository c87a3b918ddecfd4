#if canImport(Glibc)
    import Glibc
#endif

/// A keyboard-mode (HID) scanner's keystrokes, read as evdev `input_event` records, turned back into the
/// text it scanned (issue 22). The scanner presses keys as a US keyboard would type the code; the station
/// reads the device itself, grabbed, so the desktop's layout, its input method and Caps Lock never touch
/// the text: Shift is honoured, Caps Lock ignored, Enter ends a code. A key a QR-only scanner has no reason
/// to press (a function key, Backspace, anything with Ctrl or Alt held) becomes SUB (0x1A), a control
/// character, so `ScannerLine.clean` refuses the line as `scanner_garbled`.
///
/// Written by hand: no listed package decodes evdev, and libevdev's key names are no US text map either.
package struct KeyboardDecoder: Sendable {
    /// `struct input_event` in a 64-bit process: a `timeval`, then type and code (16 bits each) and value
    /// (32 bits).
    package static let recordSize = MemoryLayout<timeval>.size + 8
    /// What a key outside the map types: a control character the cleaning refuses.
    package static let unmapped: UInt8 = 0x1A

    private var pending: [UInt8] = []  // a record cut across reads (only a pipe does that)
    private var shiftsDown: Set<UInt16> = []
    private var otherModifiersDown: Set<UInt16> = []

    package init() {}

    /// The bytes the keys of `bytes` type: printable ASCII, CR for Enter, SUB for the rest.
    package mutating func push(_ bytes: some Collection<UInt8>) -> [UInt8] {
        pending.append(contentsOf: bytes)
        var typed: [UInt8] = []
        var start = 0
        while pending.count - start >= Self.recordSize {
            let record = pending[start..<(start + Self.recordSize)]
            start += Self.recordSize
            let (type, code, value) = record.withUnsafeBytes { raw in
                let fields = MemoryLayout<timeval>.size
                return (
                    raw.loadUnaligned(fromByteOffset: fields, as: UInt16.self),
                    raw.loadUnaligned(fromByteOffset: fields + 2, as: UInt16.self),
                    raw.loadUnaligned(fromByteOffset: fields + 4, as: Int32.self)
                )
            }
            if type == Self.keyEvent, let byte = key(code, value: value) {
                typed.append(byte)
            } else if type == Self.synchronization, code == Self.dropped {
                // The kernel's buffer overflowed and it threw keys away: the line is not what was scanned
                // (refused, not verified cut short), and which keys are held is unknown.
                typed.append(Self.unmapped)
                shiftsDown.removeAll()
                otherModifiersDown.removeAll()
            }
        }
        pending.removeFirst(start)
        return typed
    }

    /// A device closed or reopened: no key is held any more.
    package mutating func reset() {
        pending.removeAll()
        shiftsDown.removeAll()
        otherModifiersDown.removeAll()
    }

    /// One key event (value 1 pressed, 0 released, 2 the kernel's auto-repeat, which a scanner never means).
    private mutating func key(_ code: UInt16, value: Int32) -> UInt8? {
        if Self.shiftKeys.contains(code) {
            if value == 1 { shiftsDown.insert(code) } else if value == 0 { shiftsDown.remove(code) }
            return nil
        }
        if Self.otherModifiers.contains(code) {
            if value == 1 { otherModifiersDown.insert(code) } else if value == 0 { otherModifiersDown.remove(code) }
            return nil
        }
        guard value == 1, !Self.lockKeys.contains(code) else { return nil }
        if code == Self.enter || code == Self.keypadEnter { return 0x0D }
        guard otherModifiersDown.isEmpty, Int(code) < Self.plain.count else { return Self.unmapped }
        let byte = (shiftsDown.isEmpty ? Self.plain : Self.shifted)[Int(code)]
        return byte == 0 ? Self.unmapped : byte
    }

    static let keyEvent: UInt16 = 1  // EV_KEY
    static let synchronization: UInt16 = 0, dropped: UInt16 = 3  // EV_SYN, SYN_DROPPED
    static let enter: UInt16 = 28, keypadEnter: UInt16 = 96
    static let shiftKeys: Set<UInt16> = [42, 54]
    /// Ctrl, Alt, AltGr, the logo keys: held, they make any key type something a scanner should not send.
    static let otherModifiers: Set<UInt16> = [29, 56, 97, 100, 125, 126]
    /// Caps Lock, Num Lock, Scroll Lock: a scanner may press them to probe the host's state; ignored.
    static let lockKeys: Set<UInt16> = [58, 69, 70]

    /// The US layout by evdev key code (linux/input-event-codes.h), without and with Shift; 0 where a key
    /// types nothing. The keypad types its digits and signs, as scanners in keypad mode expect.
    static let plain: [UInt8] = layout(shifted: false)
    static let shifted: [UInt8] = layout(shifted: true)

    private static func layout(shifted: Bool) -> [UInt8] {
        var map = [UInt8](repeating: 0, count: 99)
        func put(_ code: Int, _ plain: Character, _ withShift: Character) {
            map[code] = (shifted ? withShift : plain).asciiValue!
        }
        for (offset, pair) in zip("1234567890", "!@#$%^&*()").enumerated() { put(2 + offset, pair.0, pair.1) }
        for (code, plain, withShift) in [
            (12, "-", "_"), (13, "=", "+"), (26, "[", "{"), (27, "]", "}"), (39, ";", ":"), (40, "'", "\""),
            (41, "`", "~"), (43, "\\", "|"), (51, ",", "<"), (52, ".", ">"), (53, "/", "?"), (57, " ", " "),
        ] as [(Int, Character, Character)] {
            put(code, plain, withShift)
        }
        for (first, row) in [(16, "qwertyuiop"), (30, "asdfghjkl"), (44, "zxcvbnm")] {
            for (offset, letter) in row.enumerated() { put(first + offset, letter, Character(letter.uppercased())) }
        }
        for (code, sign) in [
            (55, "*"), (71, "7"), (72, "8"), (73, "9"), (74, "-"), (75, "4"), (76, "5"), (77, "6"), (78, "+"),
            (79, "1"), (80, "2"), (81, "3"), (82, "0"), (83, "."), (98, "/"),
        ] as [(Int, Character)] {
            put(code, sign, sign)
        }
        return map
    }
}
