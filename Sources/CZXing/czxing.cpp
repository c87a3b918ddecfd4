#include "czxing.h"

#include <ZXing/ReadBarcode.h>

#include <cstdlib>
#include <cstring>

int vhc_zxing_read_qr(const unsigned char *pixels, int width, int height, int stride,
                      const vhc_zxing_options *options, vhc_zxing_symbol *symbols, int capacity) {
    try {
        ZXing::ImageView image(pixels, width, height, ZXing::ImageFormat::Lum, stride);
        ZXing::ReaderOptions reader;
        reader.setFormats(ZXing::BarcodeFormat::QRCode);
        reader.setTryHarder(options->try_harder != 0);
        reader.setTryRotate(false);  // QR finder patterns are rotation invariant
        reader.setTryInvert(options->try_invert != 0);
        reader.setTryDownscale(options->try_downscale != 0);
        switch (options->binarizer) {
        case VHC_ZXING_GLOBAL_HISTOGRAM: reader.setBinarizer(ZXing::Binarizer::GlobalHistogram); break;
        case VHC_ZXING_FIXED_THRESHOLD: reader.setBinarizer(ZXing::Binarizer::FixedThreshold); break;
        default: reader.setBinarizer(ZXing::Binarizer::LocalAverage); break;
        }
        // Codes found but not read (a checksum or format error) come back too, flagged, so the caller
        // can retry just their region at a higher resolution.
        reader.setReturnErrors(options->return_unread != 0);
        reader.setMaxNumberOfSymbols(static_cast<uint8_t>(capacity > 255 ? 255 : capacity));
        int count = 0;
        for (const auto &result : ZXing::ReadBarcodes(image, reader)) {
            if (count >= capacity) break;
            const bool read = result.isValid();
            if (!read && options->return_unread == 0) continue;
            const auto &bytes = read ? result.bytes() : std::vector<uint8_t>{};
            vhc_zxing_symbol &out = symbols[count];
            out.read = read ? 1 : 0;
            out.length = static_cast<int>(bytes.size());
            out.bytes = static_cast<unsigned char *>(std::malloc(bytes.size() > 0 ? bytes.size() : 1));
            if (out.bytes == nullptr) break;
            if (!bytes.empty()) std::memcpy(out.bytes, bytes.data(), bytes.size());
            const auto &position = result.position();
            const ZXing::PointI corners[4] = {position.topLeft(), position.topRight(), position.bottomRight(),
                                              position.bottomLeft()};
            for (int i = 0; i < 4; ++i) {
                out.x[i] = corners[i].x;
                out.y[i] = corners[i].y;
            }
            ++count;
        }
        return count;
    } catch (...) {
        return -1;
    }
}

void vhc_zxing_free(vhc_zxing_symbol *symbols, int count) {
    for (int i = 0; i < count; ++i) {
        std::free(symbols[i].bytes);
        symbols[i].bytes = nullptr;
    }
}
