import Foundation
import Imaging
import QRRendering
import Scanner
import TestSupport
import Testing

/// A token-like text of `length` characters in the QR alphanumeric set.
func tokenText(length: Int, seed: UInt64) -> String {
    var g = SeededGenerator(seed: seed)
    let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
    return "VHC1:" + String((0..<max(0, length - 5)).map { _ in alphabet.randomElement(using: &g)! })
}

/// `image` pasted onto a mid-grey canvas of `width × height` at (`x`, `y`).
func placed(_ image: GrayImage, width: Int, height: Int, x: Int, y: Int, background: UInt8 = 128) -> GrayImage {
    var canvas = GrayImage(width: width, height: height, filledWith: background)
    for row in 0..<image.height where y + row >= 0 && y + row < height {
        for column in 0..<image.width where x + column >= 0 && x + column < width {
            canvas[x + column, y + row] = image[column, row]
        }
    }
    return canvas
}

@Suite("QR decoder and its pass ladder")
struct DecoderTests {
    @Test(
        "generated codes of many versions and module sizes are read",
        arguments: [
            (1, 4), (3, 3), (5, 2), (7, 3), (10, 2), (11, 3), (13, 2), (13, 4), (17, 3), (20, 2), (25, 2),
        ])
    func versionsAndSizes(version: Int, pixelsPerModule: Int) throws {
        let text = tokenText(length: 14, seed: UInt64(version))  // fits version 1 at ECC Q (16 characters)
        let code = try QRCode.alphanumeric(text, minimumVersion: version)
        #expect(code.version == version)
        let frame = placed(code.image(pixelsPerModule: pixelsPerModule), width: 640, height: 480, x: 30, y: 20)
        let read = FrameDecoder().decodeImage(frame).codes
        #expect(read.map(\.text) == [text], "version \(version) at \(pixelsPerModule) px/module")
    }

    @Test("a real-size token is read at any rotation", arguments: [0.0, 7, 30, 45, 90, 135, 200, 311])
    func rotations(degrees: Double) throws {
        let text = tokenText(length: 269, seed: 9)
        let image = try QRCode.alphanumeric(text).image(pixelsPerModule: 4).rotated(degrees: degrees)
        let frame = placed(image, width: 640, height: 480, x: (640 - image.width) / 2, y: (480 - image.height) / 2)
        let read = FrameDecoder().decodeImage(frame).codes
        #expect(read.map(\.text) == [text])
        #expect(read.first?.corners.count == 4)
    }

    @Test("corners are in the original frame's coordinates, whichever pass read it")
    func corners() throws {
        let text = tokenText(length: 100, seed: 3)
        for pass in FrameDecoder.Pass.all
        where pass.variant != .inverted && pass.variant != .invertedDownscaled && pass.variant != .invertedUpscaled
            && pass.description != "zbar-sparse-halved-thresholded"
        {
            // The mean threshold's 9-pixel window is for a photo's modules: on a clean code with modules of
            // 3 px or more once halved, a finder's dark core fills the window and turns white. (Its modules,
            // 2.5 px halved, are too few rows for zbar scanning every second one.)
            let module = pass.variant == .halvedThresholded ? 5 : 6
            let symbol = try QRCode.alphanumeric(text).image(pixelsPerModule: module, quietZoneModules: 4)
            let frame = placed(symbol, width: 1280, height: 720, x: 400, y: 100)
            let quiet = 4 * module
            let read = try #require(FrameDecoder().decode(frame, passes: [pass]).first, "\(pass)")
            let xs = read.corners.map { $0[0] }, ys = read.corners.map { $0[1] }
            // The symbol's modules span from 400 + quiet to 400 + side - quiet; allow a few pixels.
            #expect(abs(xs.min()! - (400 + quiet)) <= 6, "\(pass): \(read.corners)")
            #expect(abs(xs.max()! - (400 + symbol.width - quiet)) <= 6, "\(pass): \(read.corners)")
            #expect(abs(ys.min()! - (100 + quiet)) <= 6, "\(pass): \(read.corners)")
        }
    }

