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
        /// zxing-cpp as it reads a photo by default: local threshold, its own reduced-resolution retries
        /// and inverted retry (the still-image baseline, issue 11).
        case zxingPhoto = "zxing-photo"
        case zbar
        /// zbar scanning every second row and column: half the cost.
        case zbarSparse = "zbar-sparse"
    }
    public enum Variant: String, Sendable, CaseIterable {
        case original, downscaled, inverted, invertedDownscaled, upscaled, invertedUpscaled
        /// Area-averaged to half the width and height: a still's moiré and sensor noise averaged out,
        /// at a quarter of the cost.
        case halved
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
            case .halved: "\(engine.rawValue)-halved"
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
        /// wallets) and a sparse zbar scan, or the inverted upscaled frame (small dark-mode codes).
        /// The keystone corrections that zxing-cpp 1.4 needed for steep tilt read nothing more with 3.1.
        public var ladder = Ladder(
            everyFrame: [Pass(.zxing, .upscaled), Pass(.zxingHistogram, .original)],
            alternating: [
                [Pass(.zxing, .inverted), Pass(.zbarSparse, .original)],
                [Pass(.zxing, .invertedUpscaled)],
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
        /// For still images: screenshots and photos (`decodeImage`). Chosen on the still-image set
        /// (docs/qr-decoding.md): zxing-cpp as it reads a photo by default (so the station reads at least
        /// what zxing-cpp alone does), its histogram threshold (glare, screenshots), the photo halved
        /// (moiré and noise averaged out); each code found but not read is retried enlarged.
        public var stillLadder = StillLadder(
            passes: [Pass(.zxingPhoto, .original), Pass(.zxingHistogram, .original), Pass(.zxing, .halved)],
            smallImagePasses: [Pass(.zxing, .upscaled), Pass(.zxingHistogram, .upscaled)],
            retryEngines: [.zxing, .zxingHistogram])
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
    private let zxingPhoto = ZXingQRDecoder(options: .photoDefaults)
    private let zbar = ZBarQRDecoder()
    private let zbarSparse = ZBarQRDecoder(scanDensity: 2)
    private var consecutiveEmptyFrames = 0
    /// Payloads read but dropped, by why (issue 11: "its reason counted").
    public private(set) var droppedPayloads: [PrintableASCII.Refusal: Int] = [:]

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    private func decoder(_ engine: Engine) -> ZXingQRDecoder? {
        switch engine {
        case .zxing: zxing
        case .zxingHistogram: zxingHistogram
        case .zxingPhoto: zxingPhoto
        case .zbar, .zbarSparse: nil
        }
    }

    private func zbarDecoder(_ engine: Engine) -> ZBarQRDecoder {
        engine == .zbarSparse ? zbarSparse : zbar
    }

    /// Decodes one frame of a stream: the every-frame passes, then this frame's turn of the
    /// alternating ones (the turn advances with each empty frame and restarts after a read).
    public func decodeStreamFrame(_ frame: GrayImage) -> [DecodedCode] {
        let ladder = configuration.ladder(forLongSide: max(frame.width, frame.height))
        let codes = decode(frame, passes: ladder.passes(forFrame: consecutiveEmptyFrames))
        consecutiveEmptyFrames = codes.isEmpty ? consecutiveEmptyFrames + 1 : 0
        return codes
    }

    /// Decodes a PNG or JPEG file's bytes for the still ladder: a JPEG beyond the work bound is decoded
    /// reduced (a 48 MP photo at a quarter of its pixels), never whole. The bytes can go once this returns.
    public func decodeStill(encoded bytes: UnsafeRawBufferPointer) throws(ImageError) -> GrayImage.Decoded {
        try GrayImage.decode(bytes, fittingPixels: configuration.stillLadder.maximumPixels)
    }

    /// Reads an image decoded by `decodeStill` with the still ladder; corners are in the file's image.
    public func decodeImage(_ decoded: GrayImage.Decoded) -> StillImageRead {
        var read = decodeImage(decoded.image)
        if decoded.reduction > 1 {
            let toImage = ToFrame.scaledAxes(decoded.width, decoded.image.width, decoded.height, decoded.image.height)
            read.codes = read.codes.map { $0.mapped(toImage) }
            read.reducedFrom = [decoded.width, decoded.height]
            read.size = [decoded.width, decoded.height]
        }
        return read
    }

    /// Reads a PNG or JPEG file with the still ladder. The file's bytes are let go before the ladder runs.
    public func decodeImage(contentsOf path: String) throws(ImageError) -> StillImageRead {
        let decoded = try GrayImage.fileBytes(path).withUnsafeBytes { buffer in
            Result { () throws(ImageError) in try decodeStill(encoded: buffer) }
        }.get()
        return decodeImage(decoded)
    }

    /// Decodes a still image (a screenshot, a photo) with the still ladder: every pass, the union of
    /// what they read, then the codes found but not read tried again, enlarged; within the work bound.
    public func decodeImage(_ image: GrayImage) -> StillImageRead {
        let ladder = configuration.stillLadder
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: ladder.timeBudget)
        // The work bound: a picture of more pixels is averaged down to the bound first.
        var frame = image
        var scale = 1.0
        if image.width * image.height > ladder.maximumPixels {
            scale = (Double(image.width * image.height) / Double(ladder.maximumPixels)).squareRoot()
            frame = image.resizedByArea(
                width: max(1, Int(Double(image.width) / scale)), height: max(1, Int(Double(image.height) / scale)))
        }
        var passes = ladder.passes
        if max(frame.width, frame.height) <= ladder.smallImageLongSide { passes += ladder.smallImagePasses }
        let retry = !ladder.retryEngines.isEmpty
        var found = run(frame, passes: passes, until: .everyPass(before: deadline), collectUnread: retry)
        if retry {
            var tried: [Box] = []
            for outline in found.unread where !found.codes.contains(where: { $0.overlaps(outline) }) {
                // Each pass may have found the same unread code: retry it once.
                guard let box = Box(outline), !tried.contains(where: { $0.intersects(box) }) else { continue }
                tried.append(box)
                // Past the budget a retry is not started, and the read is not complete.
                guard clock.now < deadline else {
                    found.passesSkipped += 1
                    continue
                }
                // A large code that failed is not a small-module problem, and enlarging it would be costly.
                guard let region = frame.region(around: outline, margin: ladder.retryMargin),
                    max(region.image.width, region.image.height) <= ladder.retryMaximumSide
                else { continue }
                let enlarged = region.image.upscaled(by: ladder.retryUpscale)
                let toFrame = ToFrame.scaledAndShifted(
                    1 / Double(ladder.retryUpscale), x: Double(region.x), y: Double(region.y))
                let retry = run(
                    enlarged, passes: ladder.retryEngines.map { Pass($0, .original) }, until: .firstRead,
                    toFrame: toFrame, named: "-retry")
                found.merge(retry.codes)
                found.passesRun += retry.passesRun
                found.ignored += retry.ignored.filter { box in !found.ignored.contains { $0.intersects(box) } }
            }
        }
        let toImage = ToFrame.scaledAxes(image.width, frame.width, image.height, frame.height)
        let codes = scale == 1 ? found.codes : found.codes.map { $0.mapped(toImage) }
        return StillImageRead(
            size: [image.width, image.height], codes: codes, ignored: found.ignored.count, passesRun: found.passesRun,
            passesSkipped: found.passesSkipped,
            reducedFrom: scale == 1 ? nil : [image.width, image.height])
    }

    /// Runs `passes` in order and returns the codes of the first pass that reads any, or with
    /// `everyPass` the union of every pass's (a measurement of passes on their own).
    public func decode(_ frame: GrayImage, passes: [Pass], everyPass: Bool = false) -> [DecodedCode] {
        run(frame, passes: passes, until: everyPass ? .everyPass(before: nil) : .firstRead).codes
    }

    /// When a run of passes stops.
    enum Stop {
        /// After the first pass that reads anything (a camera frame: the next frame comes soon).
        case firstRead
        /// After every pass, the union of their reads; with an instant, no pass starts after it (a still).
        case everyPass(before: ContinuousClock.Instant?)
    }

    struct Run {
        var codes: [DecodedCode] = []
        var unread: [[[Int]]] = []
        /// Where codes were read whose payload is not text (each place once).
        var ignored: [Box] = []
        var passesRun = 0
        var passesSkipped = 0

        /// Adds codes not already read at the same place (the same code read by two passes).
        mutating func merge(_ found: [DecodedCode]) {
            for code in found where !codes.contains(where: { $0.text == code.text && $0.overlaps(code.corners) }) {
                codes.append(code)
            }
        }
    }

    /// The one loop over passes, for streams and stills alike.
    private func run(
        _ frame: GrayImage, passes: [Pass], until stop: Stop, collectUnread: Bool = false,
        toFrame outer: ToFrame = .scaled(1), named suffix: String = ""
    ) -> Run {
        var variants: [Variant: (image: GrayImage, toFrame: ToFrame)] = [:]
        var result = Run()
        for (index, pass) in passes.enumerated() {
            if case .everyPass(let deadline?) = stop, ContinuousClock.now >= deadline {
                result.passesSkipped = passes.count - index
                break
            }
            let (input, toFrame) = variant(pass.variant, of: frame, cache: &variants)
            let findings: ZXingQRDecoder.Findings
            if let zxing = decoder(pass.engine) {
                findings = zxing.scan(input, includeUnread: collectUnread)
            } else {
                findings = .init(symbols: zbarDecoder(pass.engine).symbols(in: input), unread: [])
            }
            result.passesRun += 1
            func inFrame(_ point: QRSymbol.Point) -> [Int] {
                let inner = toFrame.point(x: Double(point.x), y: Double(point.y))
                return outer.point(x: Double(inner[0]), y: Double(inner[1]))
            }
            let codes = findings.symbols.compactMap { symbol -> DecodedCode? in
                switch PrintableASCII.read(symbol.payload) {
                case .success(let text):
                    return DecodedCode(text: text, corners: symbol.corners.map(inFrame), pass: "\(pass)\(suffix)")
                case .failure(let refusal):
                    droppedPayloads[refusal, default: 0] += 1
                    let outline = symbol.corners.map(inFrame)
                    if let box = Box(outline), !result.ignored.contains(where: { $0.intersects(box) }) {
                        result.ignored.append(box)
                    }
                    return nil
                }
            }
            result.merge(codes)
            result.unread += findings.unread.map { $0.map(inFrame) }
            if case .firstRead = stop, !result.codes.isEmpty { break }
        }
        return result
    }

    /// The frame as a pass needs it, made once per run.
    private func variant(
        _ variant: Variant, of frame: GrayImage, cache: inout [Variant: (image: GrayImage, toFrame: ToFrame)]
    ) -> (image: GrayImage, toFrame: ToFrame) {
        if let made = cache[variant] { return made }
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
            let smoothed = self.variant(.downscaled, of: frame, cache: &cache)
            made = (smoothed.image.inverted(), smoothed.toFrame)
        case .halved:
            let half = frame.resizedByArea(width: max(1, frame.width / 2), height: max(1, frame.height / 2))
            made = (half, .scaledAxes(frame.width, half.width, frame.height, half.height))
        case .upscaled:
            made = (frame.upscaled(by: 2), .scaled(0.5))
        case .invertedUpscaled:
            made = (self.variant(.upscaled, of: frame, cache: &cache).image.inverted(), .scaled(0.5))
        case .keystoneTop, .keystoneBottom, .keystoneLeft, .keystoneRight:
            let corrected = frame.keystoneCorrected(
                shortening: variant.keystoneEdge!, by: configuration.keystoneFraction)
            made = (corrected.image, .projected(corrected.toSource))
        }
        cache[variant] = made
        return made
    }
}

