import Foundation
import GRDB
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

/// A telemedicine clinician's pictures and live capture (issue 23): a HEIC and a sideways JPEG read upright
/// in a remote visit's setting, and a shared window's frames read with the camera ladder, each code once.
@Suite("Telemedicine: HEIC and oriented JPEG pictures, POST /v1/scans/frame")
struct TelemedicineScanTests {
    /// A card's code on a grey canvas, `x`, `y` from the top left, 5 px a module.
    static func picture(_ token: [UInt8], width: Int = 1280, height: Int = 720, x: Int = 200, y: Int = 150) throws
        -> GrayImage
    {
        canvas(
            width: width, height: height,
            codes: [(try QRCode.alphanumeric(String(decoding: token, as: UTF8.self)), x, y, 5)])
    }

    @Test("a colour HEIC photo, as a phone takes one, reads, and opens its visit in the telemedicine setting asked for")
    func heic() async throws {
        let fixture = try APIFixture()
        let folder = try TemporaryFolder(prefix: "vhc-heic-api")
        let card = try Self.picture(try fixture.authority.token())
        let bytes = try HEIFEncoder.encodeColour(luma: card.pixels, width: card.width, height: card.height, in: folder.path(""))
        try await fixture.app().test(.router) { client in
            try await client.execute(
                uri: "/v1/scans/image?setting=telemedicine", method: .post, headers: [.contentType: "image/heic"],
                body: ByteBuffer(bytes: bytes)
            ) { response in
                #expect(response.status == .ok)
                let body = try json(response)
                let scan = try #require((body["codes"] as? [[String: Any]])?.first?["scan"] as? [String: Any])
                #expect(scan["code"] as? String == "valid" && body["size"] as? [Int] == [1280, 720])
                let session = try #require(scan["session"] as? [String: Any])
                #expect(session["setting"] as? String == "telemedicine" && session["source"] as? String == "image")
            }
            try await client.execute(
                uri: "/v1/scans/image?setting=outpatient", method: .post, headers: [.contentType: "image/heic"],
                body: ByteBuffer(bytes: bytes)
            ) { response in
                #expect(response.status == .badRequest, "only a remote visit's settings")
            }
        }
        #expect(try fixture.service.sessions.list().first?.setting == "telemedicine")
    }

    @Test("a phone's JPEG stored sideways (EXIF orientation 6) reads upright: size and corners as a browser shows it")
    func sidewaysJPEG() async throws {
        let fixture = try APIFixture()
        let upright = try Self.picture(try fixture.authority.token(), width: 900, height: 1200, x: 300, y: 500)
        let stored = try upright.oriented(.rotatedAnticlockwise).jpegData(quality: 92)
        let bytes = PictureExif.withOrientation(stored, 6)
        try await fixture.app().test(.router) { client in
            try await client.execute(
                uri: "/v1/scans/image", method: .post, headers: [.contentType: "image/jpeg"], body: ByteBuffer(bytes: bytes)
            ) { response in
                let body = try json(response)
                #expect(body["size"] as? [Int] == [900, 1200])
                let code = try #require((body["codes"] as? [[String: Any]])?.first)
                #expect((code["scan"] as? [String: Any])?["code"] as? String == "valid")
                // The code (its quiet zone included) sits at (300, 500) in the upright picture, about 340 px a side.
                let corners = try #require(code["corners"] as? [[Int]])
                let xs = corners.map { $0[0] }, ys = corners.map { $0[1] }
                #expect(xs.min()! >= 300 && xs.max()! <= 640 && ys.min()! >= 500 && ys.max()! <= 840, "\(corners) \(body["size"] ?? "")")
            }
        }
    }

    @Test("frames of a shared window: the code read once with source capture, then answered as a repeat; limits have their codes")
    func frames() async throws {
        let fixture = try APIFixture()
        let frame = try Self.picture(try fixture.authority.token()).jpegData(quality: 85)
        try await fixture.app().test(.router) { client in
            for attempt in 0..<3 {
                try await client.execute(
                    uri: "/v1/scans/frame?setting=video_consultation", method: .post,
                    headers: [.contentType: "image/jpeg"], body: ByteBuffer(bytes: frame)
                ) { response in
                    #expect(response.status == .ok)
                    let code = try #require((try json(response)["codes"] as? [[String: Any]])?.first)
                    let scan = try #require(code["scan"] as? [String: Any])
                    // Each frame answers with the first verdict: never `replayed` for a code still in view.
                    #expect(scan["code"] as? String == "valid")
                    #expect((code["repeat"] as? Bool ?? false) == (attempt > 0))
                }
            }
            let blank = try GrayImage(width: 640, height: 360, filledWith: 128).jpegData()
            try await client.execute(
                uri: "/v1/scans/frame", method: .post, headers: [.contentType: "image/jpeg"], body: ByteBuffer(bytes: blank)
            ) { response in
                let codes = try json(response)["codes"] as? [Any]
                #expect(response.status == .ok && codes?.isEmpty == true)
            }
            // A frame is a JPEG or PNG by its content, of at most 4 MP as its header says.
            let folder = try TemporaryFolder(prefix: "vhc-frame-limits")
            try GrayImage(width: 64, height: 64, filledWith: 90).writePNG(to: folder.path("small.png"))
            let heic = try HEIFEncoder.encode(png: folder.path("small.png"))
            let huge = Array(try pngBytes(GrayImage(width: 2600, height: 1700, filledWith: 90)).readableBytesView)
            for (type, body, status): (String, [UInt8], HTTPResponse.Status) in [
                ("", heic, .unsupportedMediaType),  // no type declared: refused by its content
                ("image/png", huge, .unprocessableContent),
                ("image/heic", blank, .unsupportedMediaType),
                ("image/jpeg", [UInt8](repeating: 0xFF, count: ImageScanResponse.maximumFrameBytes + 1), .contentTooLarge),
                ("image/jpeg", Array("not a picture".utf8), .unsupportedMediaType),
            ] {
                try await client.execute(
                    uri: "/v1/scans/frame", method: .post, headers: type.isEmpty ? [:] : [.contentType: type],
                    body: ByteBuffer(bytes: body)
                ) { response in
                    #expect(response.status == status, "\(type), \(body.count) bytes")
                }
            }
        }
        let sessions = try fixture.service.sessions.list()
        #expect(sessions.count == 1 && sessions.first?.source == "capture")
        #expect(sessions.first?.setting == "video_consultation")
        // The audit has the scan and where it came from, never the frame nor the token.
        let audit = try await DatabaseQueue(path: fixture.folder.path("station.sqlite")).read { db in
            try String.fetchAll(db, sql: "SELECT detail FROM audit_log WHERE kind = 'scan.accepted'")
        }
        #expect(audit.count == 1 && audit[0].contains("capture"), "\(audit)")
    }
}

/// A JPEG given an APP1 Exif segment with an Orientation tag, as a phone writes one.
enum PictureExif {
    static func withOrientation(_ jpeg: [UInt8], _ orientation: UInt8) -> [UInt8] {
        let tiff: [UInt8] = [0x4D, 0x4D, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0, 0, 0, 0, 0]
        let body = Array("Exif\0\0".utf8) + tiff
        return Array(jpeg.prefix(2)) + [0xFF, 0xE1, 0, UInt8(body.count + 2)] + body + Array(jpeg.dropFirst(2))
    }
}
