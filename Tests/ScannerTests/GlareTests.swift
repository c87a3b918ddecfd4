import Foundation
import Imaging
import QRRendering
import Scanner
import TestSupport
import Testing

/// Issue 26: a phone under the clinic's ceiling lights. The reflection's veil, metered by the camera,
/// leaves a few grey levels between dark and light modules, and indoor sensor noise flips single pixels,
/// which is what zxing-cpp samples on its grid: the still ladder, and a camera's stream in its turn, read it
/// smoothed. A phone that is not whole: a label over a finder pattern defeats the block thresholds, and the
/// still ladder reads it halved and thresholded against each pixel's neighbourhood.
@Suite("Glare and damage: a veiled, noisy code, a label over a finder")
struct GlareTests {
    /// A code at 5 px a module whose dark modules are 204 and light ones 228 (a veil), with noise of
    /// σ about 18 grey levels (the sum of four uniform draws, seeded).
    static func veiledNoisyCode(_ text: String, width: Int = 640, height: Int = 480) throws -> GrayImage {
        let code = try QRCode.alphanumeric(text).image(pixelsPerModule: 5)
        var frame = placed(code, width: width, height: height, x: 100, y: 40, background: 255)
        var generator = SeededGenerator(seed: 26)
        for index in frame.pixels.indices {
            let veiled = frame.pixels[index] < 128 ? 204.0 : 228.0
            let noise = (0..<4).reduce(0.0) { sum, _ in sum + Double.random(in: 0..<1, using: &generator) } - 2
            frame.pixels[index] = UInt8(max(0, min(255, (veiled + noise * 31).rounded())))
        }
        return frame
    }

    @Test("zxing-cpp as it reads a photo, and the halved photo, read nothing; smoothed, it reads; the still ladder does")
    func smoothedPassReadsAVeil() throws {
        let text = tokenText(length: 240, seed: 26)
        let frame = try Self.veiledNoisyCode(text)
        let decoder = FrameDecoder()
        #expect(decoder.decode(frame, passes: [.init(.zxingPhoto, .original), .init(.zxing, .halved)]).isEmpty)
        #expect(decoder.decode(frame, passes: [.init(.zxingPhoto, .smoothed)]).map(\.text) == [text])
        let read = decoder.decodeImage(frame).codes
        #expect(read.map(\.text) == [text] && read.first?.pass == "zxing-photo-smoothed", "\(read.map(\.pass))")
        // The same ladder without its fallback reads nothing: the smoothed photo is what reads it.
        var configuration = FrameDecoder.Configuration()
        configuration.stillLadder.fallbackPasses = []
        #expect(FrameDecoder(configuration: configuration).decodeImage(frame).codes.isEmpty)
    }

    @Test(
        "a camera's stream: the every-frame passes read nothing of a veiled, noisy frame; the smoothed pass in its turn reads it within two frames",
        arguments: [(640, 480), (1280, 720)])
    func cameraLadderReadsAVeil(width: Int, height: Int) throws {
        let text = tokenText(length: 240, seed: 26)
        let frame = try Self.veiledNoisyCode(text, width: width, height: height)
        let configuration = FrameDecoder.Configuration()
        let ladder = configuration.ladder(forLongSide: width)
        #expect(FrameDecoder().decode(frame, passes: ladder.everyFrame).isEmpty)
        let stream = FrameDecoder(configuration: configuration)
        var read = stream.decodeStreamFrame(frame)
        if read.isEmpty { read = stream.decodeStreamFrame(frame) }
        #expect(read.map(\.text) == [text] && read.first?.pass == "zxing-smoothed", "\(read.map(\.pass))")
        // Without the smoothed pass, two frames (every turn) read nothing: it is what reads the veil.
        func unsmoothed(_ ladder: FrameDecoder.Ladder) -> FrameDecoder.Ladder {
            .init(everyFrame: ladder.everyFrame, alternating: ladder.alternating.map { $0.filter { $0.variant != .smoothed } })
        }
        var without = configuration
        without.ladder = unsmoothed(configuration.ladder)
        without.largeFrameLadder = unsmoothed(configuration.largeFrameLadder)
        let unsmoothed = FrameDecoder(configuration: without)
        #expect(unsmoothed.decodeStreamFrame(frame).isEmpty && unsmoothed.decodeStreamFrame(frame).isEmpty)
    }

    /// A code on a phone with a label over one finder pattern and a dead pixel line, photographed at 6 px a
    /// module: the still set's damaged/013 (seed 1), cut to 1320×990 around the code (over the small-image
    /// size, so no upscaled pass runs) and saved again (JPEG quality 75).
    static let damagedText =
        "VHC1:RRQT 9O60GO0 D0MT4+SJ VL8CKD9B:70 TAXW5A69*98DF3RF0RF8DF3QF0EZ2Y6AE0RF19T5VVKNLDDF2KPY3AIM100892V%KPJDSF6KA7BL6VW6536K0DSJKA1T$PH.C3L56IES600LUD646846FA7//6I%6WA6G58$P98TND3Q1W0HQSY%8V-KRWBPKA-N58WTOZR.:G6X87VS8F4AFUWZCHK504AO39H+IX-AM32*ZMF03W-1QQPUJ99.LY%RP2"