/// What the still ladder read in one image, and how much of the ladder it ran.
public struct StillImageRead: Sendable, Hashable {
    /// The image's width and height (as encoded, when it was decoded reduced).
    public var size: [Int]
    /// Every code read, once per code (the same payload at two places is two codes).
    public var codes: [DecodedCode]
    /// Codes read whose payload is not printable text (binary, UTF-8): dropped, counted once each.
    public var ignored: Int
    public var passesRun: Int
    /// Passes not started because the image's time budget was spent.
    public var passesSkipped: Int
    /// The image's size when it was larger than the work bound and decoded reduced.
    public var reducedFrom: [Int]?
}

/// The still-image ladder (issue 11): every pass runs and their reads are united, because a page
/// with several codes may have some read by one pass and some by another. Chosen by measurement on
/// the still-image set (docs/qr-decoding.md).
public struct StillLadder: Sendable, Equatable {
    public typealias Pass = FrameDecoder.Pass
    public typealias Engine = FrameDecoder.Engine
    public var passes: [Pass]
    /// Added for images no longer than `smallImageLongSide` (a cropped screenshot), where a 2×
    /// upscale is cheap and modules are likely small.
    public var smallImagePasses: [Pass]
    public var smallImageLongSide = 1280
    /// Engines tried, in turn until one reads, on each code that a pass found but could not decode,
    /// cut out with a margin and enlarged: the upscale only where the modules are small.
    public var retryEngines: [Engine]
    public var retryUpscale = 2
    /// Regions larger than this (before enlarging) are not retried: their modules are not small.
    public var retryMaximumSide = 1200
    /// The margin around a found code's outline, as a fraction of its size.
    public var retryMargin = 0.25
    /// The work bound: larger images are averaged down to this many pixels before any pass.
    public var maximumPixels = 16_000_000
    /// No pass starts after this much time on one image.
    public var timeBudget: Duration = Self.defaultTimeBudget
    #if DEBUG
        /// Unoptimised builds (the tests) run about ten times slower: the same ladder, a longer budget.
        public static let defaultTimeBudget: Duration = .seconds(8)
    #else
        public static let defaultTimeBudget: Duration = .milliseconds(700)
    #endif

