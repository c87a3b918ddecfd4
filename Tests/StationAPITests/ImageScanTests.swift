import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Imaging
import NIOCore
import QRRendering
import StationAPI
import StationModels
import TestSupport
import Testing

/// A grey canvas with QR codes drawn on it at the given places: a screenshot of a video call, small.
func canvas(width: Int, height: Int, codes: [(QRCode, x: Int, y: Int, pixelsPerModule: Int)]) -> GrayImage {
    var image = GrayImage(width: width, height: height, filledWith: 200)
    for (code, x, y, size) in codes {
        let symbol = code.image(pixelsPerModule: size)
        for row in 0..<symbol.height where y + row < height {
            for column in 0..<symbol.width where x + column < width { image[x + column, y + row] = symbol[column, row] }
        }
    }
    return image
}

func pngBytes(_ image: GrayImage) throws -> ByteBuffer {
    let folder = try TemporaryFolder(prefix: "vhc-image-api")
    try image.writePNG(to: folder.path("image.png"))
    return ByteBuffer(bytes: try Data(contentsOf: URL(fileURLWithPath: folder.path("image.png"))))
}

@Suite("POST /v1/scans/image")
struct ImageScanTests {
    @Test(
        "a screenshot with a token twice, a web address and a binary code: the token is submitted once, the address refused, the binary code ignored"
    )
    func screenshot() async throws {
        let fixture = try APIFixture()
        let token = try fixture.authority.token()
        let card = try QRCode.alphanumeric(String(decoding: token, as: UTF8.self))
        let image = canvas(
            width: 1920, height: 1080,
            codes: [
                (card, 100, 100, 3), (card, 1200, 500, 4),
                (try QRCode.bytes(Array("https://example.org/".utf8)), 800, 100, 4),
                (try QRCode.bytes([0x00, 0xFF, 0x80, 0x41]), 800, 600, 4),
            ])
        try await fixture.app().test(.router) { client in
            try await client.execute(
                uri: "/v1/scans/image?source=screenshot", method: .post, headers: [.contentType: "image/png"],
                body: try pngBytes(image)
            ) { response in
                #expect(response.status == .ok)
                let body = try json(response)
                let codes = try #require(body["codes"] as? [[String: Any]])
                let scans = codes.compactMap { $0["scan"] as? [String: Any] }
                #expect(scans.count == 2)
                let valid = scans.filter { $0["code"] as? String == "valid" }
                #expect(valid.count == 1 && valid.first?["holder"] as? String == "A12****789 王**")
                #expect(scans.filter { $0["code"] as? String == "prefix_missing" }.count == 1, "\(scans)")
                #expect(body["ignored"] as? Int == 1)
                #expect(body["complete"] as? Bool == true)
                #expect(body["size"] as? [Int] == [1920, 1080])
                let corners = try #require(codes.first?["corners"] as? [[Int]])
                #expect(corners.count == 4)
            }
        }
        let sessions = try fixture.service.sessions.list()
        #expect(sessions.count == 1 && sessions.first?.source == "screenshot")
    }

    @Test("a phone photo as JPEG: a photo-less card goes to its ID-document check")
    func jpegPhotoLess() async throws {
        let fixture = try APIFixture()
        let token = try fixture.authority.token(photo: .none)
        let image = canvas(
            width: 2000, height: 1500,
            codes: [(try QRCode.alphanumeric(String(decoding: token, as: UTF8.self)), 700, 400, 6)]
        ).gaussianBlurred(sigma: 1.2)
        try await fixture.app().test(.router) { client in
            try await client.execute(
                uri: "/v1/scans/image", method: .post, headers: [.contentType: "image/jpeg"],
                body: ByteBuffer(bytes: try image.jpegData(quality: 80))
            ) { response in
                let codes = try #require(try json(response)["codes"] as? [[String: Any]])
                let session = (codes.first?["scan"] as? [String: Any])?["session"] as? [String: Any]
                #expect(session?["state"] as? String == "awaiting_id_check")
            }
        }
    }

