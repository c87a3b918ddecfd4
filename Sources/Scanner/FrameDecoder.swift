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

/// The pass ladder (issue 3): each frame is tried by a sequence of passes, each a decoder (zxing-cpp
/// with either of its binarisers, or zbar) on a variant of the frame: as it is; downscaled and lightly blurred (which removes the
/// moiré and sub-pixel stripes of phone screens that defeat zbar at full resolution); inverted, for
/// dark-mode wallets. It stops at the first pass that reads something. Payloads that are not
/// printable ASCII are dropped. The default order was chosen by measurement (Benchmarks/scan.sh).
public final class FrameDecoder {
    public enum Engine: String, Sendable, CaseIterable {
        /// zxing-cpp with its local-average threshold.
        case zxing
        /// zxing-cpp with its global-histogram threshold.
        case zxingHistogram = "zxing-histogram"
        case zbar
        /// zbar scanning every second row and column: half the cost.
        case zbarSparse = "zbar-sparse"
    }
    public enum Variant: String, Sendable, CaseIterable {
        case original, downscaled, inverted, invertedDownscaled, upscaled, invertedUpscaled
        /// Keystone corrections for steep tilt: the named edge of the frame shortened by a quarter.
        case keystoneTop, keystoneBottom, keystoneLeft, keystoneRight

        var keystoneEdge: KeystoneEdge? {
            switch self {
            case .keystoneTop: .top
            case .keystoneBottom: .bottom
            case .keystoneLeft: .left
            case .keystoneRight: .right
            default: nil
            }
        }
    }

    public struct Pass: Hashable, Sendable, CustomStringConvertible {
        public var engine: Engine
        public var variant: Variant
        public init(_ engine: Engine, _ variant: Variant) {
            self.engine = engine
            self.variant = variant
        }

        /// `zbar`, `zxing-inverted`, `zbar-downscaled`, …
        public var description: String {
            switch variant {
            case .original: engine.rawValue
            case .downscaled: "\(engine.rawValue)-downscaled"
            case .inverted: "\(engine.rawValue)-inverted"
            case .invertedDownscaled: "\(engine.rawValue)-inverted-downscaled"
            case .upscaled: "\(engine.rawValue)-upscaled"
            case .invertedUpscaled: "\(engine.rawValue)-inverted-upscaled"
            case .keystoneTop, .keystoneBottom, .keystoneLeft, .keystoneRight:
                "\(engine.rawValue)-keystone-\(variant.keystoneEdge!.rawValue)"
            }
        }

        public init?(_ name: String) {
            guard let pass = Self.all.first(where: { $0.description == name }) else { return nil }
            self = pass
        }

        public static let all = Engine.allCases.flatMap { engine in Variant.allCases.map { Pass(engine, $0) } }
    }

    /// The passes for one frame size: some on every frame, the rest spread over consecutive frames
    /// in turn, so that a frame's cost stays near the typical one while a code held up to the
    /// camera still meets every pass within `alternating.count` frames.
    public struct Ladder: Sendable, Equatable {
        public var everyFrame: [Pass]
        public var alternating: [[Pass]]

        public init(everyFrame: [Pass], alternating: [[Pass]] = []) {
            self.everyFrame = everyFrame
            self.alternating = alternating
        }

        /// Every pass, for a single image (a screenshot gets one chance, not a stream of them).
        public var all: [Pass] { everyFrame + alternating.flatMap { $0 } }

        /// The passes for the n-th frame of a stream (n counted from the last read).
        public func passes(forFrame n: Int) -> [Pass] {
            alternating.isEmpty ? everyFrame : everyFrame + alternating[n % alternating.count]
        }
    }

    public struct Configuration: Sendable {
        /// For frames whose longer side is at most `largeFrameLongSide` (640×480 cameras). Chosen by
        /// measurement on the phone-screen set (docs/qr-decoding.md): zxing-cpp on the 2× upscaled
        /// frame reads most codes, small ones included, and its histogram binariser on the frame as it
        /// is adds glare-washed ones; then, on alternate frames, either the inverted frame (dark-mode
        /// wallets) and two keystone corrections (steep tilt), or a sparse zbar scan (a few codes
        /// zxing-cpp 1.4 cannot read) and the inverted upscaled frame (small dark-mode codes).
        public var ladder = Ladder(
            everyFrame: [Pass(.zxing, .upscaled), Pass(.zxingHistogram, .original)],
            alternating: [
                [Pass(.zxing, .inverted), Pass(.zxing, .keystoneTop), Pass(.zxing, .keystoneBottom)],
                [Pass(.zbarSparse, .original), Pass(.zxing, .invertedUpscaled)],
            ])
        /// For larger frames (1280×720), where every pass costs about four times more: only the
        /// upscaled frame on every frame, so the slowest frame stays within 3× the median.
        public var largeFrameLadder = Ladder(
            everyFrame: [Pass(.zxing, .upscaled)],
            alternating: [
                [Pass(.zxingHistogram, .upscaled), Pass(.zxing, .original)],
                [Pass(.zxing, .inverted)],
            ])
        public var largeFrameLongSide = 960
        /// Frames with a longer side than this are downscaled to it for the downscaled passes.
        public var downscaleLongSide = 800
        /// Blur σ at a long side of 640 and 1000 px; interpolated (and extrapolated) by size.
        public var sigmaAt640 = 0.7
        public var sigmaAt1000 = 1.0
        /// How much the keystone variants shorten an edge of the frame.
        public var keystoneFraction = 0.25
        public init() {}

