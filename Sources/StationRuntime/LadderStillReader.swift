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
