import CPNG
import CQREncode

#if canImport(Glibc)
    import Glibc
#endif

/// A QR code symbol: `size × size` modules, `true` for dark.
public struct QRCode: Sendable, Hashable {
    public let version: Int
    public let size: Int
    public let modules: [Bool]

    public subscript(x: Int, y: Int) -> Bool { modules[y * size + x] }

    /// Error-correction levels of ISO/IEC 18004. The profile renders tokens at Q.
    public enum ErrorCorrection: Sendable { case low, medium, quartile, high }

    public struct EncodingError: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// Encodes `text` in alphanumeric mode alone (VHC1 text is `0-9A-Z $%*+-./:` only), so the
    /// symbol is as small as the profile's size estimates assume.
    public static func alphanumeric(
        _ text: String, errorCorrection: ErrorCorrection = .quartile
    ) throws(EncodingError) -> QRCode {
        let level: QRecLevel =
            switch errorCorrection {
            case .low: QR_ECLEVEL_L
            case .medium: QR_ECLEVEL_M
            case .quartile: QR_ECLEVEL_Q
            case .high: QR_ECLEVEL_H
            }
        guard let input = QRinput_new2(0, level) else { throw EncodingError(description: "out of memory") }
        defer { QRinput_free(input) }
        let bytes = Array(text.utf8)
        let appended = bytes.withUnsafeBufferPointer {
            QRinput_append(input, QR_MODE_AN, Int32($0.count), $0.baseAddress)
        }
        guard appended == 0 else {
            throw EncodingError(description: "text is not QR alphanumeric (0-9 A-Z space $ % * + - . / :)")
        }
        guard let code = QRcode_encodeInput(input) else {
            throw EncodingError(description: "text does not fit a QR code (errno \(errno))")
        }
        defer { QRcode_free(code) }
        let size = Int(code.pointee.width)
        // libqrencode: bit 0 of each byte is the module's colour (1 = dark).
        let modules = (0..<size * size).map { code.pointee.data[$0] & 1 == 1 }
        return QRCode(version: Int(code.pointee.version), size: size, modules: modules)
    }

    /// An 8-bit grey image of the symbol: black modules on white, with a quiet zone.
    public func image(pixelsPerModule: Int = 8, quietZoneModules: Int = 4) -> GrayImage {
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

/// An 8-bit greyscale image, row by row without padding.
public struct GrayImage: Sendable, Hashable {
    public let width: Int
    public let height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height, "pixel count must be width × height")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    public struct PNGError: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// Writes the image as an 8-bit greyscale PNG through libpng's simplified API.
    public func writePNG(to path: String) throws(PNGError) {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = UInt32(PNG_FORMAT_GRAY)
        let written = pixels.withUnsafeBytes {
            png_image_write_to_file(&image, path, 0, $0.baseAddress, Int32(width), nil)
        }
        guard written != 0 else { throw PNGError(description: "cannot write \(path): \(Self.message(of: &image))") }
    }

    /// Reads any PNG as 8-bit grey (libpng converts colour and bit depth).
    public static func readPNG(from path: String) throws(PNGError) -> GrayImage {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        guard png_image_begin_read_from_file(&image, path) != 0 else {
            throw PNGError(description: "cannot read \(path): \(message(of: &image))")
        }
        image.format = UInt32(PNG_FORMAT_GRAY)
        let width = Int(image.width), height = Int(image.height)
        var pixels = [UInt8](repeating: 0, count: width * height)
        let finished = pixels.withUnsafeMutableBytes {
            png_image_finish_read(&image, nil, $0.baseAddress, Int32(width), nil)
        }
        guard finished != 0 else { throw PNGError(description: "cannot decode \(path): \(message(of: &image))") }
        return GrayImage(width: width, height: height, pixels: pixels)
    }

    private static func message(of image: inout png_image) -> String {
        defer { png_image_free(&image) }
        return withUnsafeBytes(of: image.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }
}