    public init(passes: [Pass], smallImagePasses: [Pass] = [], retryEngines: [Engine] = []) {
        self.passes = passes
        self.smallImagePasses = smallImagePasses
        self.retryEngines = retryEngines
    }
}

extension DecodedCode {
    /// The code with its corners in the image a reduced copy was made from.
    func mapped(_ toImage: ToFrame) -> DecodedCode {
        var code = self
        code.corners = corners.map { toImage.point(x: Double($0[0]), y: Double($0.count > 1 ? $0[1] : 0)) }
        return code
    }

    /// Whether this code's outline and `outline` (corners in the same frame) intersect, by their
    /// bounding boxes: two reads of one code never sit apart, two copies of a code on a page do.
    func overlaps(_ outline: [[Int]]) -> Bool {
        guard let mine = Box(corners), let theirs = Box(outline) else { return false }
        return mine.intersects(theirs)
    }
}

struct Box {
    var minX, minY, maxX, maxY: Int
    init?(_ points: [[Int]]) {
        let xs = points.compactMap(\.first), ys = points.compactMap { $0.count > 1 ? $0[1] : nil }
        guard let minX = xs.min(), let maxX = xs.max(), let minY = ys.min(), let maxY = ys.max() else { return nil }
        (self.minX, self.minY, self.maxX, self.maxY) = (minX, minY, maxX, maxY)
    }

