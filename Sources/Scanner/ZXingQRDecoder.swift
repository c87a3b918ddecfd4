import CZXing
import Imaging

/// zxing-cpp 3.1 (built by scripts/build-zxing.sh), QR only, behind the same protocol as zbar. The
/// station's main decoder: the phone-screen and still-image benchmarks showed zbar alone reading far
/// fewer photos (docs/qr-decoding.md).
package final class ZXingQRDecoder: QRDecoding {
    /// How grey becomes black and white. They read different images: on the phone-screen set the
    /// histogram threshold recovers glare-washed and steeply tilted codes that the local one misses
    /// (docs/qr-decoding.md).
    package enum Binarizer: Sendable {
        /// A threshold from each pixel's neighbourhood (zxing-cpp's default).
        case localAverage
        /// One threshold from the histogram's valley between its two largest peaks.
        case globalHistogram
        /// Grey 127: for crisp, evenly lit crops.
        case fixedThreshold

        var code: Int32 {
            switch self {
            case .localAverage: Int32(VHC_ZXING_LOCAL_AVERAGE)
            case .globalHistogram: Int32(VHC_ZXING_GLOBAL_HISTOGRAM)
            case .fixedThreshold: Int32(VHC_ZXING_FIXED_THRESHOLD)
            }
        }
    }

    package struct Options: Sendable, Hashable {
        package var binarizer: Binarizer = .localAverage
        /// Slower, more thorough binarisation and finder search.
        package var tryHarder = true
        /// Also light modules on dark, in the same call.
        package var tryInvert = false
        /// zxing-cpp's own reduced-resolution retries on large images. Off for camera frames: the
        /// ladder has its own variants, and the retry doubled the cost of a failed pass.
        package var tryDownscale = false
        package init() {}

        /// zxing-cpp's own defaults for reading a photo (its Python `read_barcodes`), rotation aside.
        package static let photoDefaults: Options = {
            var options = Options()
            options.tryInvert = true
            options.tryDownscale = true
            return options
        }()
    }

    /// What one call found: the codes read, and the outlines of codes found but not decoded.
    package struct Findings: Sendable {
        package var symbols: [QRSymbol]
        package var unread: [[QRSymbol.Point]]
    }

    package let options: Options
    /// The most codes one call returns: a page of patient cards, with room to spare.
    static let capacity = 32

    package init(options: Options = Options()) {
        self.options = options
    }

    package convenience init(binarizer: Binarizer) {
        var options = Options()
        options.binarizer = binarizer
        self.init(options: options)
    }

    package func symbols(in image: GrayImage) -> [QRSymbol] {
        scan(image, includeUnread: false).symbols
    }

    /// Reads `image`; with `includeUnread`, also returns where zxing found a code it could not decode.
    package func scan(_ image: GrayImage, includeUnread: Bool) -> Findings {
        guard image.width > 0, image.height > 0 else { return Findings(symbols: [], unread: []) }
        var found = [vhc_zxing_symbol](repeating: vhc_zxing_symbol(), count: Self.capacity)
        var settings = vhc_zxing_options(
            binarizer: options.binarizer.code, try_harder: options.tryHarder ? 1 : 0,
            try_invert: options.tryInvert ? 1 : 0, try_downscale: options.tryDownscale ? 1 : 0,
            return_unread: includeUnread ? 1 : 0)
        let count = image.pixels.withUnsafeBufferPointer { pixels in
            found.withUnsafeMutableBufferPointer {
                vhc_zxing_read_qr(
                    pixels.baseAddress, Int32(image.width), Int32(image.height), Int32(image.width), &settings,
                    $0.baseAddress, Int32($0.count))
            }
        }
        guard count > 0 else { return Findings(symbols: [], unread: []) }
        defer { vhc_zxing_free(&found, count) }
        var findings = Findings(symbols: [], unread: [])
        for symbol in found.prefix(Int(count)) {
            let xs = [symbol.x.0, symbol.x.1, symbol.x.2, symbol.x.3]
            let ys = [symbol.y.0, symbol.y.1, symbol.y.2, symbol.y.3]
            let corners = zip(xs, ys).map { QRSymbol.Point(x: Int($0), y: Int($1)) }
            if symbol.read != 0 {
                let payload = Array(UnsafeBufferPointer(start: symbol.bytes, count: Int(symbol.length)))
                findings.symbols.append(QRSymbol(payload: payload, corners: corners))
            } else {
                findings.unread.append(corners)
            }
        }
        return findings
    }
}
