import Imaging

/// A code read from a frame: its text, where it was, and which pass of the ladder read it.
public struct DecodedCode: Hashable, Sendable, Codable {
    public var text: String
    /// Corners in the coordinates of the original frame, as `[[x, y], …]`.
    public var corners: [[Int]]
    public var pass: String

    public init(text: String, corners: [[Int]], pass: String) {
        self.text = text
        self.corners = corners
        self.pass = pass
    }
}

/// The pass ladder (issue 3): each frame is tried as it is, then downscaled and lightly blurred
/// (which removes the moiré and sub-pixel stripes of phone screens that defeat zbar at full
/// resolution), and, every few empty frames, inverted for dark-mode wallets. It stops at the first
/// pass that reads something. Payloads that are not printable ASCII are dropped.
public final class FrameDecoder {
    public struct Configuration: Sendable {
        /// Frames with a longer side than this are downscaled to it for the second pass.
        public var downscaleLongSide = 800
        /// Blur σ at a long side of 640 and 1000 px; interpolated (and extrapolated) by size.
        public var sigmaAt640 = 0.7
        public var sigmaAt1000 = 1.0
        /// In a stream, the inverted passes run on every n-th consecutive empty frame.
        public var invertEveryEmptyFrames = 3
        public init() {}

        func sigma(forLongSide longSide: Int) -> Double {
            sigmaAt640 + (Double(longSide) - 640) / 360 * (sigmaAt1000 - sigmaAt640)
        }
    }

    public enum Pass: String, Sendable, CaseIterable {
        case original, downscaled, inverted, invertedDownscaled = "inverted-downscaled"
    }

    public let configuration: Configuration
    private let decoder: any QRDecoding
    private var consecutiveEmptyFrames = 0

    public init(configuration: Configuration = Configuration(), decoder: any QRDecoding = ZBarQRDecoder()) {
        self.configuration = configuration
        self.decoder = decoder
    }

    /// Decodes one frame of a stream: the inverted passes run only every few empty frames, so a
    /// steady stream of empty frames costs two passes, not four.
    public func decodeStreamFrame(_ frame: GrayImage) -> [DecodedCode] {
        let tryInverted = (consecutiveEmptyFrames + 1) % max(1, configuration.invertEveryEmptyFrames) == 0
        let codes = decode(frame, passes: tryInverted ? Pass.allCases : [.original, .downscaled])
        consecutiveEmptyFrames = codes.isEmpty ? consecutiveEmptyFrames + 1 : 0
        return codes
    }

    /// Decodes a single image with every pass (a screenshot gets one chance, not a stream of them).
    public func decodeImage(_ image: GrayImage) -> [DecodedCode] {
        decode(image, passes: Pass.allCases)
    }

    /// Runs `passes` in order and returns the codes of the first pass that reads any.
    public func decode(_ frame: GrayImage, passes: [Pass]) -> [DecodedCode] {
        var smoothed: (image: GrayImage, scale: Double)? = nil
        func smoothedFrame() -> (image: GrayImage, scale: Double) {
            if let smoothed { return smoothed }
            let longSide = max(frame.width, frame.height)
            let target = min(longSide, configuration.downscaleLongSide)
            let small = frame.downscaled(toLongSide: target)
            let result = (
                small.gaussianBlurred(sigma: configuration.sigma(forLongSide: target)),
                Double(longSide) / Double(target)
            )
            smoothed = result
            return result
        }
        for pass in passes {
            let (image, scale): (GrayImage, Double) =
                switch pass {
                case .original: (frame, 1)
                case .downscaled: smoothedFrame()
                case .inverted: (frame.inverted(), 1)
                case .invertedDownscaled:
                    {
                        let s = smoothedFrame(); return (s.image.inverted(), s.scale)
                    }()
                }
            let codes = decoder.symbols(in: image).compactMap { symbol -> DecodedCode? in
                guard let text = PrintableASCII.text(symbol.payload) else { return nil }
                let corners = symbol.corners.map {
                    [Int((Double($0.x) * scale).rounded()), Int((Double($0.y) * scale).rounded())]
                }
                return DecodedCode(text: text, corners: corners, pass: pass.rawValue)
            }
            if !codes.isEmpty { return codes }
        }
        return []
    }
}

/// Token texts are printable ASCII; anything else read from a QR code is not ours and is dropped.
public enum PrintableASCII {
    public static func text(_ bytes: [UInt8]) -> String? {
        guard !bytes.isEmpty, bytes.allSatisfy({ (0x20...0x7E).contains($0) }) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}