        /// One ladder for every frame size (tests, and benchmark runs that compare orders).
        public init(ladder: Ladder) {
            self.ladder = ladder
            self.largeFrameLadder = ladder
        }

        public func ladder(forLongSide longSide: Int) -> Ladder {
            longSide > largeFrameLongSide ? largeFrameLadder : ladder
        }

        func sigma(forLongSide longSide: Int) -> Double {
            sigmaAt640 + (Double(longSide) - 640) / 360 * (sigmaAt1000 - sigmaAt640)
        }
    }

    public let configuration: Configuration
    private let zxing = ZXingQRDecoder(binarizer: .localAverage)
    private let zxingHistogram = ZXingQRDecoder(binarizer: .globalHistogram)
    private let zbar = ZBarQRDecoder()
    private let zbarSparse = ZBarQRDecoder(scanDensity: 2)
    private var consecutiveEmptyFrames = 0

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    private func decoder(_ engine: Engine) -> any QRDecoding {
        switch engine {
        case .zxing: zxing
        case .zxingHistogram: zxingHistogram
        case .zbar: zbar
        case .zbarSparse: zbarSparse
        }
    }

    /// Decodes one frame of a stream: the every-frame passes, then this frame's turn of the
    /// alternating ones (the turn advances with each empty frame and restarts after a read).
    public func decodeStreamFrame(_ frame: GrayImage) -> [DecodedCode] {
        let ladder = configuration.ladder(forLongSide: max(frame.width, frame.height))
        let codes = decode(frame, passes: ladder.passes(forFrame: consecutiveEmptyFrames))
        consecutiveEmptyFrames = codes.isEmpty ? consecutiveEmptyFrames + 1 : 0
        return codes
    }

    /// Decodes a single image with every pass (a screenshot gets one chance, not a stream of them).
    public func decodeImage(_ image: GrayImage) -> [DecodedCode] {
        decode(image, passes: configuration.ladder(forLongSide: max(image.width, image.height)).all)
    }

    /// Runs `passes` in order and returns the codes of the first pass that reads any.
    public func decode(_ frame: GrayImage, passes: [Pass]) -> [DecodedCode] {
        var variants: [Variant: (image: GrayImage, toFrame: ToFrame)] = [.original: (frame, .scaled(1))]
        func image(_ variant: Variant) -> (image: GrayImage, toFrame: ToFrame) {
            if let made = variants[variant] { return made }
            let made: (image: GrayImage, toFrame: ToFrame)
            switch variant {
            case .original: made = (frame, .scaled(1))
            case .inverted: made = (frame.inverted(), .scaled(1))
            case .downscaled:
                let longSide = max(frame.width, frame.height)
                let target = min(longSide, configuration.downscaleLongSide)
                let small = frame.downscaled(toLongSide: target)
                made = (
                    small.gaussianBlurred(sigma: configuration.sigma(forLongSide: target)),
                    .scaled(Double(longSide) / Double(max(small.width, small.height)))
                )
            case .invertedDownscaled:
                let smoothed = image(.downscaled)
                made = (smoothed.image.inverted(), smoothed.toFrame)
            case .upscaled:
                made = (frame.upscaled(by: 2), .scaled(0.5))
            case .invertedUpscaled:
                made = (image(.upscaled).image.inverted(), .scaled(0.5))
            case .keystoneTop, .keystoneBottom, .keystoneLeft, .keystoneRight:
                let corrected = frame.keystoneCorrected(
                    shortening: variant.keystoneEdge!, by: configuration.keystoneFraction)
                made = (corrected.image, .projected(corrected.toSource))
            }
            variants[variant] = made
            return made
        }
        for pass in passes {
            let (input, toFrame) = image(pass.variant)
            let codes = decoder(pass.engine).symbols(in: input).compactMap { symbol -> DecodedCode? in
                guard let text = PrintableASCII.text(symbol.payload) else { return nil }
                let corners = symbol.corners.map { toFrame.point(x: Double($0.x), y: Double($0.y)) }
                return DecodedCode(text: text, corners: corners, pass: pass.description)
            }
            if !codes.isEmpty { return codes }
        }
        return []
    }
}

/// How a point found in a variant of a frame maps back to the frame itself.
enum ToFrame {
    case scaled(Double)
    case projected(Homography)

    func point(x: Double, y: Double) -> [Int] {
        switch self {
        case .scaled(let factor): [Int((x * factor).rounded()), Int((y * factor).rounded())]
        case .projected(let homography):
            // Corners are pixel indices: project their centres, and back to an index.
            Self.pixel(homography.apply(x: x + 0.5, y: y + 0.5))
        }
    }

    private static func pixel(_ point: (x: Double, y: Double)) -> [Int] {
        [Int((point.x - 0.5).rounded()), Int((point.y - 0.5).rounded())]
    }
}

/// Token texts are printable ASCII; anything else read from a QR code is not ours and is dropped.
/// One trailing `\n` or `\r\n` is allowed and removed, as the token profile says a verifier removes it
/// (§1; `TokenVerifier.withoutTrailingNewline`, not called here: the scanner knows nothing of tokens): a
/// phone app or a handheld scanner may end the text with one.
public enum PrintableASCII {
    public static func text(_ bytes: [UInt8]) -> String? {
        var body = bytes[...]
        if body.last == 0x0A {
            body = body.dropLast()
            if body.last == 0x0D { body = body.dropLast() }
        }
        guard !body.isEmpty, body.allSatisfy({ (0x20...0x7E).contains($0) }) else { return nil }
        return String(decoding: body, as: UTF8.self)
    }
}
