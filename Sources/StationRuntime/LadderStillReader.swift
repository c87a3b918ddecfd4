import Imaging
import Scanner
import Station

/// The API's still-image seam served by the scanner: TurboJPEG and libpng to a grey image, then the
/// still ladder (docs/qr-decoding.md).
package struct LadderStillReader: StillImageReader {
    package init() {}

    package func decode(_ encoded: UnsafeRawBufferPointer) throws(StillImageError) -> DecodedStill {
        do {
            return DecodedStill(try FrameDecoder().decodeStill(encoded: encoded))
        } catch {
            switch error.code {
            case .unsupportedFormat: throw StillImageError(.formatUnsupported, error.message)
            case .badDimensions: throw StillImageError(.dimensionsInvalid, error.message)
            default: throw StillImageError(.corrupt, error.message)
            }
        }
    }

    /// A frame is a window's picture downscaled by the page (1280 px a side): 4 MP leaves room for a 2560 px
    /// screen sent whole, and keeps a frame's cost a camera frame's.
    package static let maximumFramePixels = 4 << 20

    package func decodeFrame(_ encoded: UnsafeRawBufferPointer) throws(StillImageError) -> DecodedStill {
        let size: (width: Int, height: Int)?
        if encoded.starts(with: [0x89, 0x50, 0x4E, 0x47]), encoded.count >= 24 {
            // The IHDR chunk's width and height, big-endian, right after the signature and chunk head.
            func field(_ at: Int) -> Int { (0..<4).reduce(0) { $0 << 8 | Int(encoded[at + $1]) } }
            size = (field(16), field(20))
        } else if encoded.starts(with: [0xFF, 0xD8, 0xFF]) {
            size = JPEGLayout.read(encoded).map { ($0.width, $0.height) }
        } else {
            throw StillImageError(.formatUnsupported, "a frame is a JPEG or a PNG")
        }
        guard let size, size.width > 0, size.height > 0 else { throw StillImageError(.corrupt, "the frame has no size") }
        guard size.width * size.height <= Self.maximumFramePixels else {
            throw StillImageError(
                .dimensionsInvalid, "a frame of \(size.width)×\(size.height) is over \(Self.maximumFramePixels >> 20) MP")
        }
        return try decode(encoded)
    }

    package func readFrame(_ image: DecodedStill, turn: Int) -> StillImageCodes {
        guard let decoded = image.image as? GrayImage.Decoded else {
            return StillImageCodes(codes: [], ignored: 0, complete: false, size: [0, 0])
        }
        let decoder = FrameDecoder()
        let frame = decoded.image
        let passes = decoder.configuration.ladder(forLongSide: max(frame.width, frame.height)).passes(forFrame: turn)
        // Corners in the frame as sent (a JPEG decoded reduced is mapped back).
        let scaleX = Double(decoded.width) / Double(max(1, frame.width))
        let scaleY = Double(decoded.height) / Double(max(1, frame.height))
        let codes = decoder.decode(frame, passes: passes).map { code in
            StillImageCodes.Code(
                text: code.text,
                corners: code.corners.map { [Int((Double($0[0]) * scaleX).rounded()), Int((Double($0[1]) * scaleY).rounded())] })
        }
        return StillImageCodes(
            codes: codes, ignored: decoder.droppedPayloads.values.reduce(0, +), complete: true,
            size: [decoded.width, decoded.height])
    }

    package func read(_ image: DecodedStill) -> StillImageCodes {
        // Only this reader makes the images it is given back.
        guard let decoded = image.image as? GrayImage.Decoded else {
            return StillImageCodes(codes: [], ignored: 0, complete: false, size: [0, 0])
        }
        let read = FrameDecoder().decodeImage(decoded)
        return StillImageCodes(
            codes: read.codes.map { StillImageCodes.Code(text: $0.text, corners: $0.corners) }, ignored: read.ignored,
            complete: read.passesSkipped == 0, size: read.size)
    }
}
