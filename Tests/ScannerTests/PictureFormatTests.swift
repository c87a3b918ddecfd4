import Foundation
import Imaging
import QRRendering
import TestSupport
import Testing

/// A picture as a telemedicine clinician gives it (issue 23): a phone's JPEG stored sideways with its EXIF
/// orientation, an iPhone's HEIC; each read upright.
@Suite("Pictures: EXIF orientation applied, HEIC decoded")
struct PictureFormatTests {
    /// 3 × 2, every pixel its own value: where each lands says how the image was turned.
    static let sample = GrayImage(width: 3, height: 2, pixels: [1, 2, 3, 4, 5, 6])

    @Test("each of the eight orientations turns the stored pixels as TIFF 6.0 says", arguments: ImageOrientation.allCases)
    func orientations(_ orientation: ImageOrientation) {
        // The stored 1 2 3 / 4 5 6 as it is meant to be seen (written out from the tag's definition).
        let expected: [ImageOrientation: (Int, Int, [UInt8])] = [
            .upright: (3, 2, [1, 2, 3, 4, 5, 6]), .mirrored: (3, 2, [3, 2, 1, 6, 5, 4]),
            .upsideDown: (3, 2, [6, 5, 4, 3, 2, 1]), .flipped: (3, 2, [4, 5, 6, 1, 2, 3]),
            .transposed: (2, 3, [1, 4, 2, 5, 3, 6]), .rotatedClockwise: (2, 3, [4, 1, 5, 2, 6, 3]),
            .transverse: (2, 3, [6, 3, 5, 2, 4, 1]), .rotatedAnticlockwise: (2, 3, [3, 6, 2, 5, 1, 4]),
        ]
        let (width, height, pixels) = expected[orientation]!
        #expect(Self.sample.oriented(orientation) == GrayImage(width: width, height: height, pixels: pixels))
    }

    /// `jpeg` with an APP1 Exif segment saying `orientation`, in either byte order, right after SOI.
    static func withExif(_ jpeg: [UInt8], orientation: Int, bigEndian: Bool = true) -> [UInt8] {
        func two(_ value: Int) -> [UInt8] {
            bigEndian ? [UInt8(value >> 8), UInt8(value & 0xFF)] : [UInt8(value & 0xFF), UInt8(value >> 8)]
        }
        func four(_ value: Int) -> [UInt8] { bigEndian ? [0, 0] + two(value) : two(value) + [0, 0] }
        let tiff: [UInt8] =
            (bigEndian ? Array("MM".utf8) : Array("II".utf8)) + two(42) + four(8) + two(1)
            + two(0x0112) + two(3) + four(1) + two(orientation) + [0, 0] + four(0)
        let body = Array("Exif\0\0".utf8) + tiff
        let segment: [UInt8] = [0xFF, 0xE1, UInt8((body.count + 2) >> 8), UInt8((body.count + 2) & 0xFF)] + body
        return Array(jpeg.prefix(2)) + segment + Array(jpeg.dropFirst(2))
    }

    @Test("a JPEG stored sideways with orientation 6 (either byte order) decodes upright; none or a broken one is left as stored")
    func exifJPEG() throws {
        let upright = GrayImage(width: 64, height: 32, pixels: (0..<(64 * 32)).map { UInt8(($0 % 64) * 3) })
        let stored = try upright.oriented(.rotatedAnticlockwise).jpegData(quality: 100)
        for bigEndian in [true, false] {
            let bytes = Self.withExif(stored, orientation: 6, bigEndian: bigEndian)
            let decoded = try bytes.withUnsafeBytes { buffer in
                try Result { () throws(ImageError) in try GrayImage.decode(buffer, fittingPixels: nil) }.get()
            }
            #expect(decoded.width == 64 && decoded.height == 32 && decoded.image.width == 64)
            // JPEG is lossy: the left and right edges' brightness tell which way round it is.
            #expect(decoded.image[2, 16] < 30 && decoded.image[61, 16] > 150, "byte order big-endian: \(bigEndian)")
        }
        #expect(stored.withUnsafeBytes { ImageOrientation.ofJPEG($0) } == .upright)
        var broken = Self.withExif(stored, orientation: 6)
        broken[12] = 0x58  // "MX": not a TIFF byte order
        #expect(broken.withUnsafeBytes { ImageOrientation.ofJPEG($0) } == .upright)
        let cut = Array(Self.withExif(stored, orientation: 6).prefix(20))
        #expect(cut.withUnsafeBytes { ImageOrientation.ofJPEG($0) } == .upright)
    }

    /// A HEIC of `image`.
    static func heic(_ image: GrayImage) throws -> [UInt8] {
        let folder = try TemporaryFolder(prefix: "vhc-heic")
        try image.writePNG(to: folder.path("in.png"))
        return try HEIFEncoder.encode(png: folder.path("in.png"))
    }

    @Test("a HEIC, grey (a tiled grid) or colour (YCbCr 4:2:0, as a phone's), is decoded to grey; damaged, it is image_corrupt")
    func heicDecoded() throws {
        let image = GrayImage(width: 96, height: 64, pixels: (0..<(96 * 64)).map { UInt8(($0 % 96) * 2) })
        let folder = try TemporaryFolder(prefix: "vhc-heic-colour")
        let colour = try HEIFEncoder.encodeColour(luma: image.pixels, width: 96, height: 64, in: folder.path(""))
        var bytes: [UInt8] = []
        for heic in [try Self.heic(image), colour] {
            bytes = heic
            #expect(heic.withUnsafeBytes { GrayImage.isHEIF($0) })
            let decoded = try heic.withUnsafeBytes { buffer in
                try Result { () throws(ImageError) in try GrayImage.decode(buffer, fittingPixels: nil) }.get()
            }
            #expect(decoded.width == 96 && decoded.height == 64)
            #expect(decoded.image[2, 30] < 50 && decoded.image[93, 30] > 140, "\(decoded.image[2, 30]) \(decoded.image[93, 30])")
        }
        var damaged = bytes
        for index in stride(from: bytes.count / 2, to: bytes.count, by: 7) { damaged[index] ^= 0x5A }
        let refused = damaged.prefix(bytes.count * 2 / 3).withUnsafeBytes { buffer in
            Result { () throws(ImageError) in try GrayImage.decode(buffer, fittingPixels: nil) }
        }
        if case .failure(let error) = refused { #expect(error.code == .corrupt, "\(error)") }
        #expect(Array("....ftypavif....".utf8).withUnsafeBytes { !GrayImage.isHEIF($0) })
    }
}
