#include "czxing.h"

#include <ZXing/ReadBarcode.h>

#include <cstdlib>
#include <cstring>

int vhc_zxing_read_qr(const unsigned char *pixels, int width, int height, int stride, int try_harder,
                      int binarizer, vhc_zxing_symbol *symbols, int capacity) {
    try {
        ZXing::ImageView image(pixels, width, height, ZXing::ImageFormat::Lum, stride);
        ZXing::DecodeHints hints;
        hints.setFormats(ZXing::BarcodeFormat::QRCode);
        hints.setTryHarder(try_harder != 0);
        hints.setTryRotate(false);  // QR finder patterns are rotation invariant
        // The ladder has its own scaled variants; zxing-cpp's internal downscale retry only doubles
        // the cost of a pass that fails on a large (or upscaled) frame.
        hints.setTryDownscale(false);
        hints.setBinarizer(binarizer == VHC_ZXING_GLOBAL_HISTOGRAM ? ZXing::Binarizer::GlobalHistogram
                                                                   : ZXing::Binarizer::LocalAverage);
        hints.setMaxNumberOfSymbols(static_cast<uint8_t>(capacity > 255 ? 255 : capacity));
        int count = 0;
        for (const auto &result : ZXing::ReadBarcodes(image, hints)) {
            if (count >= capacity) break;
            if (!result.isValid()) continue;
            const auto &bytes = result.bytes();
            vhc_zxing_symbol &out = symbols[count];
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
