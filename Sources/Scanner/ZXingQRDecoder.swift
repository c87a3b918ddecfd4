import CZXing
import Imaging

/// zxing-cpp (Debian's libzxing), QR only, behind the same protocol as zbar. Added because the
/// phone-screen benchmark showed zbar alone, even with the pass ladder, reading far fewer phone
/// photos than zxing-cpp does (README, "QR decoding on phone screens").
public final class ZXingQRDecoder: QRDecoding {
    /// How grey becomes black and white. The two read different images: on the phone-screen set the
    /// histogram threshold recovers glare-washed and steeply tilted codes that the local one misses
    /// (docs/qr-decoding.md).
    public enum Binarizer: Sendable {
        /// A threshold from each pixel's neighbourhood (zxing-cpp's default).
        case localAverage
        /// One threshold from the histogram's valley between its two largest peaks.
        case globalHistogram

        var code: Int32 {
            switch self {
            case .localAverage: Int32(VHC_ZXING_LOCAL_AVERAGE)
            case .globalHistogram: Int32(VHC_ZXING_GLOBAL_HISTOGRAM)
            }
        }
    }

    public let binarizer: Binarizer
    /// Slower, more thorough binarisation and finder search.
    public let tryHarder: Bool

    public init(binarizer: Binarizer = .localAverage, tryHarder: Bool = true) {
        self.binarizer = binarizer
        self.tryHarder = tryHarder
    }

    public func symbols(in image: GrayImage) -> [QRSymbol] {
        guard image.width > 0, image.height > 0 else { return [] }
        var found = [vhc_zxing_symbol](repeating: vhc_zxing_symbol(), count: 8)
        let count = image.pixels.withUnsafeBufferPointer { pixels in
            found.withUnsafeMutableBufferPointer {
                vhc_zxing_read_qr(
                    pixels.baseAddress, Int32(image.width), Int32(image.height), Int32(image.width), tryHarder ? 1 : 0,
                    binarizer.code, $0.baseAddress, Int32($0.count))
            }
        }
        guard count > 0 else { return [] }
        defer { vhc_zxing_free(&found, count) }
        return found.prefix(Int(count)).map { symbol in
            let payload = Array(UnsafeBufferPointer(start: symbol.bytes, count: Int(symbol.length)))
            let xs = [symbol.x.0, symbol.x.1, symbol.x.2, symbol.x.3]
            let ys = [symbol.y.0, symbol.y.1, symbol.y.2, symbol.y.3]
            return QRSymbol(payload: payload, corners: zip(xs, ys).map { QRSymbol.Point(x: Int($0), y: Int($1)) })
        }
    }
}