    @Test("blurred codes are read", arguments: [0.6, 1.0, 1.5])
    func blur(sigma: Double) throws {
        let text = tokenText(length: 250, seed: 4)
        let frame = placed(
            try QRCode.alphanumeric(text).image(pixelsPerModule: 5), width: 640, height: 480, x: 150, y: 60)
        #expect(FrameDecoder().decodeImage(frame.gaussianBlurred(sigma: sigma)).codes.map(\.text) == [text])
    }

    @Test("dark mode: an inverted code is read by the still ladder and by the inverted pass, by no other")
    func inverted() throws {
        let text = tokenText(length: 250, seed: 5)
        let frame = placed(
            try QRCode.alphanumeric(text).image(pixelsPerModule: 4), width: 640, height: 480, x: 150, y: 60
        )
        .inverted()
        #expect(FrameDecoder().decodeImage(frame).codes.map(\.text) == [text])
        #expect(FrameDecoder().decode(frame, passes: [.init(.zxing, .inverted)]).map(\.text) == [text])
        #expect(
            FrameDecoder().decode(
                frame, passes: [.init(.zxing, .original), .init(.zbar, .original), .init(.zbar, .downscaled)]
            ).isEmpty)
    }

    @Test("in a stream a dark-mode code is read within two frames, whatever the stream's turn", arguments: 0..<4)
    func streamInversion(emptyFramesBefore: Int) throws {
        let text = tokenText(length: 100, seed: 6)
        let code = try QRCode.alphanumeric(text).image(pixelsPerModule: 4)
        let frame = placed(code, width: 640, height: 480, x: 50, y: 50).inverted()
        let decoder = FrameDecoder()
        let empty = GrayImage(width: 640, height: 480, filledWith: 40)
        for _ in 0..<emptyFramesBefore { #expect(decoder.decodeStreamFrame(empty).isEmpty) }
        let first = decoder.decodeStreamFrame(frame)
        let read = first.isEmpty ? decoder.decodeStreamFrame(frame) : first
        #expect(read.map(\.text) == [text])
        #expect(read.first?.pass.contains("inverted") == true)
    }

    @Test("a stream frame runs the every-frame passes and one turn of the alternating ones")
    func streamTurns() {
        let ladder = FrameDecoder.Ladder(
            everyFrame: [.init(.zxing, .upscaled)],
            alternating: [[.init(.zxing, .inverted)], [.init(.zbar, .original), .init(.zxing, .keystoneTop)]])
        #expect(ladder.passes(forFrame: 0).map(\.description) == ["zxing-upscaled", "zxing-inverted"])
        #expect(ladder.passes(forFrame: 3).map(\.description) == ["zxing-upscaled", "zbar", "zxing-keystone-top"])
        #expect(ladder.all.count == 4)
        #expect(FrameDecoder.Ladder(everyFrame: [.init(.zbar, .original)]).passes(forFrame: 7).count == 1)
        // Every pass of the default ladders runs within as many frames as there are turns.
        for ladder in [FrameDecoder.Configuration().ladder, FrameDecoder.Configuration().largeFrameLadder] {
            let seen = Set((0..<ladder.alternating.count).flatMap { ladder.passes(forFrame: $0) })
            #expect(seen == Set(ladder.all))
        }
    }

    @Test(
        "steeply tilted phone photos are read after a keystone correction, with corners back in the frame",
        arguments: [("tilt-640-002.jpg", FrameDecoder.Variant.keystoneBottom), ("tilt-640-018.jpg", .keystoneTop)])
    func keystone(file: String, variant: FrameDecoder.Variant) throws {
        // Two images of the phone-screen benchmark set (seed 1): 33° tilt at 4.3 and 4.7 camera pixels per module.
        let folder =
            try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil)).path + "/phone-screens/"
        let truth = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: folder + "truth.json")))
        let text = try #require(
            ((truth as? [String: Any])?["images"] as? [String: [String: Any]])?[file]?["text"] as? String)
        let frame = try GrayImage.read(contentsOf: folder + file)
        // zxing-cpp 1.4 read neither as they are; 3.1 reads both, and the correction must not lose them.
        let decoder = FrameDecoder()
        let read = try #require(decoder.decode(frame, passes: [.init(.zxing, variant)]).first)
        #expect(read.text == text)
        // The corners come back in the frame's coordinates: inside it, around a quadrilateral of real size.
        for corner in read.corners { #expect((0..<640).contains(corner[0]) && (0..<480).contains(corner[1])) }
        let xs = read.corners.map { $0[0] }, ys = read.corners.map { $0[1] }
        #expect(xs.max()! - xs.min()! > 150 && ys.max()! - ys.min()! > 150, "\(read.corners)")
        // And the stream ladder reads it within two frames.
        let stream = FrameDecoder()
        let first = stream.decodeStreamFrame(frame)
        #expect((first.isEmpty ? stream.decodeStreamFrame(frame) : first).map(\.text) == [text])
    }

    @Test(
        "the still ladder's work bound: a picture over the pixel bound is read reduced; a spent budget starts no pass")
    func stillWorkBound() throws {
        let text = tokenText(length: 250, seed: 21)
        let image = placed(
            try QRCode.alphanumeric(text).image(pixelsPerModule: 9), width: 2400, height: 1800, x: 900, y: 500)
        var configuration = FrameDecoder.Configuration()
        configuration.stillLadder.maximumPixels = 1_000_000
        let reduced = FrameDecoder(configuration: configuration).decodeImage(image)
        #expect(reduced.codes.map(\.text) == [text])
        #expect(reduced.reducedFrom == [2400, 1800])
        // Corners in the picture's own coordinates: the code's top-left is near (900 + 4 × 9, 500 + 4 × 9).
        let corners = try #require(reduced.codes.first?.corners)
        #expect(abs(corners.map { $0[0] }.min()! - 936) < 12 && abs(corners.map { $0[1] }.min()! - 536) < 12)

        configuration.stillLadder.timeBudget = .zero
        let spent = FrameDecoder(configuration: configuration).decodeImage(image)
        #expect(spent.codes.isEmpty && spent.passesRun == 0)
        #expect(spent.passesSkipped >= configuration.stillLadder.passes.count)
    }

    @Test("a JPEG beyond the work bound is decoded reduced by TurboJPEG; corners come back in its own pixels")
    func reducedJPEG() throws {
        let text = tokenText(length: 250, seed: 22)
        let photo = placed(
            try QRCode.alphanumeric(text).image(pixelsPerModule: 12), width: 4800, height: 3600, x: 2000, y: 1500)
        let jpeg = try photo.jpegData(quality: 90)
        let decoded = try jpeg.withUnsafeBytes { bytes throws(ImageError) in
            try GrayImage.decode(bytes, fittingPixels: 16_000_000)
        }
        #expect(decoded.reduction == 2 && decoded.image.width == 2400 && decoded.image.height == 1800)
        #expect(decoded.width == 4800 && decoded.height == 3600)
        let read = FrameDecoder().decodeImage(
            try jpeg.withUnsafeBytes { bytes throws(ImageError) in try FrameDecoder().decodeStill(encoded: bytes) })
        #expect(read.codes.map(\.text) == [text])
        #expect(read.size == [4800, 3600] && read.reducedFrom == [4800, 3600])
        // The code's top-left module is at (2000 + 4 × 12, 1500 + 4 × 12) in the photo's own pixels.
        let corners = try #require(read.codes.first?.corners)
        #expect(abs(corners.map { $0[0] }.min()! - 2048) < 16 && abs(corners.map { $0[1] }.min()! - 1548) < 16)
    }

    @Test("a still is read by every pass: codes that different passes read are all returned, each once")
    func stillUnion() throws {
        // One code in dark mode (the photo pass reads it, with its inverted retry) and one small code that
        // only the region retry or the upscaled passes read, beside a plain one.
        let plain = tokenText(length: 120, seed: 31), dark = tokenText(length: 120, seed: 32)
        var image = placed(
            try QRCode.alphanumeric(plain).image(pixelsPerModule: 4), width: 1200, height: 800, x: 40, y: 40)
        let darkCode = try QRCode.alphanumeric(dark).image(pixelsPerModule: 4).inverted()
        for row in 0..<darkCode.height {
            for column in 0..<darkCode.width { image[700 + column, 300 + row] = darkCode[column, row] }
        }
        let first = FrameDecoder().decode(image, passes: [.init(.zxing, .original)])
        #expect(first.map(\.text) == [plain])  // a camera frame's ladder would stop here
        let read = FrameDecoder().decodeImage(image)
        #expect(Set(read.codes.map(\.text)) == [plain, dark])
        #expect(read.codes.count == 2 && read.passesSkipped == 0)
    }

    @Test("non-ASCII and binary payloads are dropped with their reason counted; printable ones in byte mode are kept")
    func payloadFilter() throws {
        func read(_ bytes: [UInt8]) throws -> [DecodedCode] {
            let decoder = FrameDecoder()
            let read = decoder.decodeImage(
                placed(try QRCode.bytes(bytes).image(pixelsPerModule: 4), width: 400, height: 400, x: 20, y: 20))
            // A dropped code is counted once in the image, whichever passes read it, and by its reason.
            #expect(read.ignored == (read.codes.isEmpty ? 1 : 0))
            #expect((decoder.droppedPayloads[.notPrintableASCII] ?? 0 > 0) == read.codes.isEmpty)
            return read.codes
        }
        #expect(try read(Array("王小明 A123456789".utf8)).isEmpty)
        #expect(try read([0x00, 0x01, 0xFF, 0x80, 0x41]).isEmpty)
        #expect(try read(Array("line\nbreak".utf8)).isEmpty)
        #expect(PrintableASCII.read(Array("\n".utf8)) == .failure(.empty))
        #expect(PrintableASCII.read([0x41, 0xC3, 0xA9]) == .failure(.notPrintableASCII))
        // One trailing newline is the profile's (§1): kept out of the text, as a verifier would remove it.
        #expect(try read(Array("VHC1:ABC\n".utf8)).map(\.text) == ["VHC1:ABC"])
        #expect(try read(Array("VHC1:ABC\r\n".utf8)).map(\.text) == ["VHC1:ABC"])
        #expect(try read(Array("VHC1:ABC\n\n".utf8)).isEmpty)
        #expect(PrintableASCII.text(Array("\r\n".utf8)) == nil && PrintableASCII.text(Array("\n".utf8)) == nil)
        #expect(PrintableASCII.text(Array("A\r".utf8)) == nil)
        #expect(try read(Array("https://example.org/a?b=c".utf8)).map(\.text) == ["https://example.org/a?b=c"])
        #expect(PrintableASCII.text([]) == nil)
        #expect(PrintableASCII.text(Array(" ~".utf8)) == " ~")
    }

    @Test("no false reads on noise frames", arguments: 0..<6)
    func noise(seed: Int) {
        var g = SeededGenerator(seed: UInt64(seed))
        let decoder = FrameDecoder()
        for _ in 0..<5 {
            let base = Int.random(in: 0...255, using: &g)
            let spread = Int.random(in: 8...255, using: &g)
            let pixels = (0..<(640 * 480)).map { _ in
                UInt8(clamping: base + Int.random(in: -spread...spread, using: &g))
            }
            let frame = GrayImage(width: 640, height: 480, pixels: pixels)
            #expect(decoder.decodeImage(frame).codes.isEmpty)
            #expect(decoder.decodeImage(frame.gaussianBlurred(sigma: 2)).codes.isEmpty)
        }
    }

    @Test("two codes in one frame are both read")
    func twoCodes() throws {
        let a = tokenText(length: 60, seed: 10), b = tokenText(length: 60, seed: 11)
        var frame = placed(try QRCode.alphanumeric(a).image(pixelsPerModule: 4), width: 800, height: 400, x: 10, y: 10)
        let second = try QRCode.alphanumeric(b).image(pixelsPerModule: 4)
        for y in 0..<second.height { for x in 0..<second.width { frame[420 + x, 10 + y] = second[x, y] } }
        #expect(Set(FrameDecoder().decodeImage(frame).codes.map(\.text)) == [a, b])
    }

    @Test("de-duplication: once per window, the window restarts on each sighting")
    func deduplication() {
        var recent = RecentPayloads(window: 5)
        let sightings: [(String, Double, Bool)] = [
            ("A", 0, true), ("A", 1, false), ("B", 1.5, true),
            ("A", 5.9, false),  // seen at 1: still inside the window
            ("A", 10.8, false),  // seen at 5.9: still inside
            ("A", 16, true), ("B", 16, true),
        ]
        for (text, time, expected) in sightings {
            let new = recent.isNew(text, at: time)
            #expect(new == expected, "\(text) at \(time)")
        }
    }
}