    @Test("refusals have their own codes: not an image, damaged, too many pixels, too large, a bad source")
    func refusals() async throws {
        let fixture = try APIFixture()
        let good = try pngBytes(canvas(width: 64, height: 64, codes: []))
        var truncated = good
        truncated.moveWriterIndex(to: good.readableBytes / 2)
        // A PNG whose header claims 20,000 × 20,000 pixels: refused before any pixel memory is allocated.
        var huge = good
        huge.setInteger(UInt32(20_000), at: 16)
        huge.setInteger(UInt32(20_000), at: 20)
        huge.setInteger(crc32(huge.getBytes(at: 12, length: 17)!), at: 29)  // the header's own checksum
        let cases: [(HTTPFields, ByteBuffer, HTTPResponse.Status, String)] = [
            ([.contentType: "text/plain"], good, .unsupportedMediaType, "image_format_unsupported"),
            (
                [.contentType: "image/png"], ByteBuffer(string: "GIF89a not a png"), .unsupportedMediaType,
                "image_format_unsupported"
            ),
            ([.contentType: "image/png"], truncated, .unprocessableContent, "image_corrupt"),
            ([.contentType: "image/png"], huge, .unprocessableContent, "image_dimensions_invalid"),
            (
                [.contentType: "image/jpeg"],
                ByteBuffer(repeating: 0xFF, count: ImageScanResponse.maximumImageBytes + 1),
                .contentTooLarge, "image_too_large"
            ),
        ]
        try await fixture.app().test(.router) { client in
            for (headers, body, status, code) in cases {
                try await client.execute(uri: "/v1/scans/image", method: .post, headers: headers, body: body) {
                    response in
                    #expect(response.status == status, "\(code)")
                    #expect(response.headers[.contentType] == "application/problem+json")
                    let problem = try json(response)
                    #expect(problem["code"] as? String == code)
                }
            }
            try await client.execute(uri: "/v1/scans/image?source=a%20b", method: .post, body: good) { response in
                let problem = try json(response)
                #expect(problem["code"] as? String == "request_malformed")
            }
        }
        #expect(try fixture.service.sessions.list().isEmpty)
    }
}

extension ImageScanTests {
    @Test("damaged PNGs and JPEGs (bytes flipped, cut short, inserted) are answered 200 or a problem, never a crash")
    func mutatedImages() async throws {
        let fixture = try APIFixture()
        let token = try fixture.authority.token()
        let image = canvas(
            width: 240, height: 240,
            codes: [(try QRCode.alphanumeric(String(decoding: token, as: UTF8.self)), 10, 10, 2)])
        let originals = [Array(buffer: try pngBytes(image)), try image.jpegData(quality: 85)]
        var random = SeededGenerator(seed: 11)
        let bodies = (0..<120).map { round -> [UInt8] in
            var bytes = originals[round % 2]
            switch round % 3 {
            case 0:  // a few bytes flipped anywhere, the headers included
                for _ in 0..<Int.random(in: 1...8, using: &random) {
                    bytes[Int.random(in: 0..<bytes.count, using: &random)] ^= UInt8.random(in: 1...255, using: &random)
                }
            case 1:  // cut short
                bytes = Array(bytes.prefix(Int.random(in: 1..<bytes.count, using: &random)))
            default:  // bytes inserted
                let inserted = (0..<Int.random(in: 1...64, using: &random)).map { _ in
                    UInt8.random(in: 0...255, using: &random)
                }
                bytes.insert(contentsOf: inserted, at: Int.random(in: 0..<bytes.count, using: &random))
            }
            return bytes
        }
        let statuses = try await fixture.app().test(.router) { client in
            var statuses: [Int: Int] = [:]
            for bytes in bodies {
                let status = try await client.execute(
                    uri: "/v1/scans/image", method: .post, headers: [.contentType: "image/png"],
                    body: ByteBuffer(bytes: bytes)
                ) { response in
                    let body = try json(response)
                    if response.status == .ok {
                        #expect(body["codes"] is [Any])
                    } else {
                        #expect([415, 422].contains(response.status.code), "\(response.status)")
                        #expect(body["code"] is String && response.headers[.contentType] == "application/problem+json")
                    }
                    return response.status.code
                }
                statuses[status, default: 0] += 1
            }
            return statuses
        }
        // Both kinds of answer were met: some damage is survivable, some is not.
        #expect(statuses[200, default: 0] > 0 && statuses[422, default: 0] > 0, "\(statuses)")
    }
}

/// PNG's chunk checksum (CRC-32, ISO 3309), to forge a valid header in a test.
func crc32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
}
