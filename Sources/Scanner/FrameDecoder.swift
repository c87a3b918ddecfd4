import Imaging

/// The pass ladder (issue 3): each frame is tried by a sequence of passes, each a decoder (zxing-cpp
/// with either of its binarisers, or zbar) on a variant of the frame: as it is; downscaled and lightly blurred (which removes the
/// moiré and sub-pixel stripes of phone screens that defeat zbar at full resolution); inverted, for
/// dark-mode wallets. It stops at the first pass that reads something. Payloads that are not
/// printable ASCII are dropped. The default order was chosen by measurement (Benchmarks/scan.sh).
package final class FrameDecoder {
    package let configuration: Configuration
    private let zxing = ZXingQRDecoder(binarizer: .localAverage)
    private let zxingHistogram = ZXingQRDecoder(binarizer: .globalHistogram)
    private let zxingPhoto = ZXingQRDecoder(options: .photoDefaults)
    private let zbar = ZBarQRDecoder()
    private let zbarSparse = ZBarQRDecoder(scanDensity: 2)
    private var consecutiveEmptyFrames = 0
    /// Payloads read but dropped, by why (issue 11: "its reason counted").
    package private(set) var droppedPayloads: [PrintableASCII.Refusal: Int] = [:]

    package init(configuration: Configuration = Configuration()) {
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
    package func decodeStreamFrame(_ frame: GrayImage) -> [DecodedCode] {
        let ladder = configuration.ladder(forLongSide: max(frame.width, frame.height))
        let codes = decode(frame, passes: ladder.passes(forFrame: consecutiveEmptyFrames))
        consecutiveEmptyFrames = codes.isEmpty ? consecutiveEmptyFrames + 1 : 0
        return codes
    }

    /// Decodes a PNG or JPEG file's bytes for the still ladder: a JPEG beyond the work bound is decoded
    /// reduced (a 48 MP photo at a quarter of its pixels), never whole; a PNG beyond it is averaged down
    /// here, so its full size is let go before the ladder runs rather than held beside it (issue 21: the
    /// daemon's peak memory). The bytes can go once this returns.
    package func decodeStill(encoded bytes: UnsafeRawBufferPointer) throws(ImageError) -> GrayImage.Decoded {
        var decoded = try GrayImage.decode(bytes, fittingPixels: configuration.stillLadder.maximumPixels)
        decoded.image = Self.withinWorkBound(decoded.image, maximumPixels: configuration.stillLadder.maximumPixels)
        return decoded
    }

    /// `image`, averaged down by area to at most `maximumPixels` when it is larger.
    static func withinWorkBound(_ image: GrayImage, maximumPixels: Int) -> GrayImage {
        guard image.width * image.height > maximumPixels else { return image }
        let scale = (Double(image.width * image.height) / Double(maximumPixels)).squareRoot()
        return image.resizedByArea(
            width: max(1, Int(Double(image.width) / scale)), height: max(1, Int(Double(image.height) / scale)))
    }

    /// Reads an image decoded by `decodeStill` with the still ladder; corners are in the file's image.
    package func decodeImage(_ decoded: GrayImage.Decoded) -> StillImageRead {
        var read = decodeImage(decoded.image)
        if decoded.image.width != decoded.width || decoded.image.height != decoded.height {
            let toImage = ToFrame.scaledAxes(decoded.width, decoded.image.width, decoded.height, decoded.image.height)
            read.codes = read.codes.map { $0.mapped(toImage) }
            read.reducedFrom = [decoded.width, decoded.height]
            read.size = [decoded.width, decoded.height]
        }
        return read
    }

    /// Reads a PNG or JPEG file with the still ladder. The file's bytes are let go before the ladder runs.
    package func decodeImage(contentsOf path: String) throws(ImageError) -> StillImageRead {
        let decoded = try GrayImage.fileBytes(path).withUnsafeBytes { buffer in
            Result { () throws(ImageError) in try decodeStill(encoded: buffer) }
        }.get()
        return decodeImage(decoded)
    }

    /// Decodes a still image (a screenshot, a photo) with the still ladder: every pass, the union of
    /// what they read, then the codes found but not read tried again, enlarged; when that reads nothing,
    /// the fallback passes, and their codes found but not read retried; within the work bound.
    package func decodeImage(_ image: GrayImage) -> StillImageRead {
        let ladder = configuration.stillLadder
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: ladder.timeBudget)
        // The work bound: a picture of more pixels is averaged down to the bound first.
        let frame = Self.withinWorkBound(image, maximumPixels: ladder.maximumPixels)
        let reduced = frame.width != image.width || frame.height != image.height
        var passes = ladder.passes
        if max(frame.width, frame.height) <= ladder.smallImageLongSide { passes += ladder.smallImagePasses }
        let retry = !ladder.retryEngines.isEmpty
        var found = run(frame, passes: passes, until: .everyPass(before: deadline), collectUnread: retry)
        var tried: [Box] = []
        if retry { retryUnread(in: frame, found: &found, tried: &tried, deadline: deadline) }
        // The fallback only where nothing was read, retried codes included, and no code was set aside
        // for its payload: it costs a whole reading of the image.
        if found.codes.isEmpty && found.ignored.isEmpty && !ladder.fallbackPasses.isEmpty {
            found.absorb(
                run(frame, passes: ladder.fallbackPasses, until: .everyPass(before: deadline), collectUnread: retry))
            if retry { retryUnread(in: frame, found: &found, tried: &tried, deadline: deadline) }
        }
        let toImage = ToFrame.scaledAxes(image.width, frame.width, image.height, frame.height)
        let codes = reduced ? found.codes.map { $0.mapped(toImage) } : found.codes
        return StillImageRead(
            size: [image.width, image.height], codes: codes, ignored: found.ignored.count, passesRun: found.passesRun,
            passesSkipped: found.passesSkipped,
            reducedFrom: reduced ? [image.width, image.height] : nil)
    }

    /// Each code the passes found but could not read, and no pass read, cut out with a margin, enlarged and
    /// read again (once per place: `tried`); none is started past `deadline`, and one not started is counted.
    private func retryUnread(
        in frame: GrayImage, found: inout Run, tried: inout [Box], deadline: ContinuousClock.Instant
    ) {
        let ladder = configuration.stillLadder
        for outline in found.unread where !found.codes.contains(where: { $0.overlaps(outline) }) {
            // Each pass may have found the same unread code: retry it once.
            guard let box = Box(outline), !tried.contains(where: { $0.intersects(box) }) else { continue }
            tried.append(box)
            // Past the budget a retry is not started, and the read is not complete.
            guard ContinuousClock.now < deadline else {
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
            found.absorb(retry)
        }
    }

    /// Runs `passes` in order and returns the codes of the first pass that reads any, or with
    /// `everyPass` the union of every pass's (a measurement of passes on their own).
    package func decode(_ frame: GrayImage, passes: [Pass], everyPass: Bool = false) -> [DecodedCode] {
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

        /// Adds another run over the same frame: its codes, what it found unread, its counts.
        mutating func absorb(_ other: Run) {
            merge(other.codes)
            unread += other.unread
            ignored += other.ignored.filter { box in !ignored.contains { $0.intersects(box) } }
            passesRun += other.passesRun
            passesSkipped += other.passesSkipped
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
        case .smoothed:
            made = (frame.binomialSmoothed(), .scaled(1))
        case .halvedThresholded:
            let half = self.variant(.halved, of: frame, cache: &cache)
            made = (half.image.meanThresholded(window: 9, offset: 2), half.toFrame)
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
