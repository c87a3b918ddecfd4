import CQREncode
import Imaging

#if canImport(Glibc)
    import Glibc
#endif

/// A QR code symbol: `size × size` modules, `true` for dark.
package struct QRCode: Sendable, Hashable {
    package let version: Int
    package let size: Int
    package let modules: [Bool]

    package subscript(x: Int, y: Int) -> Bool { modules[y * size + x] }

    /// Error-correction levels of ISO/IEC 18004. The profile renders tokens at Q.
    package enum ErrorCorrection: Sendable { case low, medium, quartile, high }

    package struct EncodingError: Error, CustomStringConvertible, Sendable {
        package let description: String
    }

    /// Encodes `text` in alphanumeric mode alone (VHC1 text is `0-9A-Z $%*+-./:` only), so the
    /// symbol is as small as the profile's size estimates assume.
    package static func alphanumeric(
        _ text: String, errorCorrection: ErrorCorrection = .quartile, minimumVersion: Int = 0
    ) throws(EncodingError) -> QRCode {
        try encode(Array(text.utf8), mode: QR_MODE_AN, errorCorrection: errorCorrection, minimumVersion: minimumVersion)
    }

    /// Encodes arbitrary bytes in byte mode (test fixtures: binary and non-ASCII payloads).
    package static func bytes(
        _ data: [UInt8], errorCorrection: ErrorCorrection = .medium, minimumVersion: Int = 0
    ) throws(EncodingError) -> QRCode {
        try encode(data, mode: QR_MODE_8, errorCorrection: errorCorrection, minimumVersion: minimumVersion)
    }

    static func encode(
        _ bytes: [UInt8], mode: QRencodeMode, errorCorrection: ErrorCorrection, minimumVersion: Int
    ) throws(EncodingError) -> QRCode {
        let level: QRecLevel =
            switch errorCorrection {
            case .low: QR_ECLEVEL_L
            case .medium: QR_ECLEVEL_M
            case .quartile: QR_ECLEVEL_Q
            case .high: QR_ECLEVEL_H
            }
        guard (0...40).contains(minimumVersion), let input = QRinput_new2(Int32(minimumVersion), level) else {
            throw EncodingError(description: "version must be 0 (automatic) to 40")
        }
        defer { QRinput_free(input) }
        let appended = bytes.withUnsafeBufferPointer { QRinput_append(input, mode, Int32($0.count), $0.baseAddress) }
        guard appended == 0 else {
            throw EncodingError(
                description: "data cannot be encoded in this mode (alphanumeric: 0-9 A-Z space $ % * + - . / :)")
        }
        guard let code = QRcode_encodeInput(input) else {
            throw EncodingError(description: "data does not fit a QR code (errno \(errno))")
        }
        defer { QRcode_free(code) }
        let size = Int(code.pointee.width)
        // libqrencode: bit 0 of each byte is the module's colour (1 = dark).
        let modules = (0..<size * size).map { code.pointee.data[$0] & 1 == 1 }
        return QRCode(version: Int(code.pointee.version), size: size, modules: modules)
    }

    /// An 8-bit grey image of the symbol: black modules on white, with a quiet zone.
    package func image(pixelsPerModule: Int = 8, quietZoneModules: Int = 4) -> GrayImage {
        let side = (size + 2 * quietZoneModules) * pixelsPerModule
        var pixels = [UInt8](repeating: 255, count: side * side)
        for y in 0..<size {
            for x in 0..<size where self[x, y] {
                let left = (x + quietZoneModules) * pixelsPerModule
                let top = (y + quietZoneModules) * pixelsPerModule
                for row in top..<top + pixelsPerModule {
                    for column in left..<left + pixelsPerModule { pixels[row * side + column] = 0 }
                }
            }
        }
        return GrayImage(width: side, height: side, pixels: pixels)
    }
}

extension QRCode {
    /// The symbol as terminal text, two module rows per line with half blocks, drawn black on white
    /// whatever the terminal's colours (a camera needs dark modules on a light ground), with a quiet
    /// zone. Each line resets the colours at its end.
    package func terminalText(quietZoneModules: Int = 2) -> String {
        let side = size + 2 * quietZoneModules
        func dark(_ x: Int, _ y: Int) -> Bool {
            let (column, row) = (x - quietZoneModules, y - quietZoneModules)
            return (0..<size).contains(column) && (0..<size).contains(row) && self[column, row]
        }
        var lines: [String] = []
        for y in stride(from: 0, to: side, by: 2) {
            var line = "\u{1B}[30;47m"
            for x in 0..<side {
                switch (dark(x, y), y + 1 < side && dark(x, y + 1)) {
                case (true, true): line += "█"
                case (true, false): line += "▀"
                case (false, true): line += "▄"
                case (false, false): line += " "
                }
            }
            lines.append(line + "\u{1B}[0m")
        }
        return lines.joined(separator: "\n")
    }
}
