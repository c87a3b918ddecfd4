import CV4L2
import Imaging

/// The pixel formats the station takes from a camera, in order of preference.
package enum PixelFormat: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case grey = 0x5945_5247  // 'GREY'
    case yuyv = 0x5659_5559  // 'YUYV'
    case mjpeg = 0x4750_4A4D  // 'MJPG'

    package var description: String { Self.fourccName(rawValue) }

    /// The four characters of a V4L2 pixel format code.
    package static func fourccName(_ code: UInt32) -> String {
        String(decoding: (0..<4).map { UInt8(truncatingIfNeeded: code >> ($0 * 8)) }, as: UTF8.self)
    }
}

/// A negotiated capture format, as the driver confirmed it.
package struct CaptureFormat: Hashable, Sendable, CustomStringConvertible {
    package var pixelFormat: PixelFormat
    package var width: Int
    package var height: Int
    /// Bytes per row (YUYV: at least 2 × width; GREY: at least width; MJPEG: 0).
    package var bytesPerLine: Int
    package var imageSize: Int

    package var description: String { "\(pixelFormat) \(width)×\(height)" }
}

/// Why one captured frame was unusable. The frame is dropped; capture goes on.
package enum FrameProblem: Error, Hashable, Sendable {
    /// An MJPEG frame without its start or end marker: cut off by the USB transfer.
    case brokenJPEG
    /// An MJPEG frame that TurboJPEG could not decode.
    case undecodableJPEG
    /// Fewer bytes than the format needs.
    case short
}

/// Turning driver bytes into the decoder's grey frames.
package enum FrameConversion {
    /// The luma plane of one captured buffer.
    package static func gray(from bytes: UnsafeRawBufferPointer, format: CaptureFormat) throws(FrameProblem) -> GrayImage
    {
        let width = format.width, height = format.height
        switch format.pixelFormat {
        case .grey:
            let stride = max(format.bytesPerLine, width)
            guard bytes.count >= stride * (height - 1) + width else { throw .short }
            var pixels = [UInt8](repeating: 0, count: width * height)
            pixels.withUnsafeMutableBytes { out in
                for row in 0..<height {
                    out.baseAddress!.advanced(by: row * width).copyMemory(
                        from: bytes.baseAddress!.advanced(by: row * stride), byteCount: width)
                }
            }
            return GrayImage(width: width, height: height, pixels: pixels)
        case .yuyv:
            // Y0 U Y1 V: every even byte is luma.
            let stride = max(format.bytesPerLine, width * 2)
            guard bytes.count >= stride * (height - 1) + width * 2 else { throw .short }
            var pixels = [UInt8](repeating: 0, count: width * height)
            pixels.withUnsafeMutableBufferPointer { out in
                let source = bytes.bindMemory(to: UInt8.self)
                for row in 0..<height {
                    let input = row * stride, output = row * width
                    for column in 0..<width { out[output + column] = source[input + 2 * column] }
                }
            }
            return GrayImage(width: width, height: height, pixels: pixels)
        case .mjpeg:
            guard isCompleteJPEG(bytes) else { throw .brokenJPEG }
            do { return try GrayImage.decode(Array(bytes)) } catch { throw .undecodableJPEG }
        }
    }

    /// A JPEG from a webcam must start with SOI and end with EOI (some cameras pad after it with
    /// zeros). A frame cut short by the USB transfer lacks the EOI: reject it before decoding, as
    /// pikvm/ustreamer does.
    package static func isCompleteJPEG(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count >= 125, bytes[0] == 0xFF, bytes[1] == 0xD8 else { return false }
        var end = bytes.count
        while end > 2 && bytes[end - 1] == 0 { end -= 1 }
        return bytes[end - 2] == 0xFF && bytes[end - 1] == 0xD9
    }
}