    @Test("a label over a finder and a dead line: no pass of the ladder reads it, the halved, thresholded fallback does")
    func thresholdedFallbackReadsDamage() throws {
        let path = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil)).path
        let frame = try GrayImage.read(contentsOf: path + "/stills/damaged-label.jpg")
        let decoder = FrameDecoder()
        let ladder = decoder.configuration.stillLadder
        #expect(decoder.decode(frame, passes: ladder.passes + [.init(.zxingPhoto, .smoothed)], everyPass: true).isEmpty)
        #expect(decoder.decode(frame, passes: [.init(.zxing, .halvedThresholded)]).map(\.text) == [Self.damagedText])
        let read = decoder.decodeImage(frame).codes
        #expect(read.map(\.text) == [Self.damagedText] && read.first?.pass == "zxing-halved-thresholded", "\(read.map(\.pass))")
        // The ladder as it was before, retries and smoothed fallback included, reads nothing.
        var before = FrameDecoder.Configuration()
        before.stillLadder.fallbackPasses = [.init(.zxingPhoto, .smoothed)]
        #expect(FrameDecoder(configuration: before).decodeImage(frame).codes.isEmpty)
    }

    @Test("the mean threshold against a plain reference, edges clamped, on small sizes, windows and offsets")
    func meanThresholdEdges() {
        var generator = SeededGenerator(seed: 9)
        for (width, height, window, offset) in [(1, 1, 9, 2), (5, 3, 9, 2), (12, 7, 3, 0), (9, 9, 9, 2), (30, 1, 5, -3), (1, 30, 9, 2), (17, 13, 7, 5)] {
            var image = GrayImage(width: width, height: height, filledWith: 0)
            for index in image.pixels.indices { image.pixels[index] = UInt8.random(in: 0...255, using: &generator) }
            let reach = window / 2
            var expected: [UInt8] = []
            for y in 0..<height {
                for x in 0..<width {
                    var sum = 0
                    for dy in -reach...reach {
                        for dx in -reach...reach {
                            sum += Int(image[min(width - 1, max(0, x + dx)), min(height - 1, max(0, y + dy))])
                        }
                    }
                    // pixel > mean − offset
                    expected.append(Int(image[x, y]) * window * window > sum - offset * window * window ? 255 : 0)
                }
            }
            #expect(image.meanThresholded(window: window, offset: offset).pixels == expected, "\(width)×\(height), \(window)")
        }
        // A dark module under a bright veil is still darker than its neighbourhood: black.
        var veiled = GrayImage(width: 9, height: 9, filledWith: 230)
        veiled[4, 4] = 215
        #expect(veiled.meanThresholded(window: 9, offset: 2)[4, 4] == 0 && veiled.meanThresholded(window: 9, offset: 2)[0, 0] == 255)
    }

    @Test("the binomial smoothing: [1 4 6 4 1]/16 each way, rounded; flat areas and clamped edges unchanged")
    func binomialKernel() {
        var impulse = GrayImage(width: 9, height: 9, filledWith: 0)
        impulse[4, 4] = 255
        let smoothed = impulse.binomialSmoothed()
        let weights = [1, 4, 6, 4, 1]
        for y in 0..<9 {
            for x in 0..<9 {
                let dx = x - 2, dy = y - 2
                let weight = (0..<5).contains(dx) && (0..<5).contains(dy) ? weights[dx] * weights[dy] : 0
                #expect(Int(smoothed[x, y]) == (255 * weight + 128) >> 8, "at \(x),\(y)")
            }
        }
        let flat = GrayImage(width: 7, height: 3, filledWith: 93)
        #expect(flat.binomialSmoothed().pixels == flat.pixels)
    }

    @Test("the binomial smoothing against a plain reference, edges clamped, on every size from 1×1 to 7×7 and a row and a column")
    func binomialEdges() {
        var generator = SeededGenerator(seed: 5)
        let sizes = (1...7).flatMap { w in (1...7).map { (w, $0) } } + [(40, 1), (1, 40)]
        let weights = [1, 4, 6, 4, 1]
        for (width, height) in sizes {
            var image = GrayImage(width: width, height: height, filledWith: 0)
            for index in image.pixels.indices { image.pixels[index] = UInt8.random(in: 0...255, using: &generator) }
            var expected: [UInt8] = []
            for y in 0..<height {
                for x in 0..<width {
                    var sum = 0
                    for dy in -2...2 {
                        for dx in -2...2 {
                            let pixel = image[min(width - 1, max(0, x + dx)), min(height - 1, max(0, y + dy))]
                            sum += Int(pixel) * weights[dx + 2] * weights[dy + 2]
                        }
                    }
                    expected.append(UInt8((sum + 128) >> 8))
                }
            }
            #expect(image.binomialSmoothed().pixels == expected, "\(width)×\(height)")
        }
    }
}
