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
/// or zbar) on a variant of the frame: as it is; downscaled and lightly blurred (which removes the
/// moiré and sub-pixel stripes of phone screens that defeat zbar at full resolution); inverted, for
/// dark-mode wallets. It stops at the first pass that reads something. Payloads that are not
/// printable ASCII are dropped. The default order was chosen by measurement (Benchmarks/scan.sh).
public final class FrameDecoder {
    public enum Engine: String, Sendable, CaseIterable { case zxing, zbar }
    public enum Variant: String, Sendable, CaseIterable {
        case original, downscaled, inverted, invertedDownscaled, upscaled, invertedUpscaled
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
            }
        }

        public init?(_ name: String) {
            guard let pass = Self.all.first(where: { $0.description == name }) else { return nil }
            self = pass
        }

        public static let all = Engine.allCases.flatMap { engine in Variant.allCases.map { Pass(engine, $0) } }
        var isInverted: Bool { [.inverted, .invertedDownscaled, .invertedUpscaled].contains(variant) }
    }

    public struct Configuration: Sendable {
        /// Passes for frames whose longer side is at most `largeFrameLongSide` (640×480 cameras).
        /// Chosen by measurement on the phone-screen set (docs/qr-decoding.md): zxing-cpp on the 2×
        /// upscaled frame reads most codes, small ones included; the inverted pass catches dark-mode
        /// wallets; zxing and zbar on the frame as it is catch a few more; all within the time budget.
        public var passes: [Pass] = [
            Pass(.zxing, .upscaled), Pass(.zxing, .inverted), Pass(.zxing, .original), Pass(.zbar, .original),
        ]
        /// Passes for larger frames (1280×720), where every pass costs about four times more. zbar
        /// would add 4 points on small codes but push the slowest frame past 3× the median.
        public var largeFramePasses: [Pass] = [
            Pass(.zxing, .upscaled), Pass(.zxing, .original), Pass(.zxing, .inverted),
        ]
        public var largeFrameLongSide = 960
        /// Frames with a longer side than this are downscaled to it for the downscaled passes.
        public var downscaleLongSide = 800
        /// Blur σ at a long side of 640 and 1000 px; interpolated (and extrapolated) by size.
        public var sigmaAt640 = 0.7
        public var sigmaAt1000 = 1.0
        /// In a stream, the inverted passes run on every n-th consecutive empty frame.
        public var invertEveryEmptyFrames = 3
        public init() {}

        /// Setting one list for every frame size (tests, and benchmark runs that compare orders).
        public init(passes: [Pass]) {
            self.passes = passes
            self.largeFramePasses = passes
        }

        public func passes(forLongSide longSide: Int) -> [Pass] {
            longSide > largeFrameLongSide ? largeFramePasses : passes
        }

        func sigma(forLongSide longSide: Int) -> Double {
            sigmaAt640 + (Double(longSide) - 640) / 360 * (sigmaAt1000 - sigmaAt640)
        }
    }

    public let configuration: Configuration
    private let zxing: any QRDecoding
    private let zbar: any QRDecoding
    private var consecutiveEmptyFrames = 0

    public init(
        configuration: Configuration = Configuration(), zxing: any QRDecoding = ZXingQRDecoder(),
        zbar: any QRDecoding = ZBarQRDecoder()
    ) {
        self.configuration = configuration
        self.zxing = zxing
        self.zbar = zbar
    }

    /// Decodes one frame of a stream: the inverted passes run only every few empty frames, so a
    /// steady stream of empty frames does not pay for them every time.
    public func decodeStreamFrame(_ frame: GrayImage) -> [DecodedCode] {
        let tryInverted = (consecutiveEmptyFrames + 1) % max(1, configuration.invertEveryEmptyFrames) == 0
        let all = configuration.passes(forLongSide: max(frame.width, frame.height))
        let passes = tryInverted ? all : all.filter { !$0.isInverted }
        let codes = decode(frame, passes: passes)
        consecutiveEmptyFrames = codes.isEmpty ? consecutiveEmptyFrames + 1 : 0
        return codes
    }

    /// Decodes a single image with every pass (a screenshot gets one chance, not a stream of them).
    public func decodeImage(_ image: GrayImage) -> [DecodedCode] {
        decode(image, passes: configuration.passes(forLongSide: max(image.width, image.height)))
    }

    /// Runs `passes` in order and returns the codes of the first pass that reads any.
    public func decode(_ frame: GrayImage, passes: [Pass]) -> [DecodedCode] {
        var variants: [Variant: (image: GrayImage, scale: Double)] = [.original: (frame, 1)]
        func image(_ variant: Variant) -> (image: GrayImage, scale: Double) {
            if let made = variants[variant] { return made }
            let made: (image: GrayImage, scale: Double)
            switch variant {
            case .original: made = (frame, 1)
            case .inverted: made = (frame.inverted(), 1)
            case .downscaled:
                let longSide = max(frame.width, frame.height)
                let target = min(longSide, configuration.downscaleLongSide)
                let small = frame.downscaled(toLongSide: target)
                made = (
                    small.gaussianBlurred(sigma: configuration.sigma(forLongSide: target)),
                    Double(longSide) / Double(max(small.width, small.height))
                )
            case .invertedDownscaled:
                let smoothed = image(.downscaled)
                made = (smoothed.image.inverted(), smoothed.scale)
            case .upscaled:
                made = (frame.upscaled(by: 2), 0.5)
            case .invertedUpscaled:
                made = (image(.upscaled).image.inverted(), 0.5)
            }
            variants[variant] = made
            return made
        }
        for pass in passes {
            let (input, scale) = image(pass.variant)
            let decoder = pass.engine == .zxing ? zxing : zbar
            let codes = decoder.symbols(in: input).compactMap { symbol -> DecodedCode? in
                guard let text = PrintableASCII.text(symbol.payload) else { return nil }
                let corners = symbol.corners.map {
                    [Int((Double($0.x) * scale).rounded()), Int((Double($0.y) * scale).rounded())]
                }
                return DecodedCode(text: text, corners: corners, pass: pass.description)
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
