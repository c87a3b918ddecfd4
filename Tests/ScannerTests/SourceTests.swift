import Foundation
import Imaging
import QRRendering
import Scanner
import TestSupport
import Testing

@Suite("Frame sources: image files and raw frame streams")
struct SourceTests {
    let temporary = try! TemporaryFolder(prefix: "vhc-scanner-tests")

    static let text = tokenText(length: 269, seed: 21)
    static func frame() throws -> GrayImage {
        placed(try QRCode.alphanumeric(text).image(pixelsPerModule: 4), width: 640, height: 480, x: 150, y: 60)
    }

    @Test("PNG and JPEG files round-trip and decode")
    func files() throws {
        let dir = temporary.url
        let frame = try Self.frame()
        let png = dir.appendingPathComponent("a.png").path
        try frame.writePNG(to: png)
        #expect(try GrayImage.read(contentsOf: png) == frame)
        let jpeg = dir.appendingPathComponent("screenshot.jpg").path
        try Data(try frame.jpegData(quality: 80)).write(to: URL(fileURLWithPath: jpeg))
        let decodedJPEG = try GrayImage.read(contentsOf: jpeg)
        #expect(decodedJPEG.width == 640 && decodedJPEG.height == 480)
        #expect(FrameDecoder().decodeImage(decodedJPEG).codes.map(\.text) == [Self.text])
    }

    @Test(
        "hostile and broken files give a stable error code, never a crash",
        arguments: [
            ("empty", [UInt8](), ImageError.Code.unsupportedFormat),
            ("text", Array("hello, not an image".utf8), .unsupportedFormat),
            ("gif", Array("GIF89a".utf8) + [0, 1, 0, 1, 0, 0, 0], .unsupportedFormat),
            ("png signature only", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], .corrupt),
            ("jpeg signature only", [0xFF, 0xD8, 0xFF, 0xE0, 0x00], .corrupt),
        ])
    func hostile(name: String, bytes: [UInt8], code: ImageError.Code) throws {
        do {
            _ = try GrayImage.decode(bytes)
            Issue.record("\(name) was accepted")
        } catch {
            #expect(error.code == code, "\(name): \(error)")
        }
    }

    @Test("truncated PNG and JPEG files are image_corrupt")
    func truncated() throws {
        let frame = try Self.frame()
        let dir = temporary.url
        let png = dir.appendingPathComponent("a.png").path
        try frame.writePNG(to: png)
        let pngBytes = try Array(Data(contentsOf: URL(fileURLWithPath: png)))
        let jpegBytes = try frame.jpegData()
        for cut in [0.3, 0.6, 0.95] {
            for bytes in [pngBytes, jpegBytes] {
                let prefix = Array(bytes.prefix(Int(Double(bytes.count) * cut)))
                do {
                    _ = try GrayImage.decode(prefix)
                    Issue.record("a file cut at \(cut) was accepted")
                } catch { #expect(error.code == .corrupt) }
            }
        }
    }

    @Test("a PNG header claiming 100000×100000 is refused before allocation")
    func hugeDimensions() throws {
        // A valid 1×1 PNG with the IHDR width and height patched (CRC left wrong on purpose, then fixed).
        let dir = temporary.url
        let path = dir.appendingPathComponent("tiny.png").path
        try GrayImage(width: 1, height: 1, filledWith: 0).writePNG(to: path)
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        let huge: [UInt8] = [0x00, 0x01, 0x86, 0xA0]  // 100000
        bytes.replaceSubrange(16..<20, with: huge)
        bytes.replaceSubrange(20..<24, with: huge)
        let crc = CRC32.checksum(bytes[12..<29])
        bytes.replaceSubrange(
            29..<33, with: [UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)])
        do {
            _ = try GrayImage.decode(bytes)
            Issue.record("a 100000×100000 image was accepted")
        } catch {
            #expect(error.code == .badDimensions)
        }
    }

    @Test("a missing file is image_unreadable")
    func missing() {
        do {
            _ = try GrayImage.read(contentsOf: "/nonexistent/x.png")
            Issue.record("no error")
        } catch { #expect(error.code == .unreadable) }
    }

    @Test("raw frames: whole frames, a clean end, and a truncated last frame")
    func rawFrames() throws {
        let size = try #require(RawFrameReader.Size("32x16"))
        #expect(RawFrameReader.Size("640X480")?.width == 640)
        for bad in ["640", "x480", "0x0", "10x10", "640x480x3", "99999x10", "-5x20", ""] {
            #expect(RawFrameReader.Size(bad) == nil, "\(bad)")
        }
        let pipe = Pipe()
        let reader = RawFrameReader(size: size, descriptor: pipe.fileHandleForReading.fileDescriptor)
        let frames = (0..<2).map { index in [UInt8](repeating: UInt8(index + 1), count: 32 * 16) }
        pipe.fileHandleForWriting.write(Data(frames.joined()) + Data([9, 9, 9]))
        try pipe.fileHandleForWriting.close()
        #expect(try reader.next()?.pixels == frames[0])
        #expect(try reader.next()?.pixels == frames[1])
        #expect(throws: RawFrameReader.TruncatedFrame.self) { try reader.next() }

        let empty = Pipe()
        try empty.fileHandleForWriting.close()
        #expect(try RawFrameReader(size: size, descriptor: empty.fileHandleForReading.fileDescriptor).next() == nil)
    }
}

/// CRC-32 (ISO 3309), for patching PNG chunks in tests.
enum CRC32 {
    static func checksum<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}