@Suite("Image operations")
struct ImageOperationTests {
    @Test("a homography maps its four points exactly; collinear points have none")
    func homography() throws {
        let from: [(x: Double, y: Double)] = [(0, 0), (100, 0), (100, 80), (0, 80)]
        let to: [(x: Double, y: Double)] = [(10, 5), (90, -3), (120, 95), (-7, 70)]
        let h = try #require(Homography(from: from, to: to))
        for (p, q) in zip(from, to) {
            let mapped = h.apply(x: p.x, y: p.y)
            #expect(abs(mapped.x - q.x) < 1e-9 && abs(mapped.y - q.y) < 1e-9)
        }
        #expect(Homography(from: [(0, 0), (1, 1), (2, 2), (0, 5)], to: to) == nil)
        #expect(Homography(from: Array(from.prefix(3)), to: Array(to.prefix(3))) == nil)
    }

    @Test("a keystone correction of nothing is the image itself; one of a quarter moves the edge inwards")
    func keystoneWarp() {
        var g = SeededGenerator(seed: 8)
        let image = GrayImage(
            width: 64, height: 48, pixels: (0..<(64 * 48)).map { _ in UInt8.random(in: 0...255, using: &g) })
        #expect(image.keystoneCorrected(shortening: .left, by: 0).image == image)
        // A white frame with a black top row: shortening the top keeps the row but narrows where
        // it comes from, so the top corners of the result repeat the frame's white edge columns.
        var bars = GrayImage(width: 64, height: 48, filledWith: 255)
        for x in 8..<56 { bars[x, 0] = 0 }
        let corrected = bars.keystoneCorrected(shortening: .top, by: 0.25)
        #expect(corrected.image.width == 64 && corrected.image.height == 48)
        #expect(corrected.image[32, 0] < 128)
        let back = corrected.toSource.apply(x: 64 * 0.125, y: 0)
        #expect(abs(back.x) < 1e-9 && abs(back.y) < 1e-9)
    }

    @Test("inversion reverses every grey level")
    func inversion() {
        let image = GrayImage(width: 256, height: 1, pixels: (0...255).map { UInt8($0) })
        #expect(image.inverted().pixels == (0...255).reversed().map { UInt8($0) })
    }

    @Test("the integer 2× upscale equals the general bilinear one within rounding")
    func upscaleTwice() {
        var g = SeededGenerator(seed: 5)
        let image = GrayImage(
            width: 37, height: 23, pixels: (0..<(37 * 23)).map { _ in UInt8.random(in: 0...255, using: &g) })
        let fast = image.upscaled(by: 2)
        #expect(fast.width == 74 && fast.height == 46)
        for y in 0..<46 {
            for x in 0..<74 {
                let reference = image.bilinear(
                    x: max(0, (Double(x) + 0.5) / 2 - 0.5), y: max(0, (Double(y) + 0.5) / 2 - 0.5))!
                #expect(abs(Int(fast[x, y]) - Int(reference)) <= 1, "(\(x), \(y))")
            }
        }
    }
}
