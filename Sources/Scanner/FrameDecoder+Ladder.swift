import Imaging

// The pass ladder's parts: engines, frame variants, passes, the ladders and their configuration.
extension FrameDecoder {
    package enum Engine: String, Sendable, CaseIterable {
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
    package enum Variant: String, Sendable, CaseIterable {
        case original, downscaled, inverted, invertedDownscaled, upscaled, invertedUpscaled
        /// Area-averaged to half the width and height: a still's moiré and sensor noise averaged out,
        /// at a quarter of the cost.
        case halved
        /// Smoothed at full size by a binomial kernel, about a Gaussian of σ 1 px (issue 26): under a veil of glare a few grey levels are
        /// left between dark and light modules and sensor noise flips single pixels, which is what
        /// zxing-cpp samples; averaged over a pixel's neighbours, the grid reads again.
        case smoothed
        /// Halved, then binarised against the mean of a 9-pixel window (`GrayImage.meanThresholded`):
        /// about two modules of a still, so each module is judged against its own neighbourhood, not
        /// against a block that a label, a smudge or a dead line across the code shares (issue 26).
        case halvedThresholded
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

    package struct Pass: Hashable, Sendable, CustomStringConvertible {
        package var engine: Engine
        package var variant: Variant
        package init(_ engine: Engine, _ variant: Variant) {
            self.engine = engine
            self.variant = variant
        }

        /// `zbar`, `zxing-inverted`, `zbar-downscaled`, …
        package var description: String {
            switch variant {
            case .original: engine.rawValue
            case .downscaled: "\(engine.rawValue)-downscaled"
            case .inverted: "\(engine.rawValue)-inverted"
            case .invertedDownscaled: "\(engine.rawValue)-inverted-downscaled"
            case .upscaled: "\(engine.rawValue)-upscaled"
            case .invertedUpscaled: "\(engine.rawValue)-inverted-upscaled"
            case .halved: "\(engine.rawValue)-halved"
            case .smoothed: "\(engine.rawValue)-smoothed"
            case .halvedThresholded: "\(engine.rawValue)-halved-thresholded"
            case .keystoneTop, .keystoneBottom, .keystoneLeft, .keystoneRight:
                "\(engine.rawValue)-keystone-\(variant.keystoneEdge!.rawValue)"
            }
        }

        package init?(_ name: String) {
            guard let pass = Self.all.first(where: { $0.description == name }) else { return nil }
            self = pass
        }

        package static let all = Engine.allCases.flatMap { engine in Variant.allCases.map { Pass(engine, $0) } }
    }

    /// The passes for one frame size: some on every frame, the rest spread over consecutive frames
    /// in turn, so that a frame's cost stays near the typical one while a code held up to the
    /// camera still meets every pass within `alternating.count` frames.
    package struct Ladder: Sendable, Equatable {
        package var everyFrame: [Pass]
        package var alternating: [[Pass]]

        package init(everyFrame: [Pass], alternating: [[Pass]] = []) {
            self.everyFrame = everyFrame
            self.alternating = alternating
        }

        /// Every pass, for a single image (a screenshot gets one chance, not a stream of them).
        package var all: [Pass] { everyFrame + alternating.flatMap { $0 } }

        /// The passes for the n-th frame of a stream (n counted from the last read).
        package func passes(forFrame n: Int) -> [Pass] {
            alternating.isEmpty ? everyFrame : everyFrame + alternating[n % alternating.count]
        }
    }

    package struct Configuration: Sendable {
        /// For frames whose longer side is at most `largeFrameLongSide` (640×480 cameras). Chosen by
        /// measurement on the phone-screen set (docs/qr-decoding.md): zxing-cpp on the 2× upscaled
        /// frame reads most codes, small ones included, and its histogram binariser on the frame as it
        /// is adds glare-washed ones; then, on alternate frames, either the inverted frame (dark-mode
        /// wallets) and the smoothed frame (a veil of glare under sensor noise, issue 26), or the
        /// inverted upscaled frame (small dark-mode codes). The smoothed frame took the place of a
        /// sparse zbar scan, which read no code the others missed with zxing-cpp 3.1, at about twice
        /// the smoothing's cost. The keystone corrections zxing-cpp 1.4 needed read nothing more with 3.1.
        package var ladder = Ladder(
            everyFrame: [Pass(.zxing, .upscaled), Pass(.zxingHistogram, .original)],
            alternating: [
                [Pass(.zxing, .inverted), Pass(.zxing, .smoothed)],
                [Pass(.zxing, .invertedUpscaled)],
            ])
        /// For larger frames (1280×720), where every pass costs about four times more: only the
        /// upscaled frame on every frame, so the slowest frame stays within 3× the median; the
        /// smoothed frame (issue 26) in the lighter turn.
        package var largeFrameLadder = Ladder(
            everyFrame: [Pass(.zxing, .upscaled)],
            alternating: [
                [Pass(.zxingHistogram, .upscaled), Pass(.zxing, .original)],
                [Pass(.zxing, .inverted), Pass(.zxing, .smoothed)],
            ])
        package var largeFrameLongSide = 960
        /// For still images: screenshots and photos (`decodeImage`). Chosen on the still-image set
        /// (docs/qr-decoding.md): zxing-cpp as it reads a photo by default (so the station reads at least
        /// what zxing-cpp alone does), its histogram threshold (glare, screenshots), the photo halved
        /// (moiré and noise averaged out); when those read nothing, the photo smoothed (a veil of glare
        /// under sensor noise, issue 26) and the photo halved and thresholded against each pixel's
        /// neighbourhood (a label, a smudge or a dead line across the code, issue 26); each code found
        /// but not read is retried enlarged.
        package var stillLadder = StillLadder(
            passes: [Pass(.zxingPhoto, .original), Pass(.zxingHistogram, .original), Pass(.zxing, .halved)],
            smallImagePasses: [Pass(.zxing, .upscaled), Pass(.zxingHistogram, .upscaled)],
            fallbackPasses: [Pass(.zxingPhoto, .smoothed), Pass(.zxing, .halvedThresholded)],
            retryEngines: [.zxing, .zxingHistogram])
        /// Frames with a longer side than this are downscaled to it for the downscaled passes.
        package var downscaleLongSide = 800
        /// Blur σ at a long side of 640 and 1000 px; interpolated (and extrapolated) by size.
        package var sigmaAt640 = 0.7
        package var sigmaAt1000 = 1.0
        /// How much the keystone variants shorten an edge of the frame.
        package var keystoneFraction = 0.25
        package init() {}

        /// One ladder for every frame size (tests, and benchmark runs that compare orders).
        package init(ladder: Ladder) {
            self.ladder = ladder
            self.largeFrameLadder = ladder
        }

        package func ladder(forLongSide longSide: Int) -> Ladder {
            longSide > largeFrameLongSide ? largeFrameLadder : ladder
        }

        func sigma(forLongSide longSide: Int) -> Double {
            sigmaAt640 + (Double(longSide) - 640) / 360 * (sigmaAt1000 - sigmaAt640)
        }
    }
}
