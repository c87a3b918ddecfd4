import Foundation
import HTTPTypes
import Hummingbird
import Imaging
import NIOCore
import Scanner
import StationModels
import Synchronization

/// `POST /v1/scans/image` (issue 11): a PNG or JPEG (a screenshot of a video call, a photo of the
/// patient's phone) read by the still ladder, every code read submitted as a scan. Limits: the body's
/// size, the image's pixels (GrayImage's), one image at a time, and the ladder's time budget. The image
/// lives in memory for the request only: never written, never logged.
extension StationAPI {
    /// A 12 MP phone photo as JPEG is 3 to 8 MB; a 4K screenshot as PNG up to about 15.
    public static let maximumImageBytes = 24 << 20
}

extension Routes {

    func submitImage(_ request: Request, _ context: StationRequestContext) async throws -> Response {
        if let declared = request.headers[.contentType] {
            let media = declared.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
            guard media == "image/png" || media == "image/jpeg" || media == "application/octet-stream" else {
                throw Problem.imageFormat("send Content-Type: image/png or image/jpeg")
            }
        }
        let source = try Self.source(request.uri.queryParameters.get("source") ?? "image")
        guard imageGate.enter() else { throw Problem.imageBusy }
        defer { imageGate.leave() }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: StationAPI.maximumImageBytes)
        } catch is NIOTooManyBytesError {
            throw Problem(
                status: .contentTooLarge, code: .imageTooLarge, title: "The image is too large",
                detail: "images are limited to \(StationAPI.maximumImageBytes) bytes")
        }
        let started = ContinuousClock.now
        let read = try await Blocking.run {
            // Decoded where the body lies (a large image is not copied first), a large JPEG reduced.
            do {
                return try body.withUnsafeReadableBytes { bytes throws(ImageError) in
                    try FrameDecoder().decodeImage(encoded: bytes)
                }
            } catch let error as ImageError { throw Problem.image(error) }
        }
        var codes: [ImageScanResponse.Code] = []
        var submitted: Set<String> = []
        // The same token twice in one picture is one presentation: submitted once.
        for code in read.codes where submitted.insert(code.text).inserted {
            codes.append(
                .init(corners: code.corners, scan: try await verdict(on: Array(code.text.utf8), source: source)))
        }
        let elapsed = started.duration(to: .now).components
        return try json(
            ImageScanResponse(
                codes: codes, ignored: read.ignored, complete: read.passesSkipped == 0, size: read.size,
                milliseconds: Double(elapsed.seconds) * 1000 + Double(elapsed.attoseconds) / 1e15))
    }
}

/// Admits one request at a time; the others are told to come back (503 image_busy, Retry-After).
final class ImageGate: Sendable {
    private let busy = Mutex(false)

    func enter() -> Bool {
        busy.withLock { busy in
            if busy { return false }
            busy = true
            return true
        }
    }

    func leave() { busy.withLock { $0 = false } }
}

extension Problem {
    static func imageFormat(_ detail: String) -> Problem {
        Problem(
            status: .unsupportedMediaType, code: .imageFormatUnsupported, title: "The body must be a PNG or JPEG image",
            detail: detail)
    }

    static let imageBusy = Problem(
        status: .serviceUnavailable, code: .imageBusy, title: "Another image is being read",
        detail: "the station reads one image at a time; try again in a moment")

    /// An image that cannot be read, by the imaging library's stable code.
    static func image(_ error: ImageError) -> Problem {
        switch error.code {
        case .unsupportedFormat: .imageFormat(error.message)
        case .badDimensions:
            Problem(
                status: .unprocessableContent, code: .imageDimensionsInvalid,
                title: "The image's dimensions are outside the limits", detail: error.message)
        default:
            Problem(
                status: .unprocessableContent, code: .imageCorrupt, title: "The image is damaged",
                detail: error.message)
        }
    }
}
