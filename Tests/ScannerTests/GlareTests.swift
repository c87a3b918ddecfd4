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
        #expect(decoder.decodeImage(frame).codes.map(\.text) == [text])
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
}
