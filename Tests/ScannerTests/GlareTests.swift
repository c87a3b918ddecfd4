import Imaging
import QRRendering
import Scanner
import TestSupport
import Testing

/// Issue 26: a phone under the clinic's ceiling lights. The reflection's veil, metered by the camera,
/// leaves a few grey levels between dark and light modules, and indoor sensor noise flips single pixels,
/// which is what zxing-cpp samples on its grid: the still ladder reads it smoothed.
@Suite("Glare: a veiled, noisy code")
struct GlareTests {
    /// A code at 5 px a module whose dark modules are 204 and light ones 228 (a veil), with noise of
    /// σ about 18 grey levels (the sum of four uniform draws, seeded).
    static func veiledNoisyCode(_ text: String) throws -> GrayImage {
        let code = try QRCode.alphanumeric(text).image(pixelsPerModule: 5)
        var frame = placed(code, width: 640, height: 480, x: 100, y: 40, background: 255)
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
