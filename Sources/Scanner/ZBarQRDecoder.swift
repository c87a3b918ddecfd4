import CZBar
import Imaging

/// One QR symbol as zbar reports it: the raw payload bytes and the symbol's corner points.
package struct QRSymbol: Hashable, Sendable {
    package var payload: [UInt8]
    /// Corner points in the coordinates of the image that was scanned.
    package var corners: [Point]

    package struct Point: Hashable, Sendable, Codable {
        package var x: Int
        package var y: Int
        package init(x: Int, y: Int) {
            self.x = x
            self.y = y
        }
    }
}

/// A QR decoder: the seam between the pass ladder and a decoding library.
package protocol QRDecoding {
    func symbols(in image: GrayImage) -> [QRSymbol]
}

/// zbar, configured for QR codes only and binary payloads.
///
/// Every symbology is disabled first and QR alone re-enabled: with its defaults zbar invents linear
/// barcodes in sensor noise. Binary mode stops zbar guessing a character set, which corrupts text.
/// A zbar image scanner is not thread-safe: use one decoder per thread (the type is not `Sendable`).
package final class ZBarQRDecoder: QRDecoding {
    private let scanner: OpaquePointer

    /// `scanDensity` n scans every n-th row and column (zbar's x- and y-density): the cost falls
    /// about n-fold, and a QR finder pattern spans many rows, so n = 2 still finds codes of three
    /// or more pixels per module.
    package init(scanDensity: Int = 1) {
        scanner = zbar_image_scanner_create()
        zbar_image_scanner_set_config(scanner, ZBAR_NONE, ZBAR_CFG_ENABLE, 0)
        zbar_image_scanner_set_config(scanner, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1)
        zbar_image_scanner_set_config(scanner, ZBAR_QRCODE, ZBAR_CFG_BINARY, 1)
        let density = Int32(clamping: max(1, scanDensity))
        zbar_image_scanner_set_config(scanner, ZBAR_NONE, ZBAR_CFG_X_DENSITY, density)
        zbar_image_scanner_set_config(scanner, ZBAR_NONE, ZBAR_CFG_Y_DENSITY, density)
        zbar_image_scanner_enable_cache(scanner, 0)
    }

    deinit { zbar_image_scanner_destroy(scanner) }

    package func symbols(in image: GrayImage) -> [QRSymbol] {
        guard image.width > 0, image.height > 0 else { return [] }
        return image.pixels.withUnsafeBufferPointer { pixels -> [QRSymbol] in
            guard let zImage = zbar_image_create() else { return [] }
            defer { zbar_image_destroy(zImage) }
            zbar_image_set_format(zImage, vhc_zbar_format_grey())
            zbar_image_set_size(zImage, UInt32(image.width), UInt32(image.height))
            // zbar borrows the pixels for the duration of the scan; no cleanup handler, no copy.
            zbar_image_set_data(zImage, pixels.baseAddress, UInt(pixels.count), nil)
            guard zbar_scan_image(scanner, zImage) > 0 else { return [] }
            var found: [QRSymbol] = []
            var symbol = zbar_image_first_symbol(zImage)
            while let current = symbol {
                if zbar_symbol_get_type(current) == ZBAR_QRCODE, let data = zbar_symbol_get_data(current) {
                    let length = Int(zbar_symbol_get_data_length(current))
                    let payload = data.withMemoryRebound(to: UInt8.self, capacity: length) {
                        Array(UnsafeBufferPointer(start: $0, count: length))
                    }
                    let corners = (0..<zbar_symbol_get_loc_size(current)).map {
                        QRSymbol.Point(
                            x: Int(zbar_symbol_get_loc_x(current, $0)), y: Int(zbar_symbol_get_loc_y(current, $0)))
                    }
                    found.append(QRSymbol(payload: payload, corners: corners))
                }
                symbol = zbar_symbol_next(current)
            }
            return found
        }
    }
}
