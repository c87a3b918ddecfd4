/// Reads the QR codes of a still image (a PNG or JPEG: a screenshot of a video call, a photo of the
/// patient's phone) for `POST /v1/scans/image`. The runtime gives the API its decoder through this seam,
/// so the API serves HTTP and knows nothing of image formats or QR ladders.
///
/// Two steps, so the caller can let the encoded bytes go before the ladder runs (a 12 MP photo's bytes
/// and its grey image would otherwise share the peak).
package protocol StillImageReader: Sendable {
    /// Decodes the encoded bytes into the reader's own image (a large JPEG reduced).
    func decode(_ encoded: UnsafeRawBufferPointer) throws(StillImageError) -> DecodedStill
    /// Decodes a live capture's frame: a JPEG or PNG only, by its content, of at most
    /// `maximumFramePixels` as its header declares (refused before decoding).
    func decodeFrame(_ encoded: UnsafeRawBufferPointer) throws(StillImageError) -> DecodedStill
    /// Every code the ladder reads in it.
    func read(_ image: DecodedStill) -> StillImageCodes
    /// The codes the camera's fast ladder reads in one frame of a live capture (a shared video-call
    /// window): the every-frame passes and the `turn`-th of the alternating ones, as a camera's frames
    /// take them in turn.
    func readFrame(_ image: DecodedStill, turn: Int) -> StillImageCodes
}

/// A decoded image, opaque to everyone but the reader that made it.
package struct DecodedStill: @unchecked Sendable {
    /// The reader's own value (immutable once made, so sharing it across threads is safe).
    package let image: Any
    package init(_ image: Any) { self.image = image }
}

/// What a still image held.
package struct StillImageCodes: Sendable, Equatable {
    package struct Code: Sendable, Equatable {
        package var text: String
        /// The code's corners in the image, `[[x, y], …]`.
        package var corners: [[Int]]
        package init(text: String, corners: [[Int]]) {
            self.text = text
            self.corners = corners
        }
    }

    package var codes: [Code]
    /// Codes whose payload is not text a token can be: dropped, counted.
    package var ignored: Int
    /// False when the time budget ran out before every pass.
    package var complete: Bool
    /// The image's width and height.
    package var size: [Int]

    package init(codes: [Code], ignored: Int, complete: Bool, size: [Int]) {
        self.codes = codes
        self.ignored = ignored
        self.complete = complete
        self.size = size
    }
}

/// An image that cannot be read, with a stable code.
package struct StillImageError: Error, Sendable, CustomStringConvertible {
    package enum Code: String, Sendable {
        case formatUnsupported = "image_format_unsupported"
        case dimensionsInvalid = "image_dimensions_invalid"
        case corrupt = "image_corrupt"
    }

    package let code: Code
    package let message: String
    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
    package var description: String { "\(code.rawValue): \(message)" }
}
