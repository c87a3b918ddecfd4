import Imaging
import TestSupport
import Testing

/// The markers read before a JPEG is decoded (issue 21: a 769 KiB progressive JPEG took the daemon to
/// 450 MiB, its coefficients held whole).
@Suite("JPEG layout: progressive and multi-scan images are known, and held to their memory bound, before decoding")
struct JPEGLayoutTests {
    static func layout(_ bytes: [UInt8]) -> JPEGLayout? { bytes.withUnsafeBytes { JPEGLayout.read($0) } }

    @Test("a baseline JPEG is one scan and buffers nothing; a progressive one is several and buffers 2 bytes a pixel")
    func baselineAndProgressive() throws {
        let image = GrayImage(width: 640, height: 480, filledWith: 90)
        let baseline = try #require(Self.layout(try image.jpegData()))
        #expect(baseline.width == 640 && baseline.height == 480 && !baseline.progressive && baseline.scans == 1)
        #expect(!baseline.buffersWholeImage && baseline.sampling.count == 1)
        let progressive = try #require(Self.layout(try image.jpegData(progressive: true)))
        #expect(progressive.progressive && progressive.scans > 1 && progressive.buffersWholeImage)
        #expect(progressive.coefficientBytes == 80 * 60 * 128)
    }

    @Test("a progressive JPEG over the coefficient bound is refused before decoding; the same baseline is read reduced")
    func progressiveOverTheBound() throws {
        // 6,400 × 4,000 grey: 51 MB of coefficients when progressive, over the 48 MiB bound.
        let image = GrayImage(width: 6400, height: 4000, filledWith: 200)
        let progressive = try image.jpegData(quality: 50, progressive: true)
        let refused = progressive.withUnsafeBytes { bytes in
            Result { () throws(ImageError) in try GrayImage.decode(bytes, fittingPixels: 16_000_000) }
        }
        guard case .failure(let error) = refused else {
            Issue.record("a progressive 25.6 MP JPEG was decoded")
            return
        }
        #expect(error.code == .badDimensions && error.message.contains("progressive JPEG of 6400×4000"))
        let baseline = try image.jpegData(quality: 50)
        let decoded = try baseline.withUnsafeBytes { bytes throws(ImageError) in
            try GrayImage.decode(bytes, fittingPixels: 16_000_000)
        }
        #expect(decoded.reduction == 2 && decoded.width == 6400)
    }

    @Test("a cut file still shows its frame and first scans; garbage and a bare SOI give nothing, never a crash")
    func damagedFiles() throws {
        let progressive = try GrayImage(width: 320, height: 240, filledWith: 10).jpegData(progressive: true)
        let cut = Self.layout(Array(progressive.prefix(progressive.count * 6 / 10)))
        #expect(cut?.progressive == true && cut?.width == 320)
        #expect(Self.layout([0xFF, 0xD8]) == nil)
        #expect(Self.layout([0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x02]) == nil, "a frame header with no fields")
        var generator = SeededGenerator(seed: 21)
        for length in [3, 17, 400, 5000] {
            for _ in 0..<200 {
                let noise = [0xFF, 0xD8] + (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                _ = Self.layout(noise)
                var mutated = progressive
                mutated[Int.random(in: 2..<mutated.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                _ = Self.layout(mutated)
            }
        }
    }

    @Test("a sequential JPEG whose first scan leaves components for later is buffered whole, as libjpeg does")
    func nonInterleavedFirstScan() throws {
        // SOI; SOF0 16384×4096 with three components at 1×1; SOS naming one component; data; EOI.
        var bytes: [UInt8] = [0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x10, 0x00, 0x40, 0x00, 0x03]
        bytes += [0x01, 0x11, 0x00, 0x02, 0x11, 0x00, 0x03, 0x11, 0x00]
        bytes += [0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00, 0x12, 0x34, 0xFF, 0x00, 0x56]
        bytes += [0xFF, 0xD9]
        let layout = try #require(Self.layout(bytes))
        #expect(!layout.progressive && layout.scans == 1 && layout.firstScanComponents == 1)
        #expect(layout.buffersWholeImage && layout.coefficientBytes == 3 * 2048 * 512 * 128)
    }

    @Test("junk where a marker should be is skipped, as libjpeg skips it: the layout is still read")
    func junkBetweenSegments() throws {
        var progressive = try GrayImage(width: 320, height: 240, filledWith: 10).jpegData(progressive: true)
        // After SOI and the first segment (APP0 or DQT), three stray bytes.
        let firstLength = Int(progressive[4]) << 8 | Int(progressive[5])
        progressive.insert(contentsOf: [0x00, 0x13, 0x37], at: 4 + firstLength)
        let layout = try #require(Self.layout(progressive))
        #expect(layout.progressive && layout.width == 320)
    }

}