    func intersects(_ other: Box) -> Bool {
        minX <= other.maxX && other.minX <= maxX && minY <= other.maxY && other.minY <= maxY
    }
}

extension GrayImage {
    /// The part of the image around `outline` (with `margin` of its size on each side), clipped to
    /// the image, and where it starts; nil when nothing of it is inside.
    func region(around outline: [[Int]], margin: Double) -> (image: GrayImage, x: Int, y: Int)? {
        guard let box = Box(outline) else { return nil }
        let padX = Int(Double(box.maxX - box.minX) * margin) + 4
        let padY = Int(Double(box.maxY - box.minY) * margin) + 4
        let x0 = max(0, box.minX - padX), y0 = max(0, box.minY - padY)
        let x1 = min(width, box.maxX + padX + 1), y1 = min(height, box.maxY + padY + 1)
        guard x1 - x0 >= 8, y1 - y0 >= 8 else { return nil }
        var pixels = [UInt8]()
        pixels.reserveCapacity((x1 - x0) * (y1 - y0))
        for row in y0..<y1 { pixels += self.pixels[(row * width + x0)..<(row * width + x1)] }
        return (GrayImage(width: x1 - x0, height: y1 - y0, pixels: pixels), x0, y0)
    }
}

/// How a point found in a variant of a frame maps back to the frame itself.
enum ToFrame {
    case scaled(Double)
    case projected(Homography)
    /// A crop enlarged: scaled, then moved to where the crop starts.
    case scaledAndShifted(Double, x: Double, y: Double)
    /// A resize with its own factor on each axis: from `width` to `reducedWidth`, and likewise.
    case scaledAxes(Int, Int, Int, Int)

    func point(x: Double, y: Double) -> [Int] {
        switch self {
        case .scaled(let factor): [Int((x * factor).rounded()), Int((y * factor).rounded())]
        case .scaledAndShifted(let factor, let dx, let dy):
            [Int((x * factor + dx).rounded()), Int((y * factor + dy).rounded())]
        case .scaledAxes(let width, let reducedWidth, let height, let reducedHeight):
            [
                Int((x * Double(width) / Double(reducedWidth)).rounded()),
                Int((y * Double(height) / Double(reducedHeight)).rounded()),
            ]
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
    /// Why a payload is not text the station reads; counted, never logged (it may be anything).
    public enum Refusal: String, Error, Sendable, Hashable, CaseIterable, Codable {
        /// Nothing left once a trailing newline is removed.
        case empty
        /// A byte outside printable ASCII: binary data, UTF-8 text, a control character.
        case notPrintableASCII = "not_printable_ascii"
    }

    public static func read(_ bytes: [UInt8]) -> Result<String, Refusal> {
        var body = bytes[...]
        if body.last == 0x0A {
            body = body.dropLast()
            if body.last == 0x0D { body = body.dropLast() }
        }
        guard !body.isEmpty else { return .failure(.empty) }
        guard body.allSatisfy({ (0x20...0x7E).contains($0) }) else { return .failure(.notPrintableASCII) }
        return .success(String(decoding: body, as: UTF8.self))
    }

    public static func text(_ bytes: [UInt8]) -> String? {
        try? read(bytes).get()
    }
}
