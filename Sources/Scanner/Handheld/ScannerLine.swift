/// A handheld scanner's output, line by line, made ready for the verifier (issue 22). Scanners end each
/// code with CR, LF or both, and many prefix it with an AIM symbology identifier (`]Q1` for a QR code,
/// ISO/IEC 15424). What is left must be printable ASCII: a token is Base45 text, and anything else means
/// the scanner is set wrong (another symbology, a keyboard layout, Caps Lock).
package enum ScannerLine {
    /// Why a line is not passed on, with the code the station reports it under.
    package enum Refusal: String, Error, Sendable, Equatable, CaseIterable {
        /// An AIM identifier of another symbology than QR (`]C0` Code 128, `]d2` Data Matrix…).
        case symbology = "scanner_symbology"
        /// Control characters, non-ASCII bytes, a line over the length limit, or a token typed in lower
        /// case: not what a QR-only scanner in serial mode or on a US keyboard sends.
        case garbled = "scanner_garbled"
    }

    /// The longest line taken (a token is 250–320 characters; the API's own limit is 4 KiB).
    package static let maximumLength = 4096

    /// `line` without its terminator: the text to verify, or why not.
    package static func clean(_ line: [UInt8]) -> Result<[UInt8], Refusal> {
        var text = line[...]
        // ]Qn: a QR code (n is the option digit: 1 for no ECI, others for ECI or FNC1 modes).
        if text.count >= 3, text[text.startIndex] == UInt8(ascii: "]") {
            let symbology = text[text.startIndex + 1]
            guard symbology == UInt8(ascii: "Q") else { return .failure(.symbology) }
            text = text.dropFirst(3)
        }
        guard !text.isEmpty, text.count <= maximumLength, text.allSatisfy({ (0x20...0x7E).contains($0) }) else {
            return .failure(.garbled)
        }
        // A VHC token in lower case is one typed with Caps Lock on (or the scanner's case conversion).
        if text.starts(with: Array("vhc".utf8)) { return .failure(.garbled) }
        return .success(Array(text))
    }
}

/// Cuts a byte stream into lines at CR, LF or CRLF, holding a partial line until its end arrives. A
/// line longer than `ScannerLine.maximumLength` is reported once as overlong and the rest of it dropped.
package struct LineFramer: Sendable {
    package enum Line: Sendable, Equatable {
        case text([UInt8])
        case overlong
    }

    private var pending: [UInt8] = []
    private var overlong = false
    private var lastWasCR = false

    package init() {}

    package mutating func push(_ bytes: some Sequence<UInt8>) -> [Line] {
        var lines: [Line] = []
        for byte in bytes {
            if byte == 0x0A, lastWasCR {  // the LF of a CRLF
                lastWasCR = false
                continue
            }
            lastWasCR = byte == 0x0D
            if byte == 0x0D || byte == 0x0A {
                if overlong {
                    lines.append(.overlong)
                } else if !pending.isEmpty {
                    lines.append(.text(pending))
                }
                pending.removeAll(keepingCapacity: true)
                overlong = false
                continue
            }
            if overlong { continue }
            pending.append(byte)
            if pending.count > ScannerLine.maximumLength + 3 {  // + an AIM identifier
                overlong = true
                pending.removeAll(keepingCapacity: true)
            }
        }
        return lines
    }

    /// A partial line is being held (for a timeout on a half-sent code).
    package var holdsPartialLine: Bool { !pending.isEmpty || overlong }

    /// Drops a partial line (the scanner was unplugged mid-code, or it timed out).
    package mutating func reset() {
        pending.removeAll()
        overlong = false
        lastWasCR = false
    }
}
