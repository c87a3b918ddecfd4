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
        let read = FrameDecoder().decodeImage(frame)
        #expect(read.map(\.text) == [text], "version \(version) at \(pixelsPerModule) px/module")
    }

    @Test("a real-size token is read at any rotation", arguments: [0.0, 7, 30, 45, 90, 135, 200, 311])
    func rotations(degrees: Double) throws {
        let text = tokenText(length: 269, seed: 9)
        let image = try QRCode.alphanumeric(text).image(pixelsPerModule: 4).rotated(degrees: degrees)
        let frame = placed(image, width: 640, height: 480, x: (640 - image.width) / 2, y: (480 - image.height) / 2)
        let read = FrameDecoder().decodeImage(frame)
        #expect(read.map(\.text) == [text])
        #expect(read.first?.corners.count == 4)
    }

    @Test("corners are in the original frame's coordinates, whichever pass read it")
    func corners() throws {
        let text = tokenText(length: 100, seed: 3)
        let symbol = try QRCode.alphanumeric(text).image(pixelsPerModule: 6, quietZoneModules: 4)
        let frame = placed(symbol, width: 1280, height: 720, x: 400, y: 100)
        let quiet = 4 * 6
        for pass in FrameDecoder.Pass.all
        where pass.variant != .inverted && pass.variant != .invertedDownscaled && pass.variant != .invertedUpscaled {
            let read = try #require(FrameDecoder().decode(frame, passes: [pass]).first)
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
        #expect(FrameDecoder().decodeImage(frame.gaussianBlurred(sigma: sigma)).map(\.text) == [text])
    }

    @Test("dark mode: an inverted code is read by the inverted pass")
    func inverted() throws {
        let text = tokenText(length: 250, seed: 5)
        let frame = placed(
            try QRCode.alphanumeric(text).image(pixelsPerModule: 4), width: 640, height: 480, x: 150, y: 60
        )
        .inverted()
        let read = FrameDecoder().decodeImage(frame)
        #expect(read.map(\.text) == [text])
        #expect(read.first?.pass.contains("inverted") == true)
        #expect(
            FrameDecoder().decode(
                frame, passes: [.init(.zxing, .original), .init(.zbar, .original), .init(.zbar, .downscaled)]
            ).isEmpty)
    }

    @Test("in a stream the inverted pass runs on every third empty frame")
    func streamInversion() throws {
        let text = tokenText(length: 100, seed: 6)
        let frame = placed(
            try QRCode.alphanumeric(text).image(pixelsPerModule: 4), width: 640, height: 480, x: 50, y: 50
        )
        .inverted()
        let decoder = FrameDecoder()
        #expect(decoder.decodeStreamFrame(frame).isEmpty)
        #expect(decoder.decodeStreamFrame(frame).isEmpty)
        #expect(decoder.decodeStreamFrame(frame).map(\.text) == [text])
    }

    @Test("non-ASCII and binary payloads are dropped; printable ones in byte mode are kept")
    func payloadFilter() throws {
        func read(_ bytes: [UInt8]) throws -> [DecodedCode] {
            FrameDecoder().decodeImage(
                placed(try QRCode.bytes(bytes).image(pixelsPerModule: 4), width: 400, height: 400, x: 20, y: 20))
        }
        #expect(try read(Array("王小明 A123456789".utf8)).isEmpty)
        #expect(try read([0x00, 0x01, 0xFF, 0x80, 0x41]).isEmpty)
        #expect(try read(Array("line\nbreak".utf8)).isEmpty)
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
            #expect(decoder.decodeImage(frame).isEmpty)
            #expect(decoder.decodeImage(frame.gaussianBlurred(sigma: 2)).isEmpty)
        }
    }

    @Test("two codes in one frame are both read")
    func twoCodes() throws {
        let a = tokenText(length: 60, seed: 10), b = tokenText(length: 60, seed: 11)
        var frame = placed(try QRCode.alphanumeric(a).image(pixelsPerModule: 4), width: 800, height: 400, x: 10, y: 10)
        let second = try QRCode.alphanumeric(b).image(pixelsPerModule: 4)
        for y in 0..<second.height { for x in 0..<second.width { frame[420 + x, 10 + y] = second[x, y] } }
        #expect(Set(FrameDecoder().decodeImage(frame).map(\.text)) == [a, b])
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
