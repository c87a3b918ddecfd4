import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Station
import StationModels
import Synchronization

/// `POST /v1/scans/image` (issue 11): a PNG or JPEG (a screenshot of a video call, a photo of the
/// patient's phone) read by the runtime's `StillImageReader`, every code read submitted as a scan.
/// Limits: the body's size, the image's pixels (the reader's), one image at a time, and the ladder's
/// time budget. The image lives in memory for the request only: never written, never logged.
extension Routes {
    /// The longest an image's upload may take while it holds the gate.
    static let imageUploadLimit: Duration = .seconds(30)

    /// The body, collected and read under the gate: one image in memory at a time, so a burst of large
    /// pictures cannot exhaust a laptop's memory nor crowd out the camera. The verdicts come after it.
    private func readImage(_ request: Request) async throws -> StillImageCodes {
        guard let reader = images else { throw Problem.imageFormat("this station reads no images") }
        guard imageGate.enter() else { throw Problem.imageBusy }
        defer { imageGate.leave() }
        do {
            let decoded = try await Self.decode(try await upload(request), with: reader)
            // The body is gone by now: only the decoded image stays in memory while the ladder runs.
            let codes = try await Blocking.run { reader.read(decoded) }
            await Self.giveBackMemory()
            return codes
        } catch {
            await Self.giveBackMemory()
            throw error
        }
    }

    /// What the image and the ladder took, back to the system once they are gone.
    private static func giveBackMemory() async {
        try? await Blocking.run { ProcessMemory.trim() }
    }

    /// The whole body, within the size and time limits.
    private func upload(_ request: Request) async throws -> ByteBuffer {
        do {
            // A client trickling its upload would hold the gate: the whole body must come within the limit.
            return try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
                group.addTask { try await request.body.collect(upTo: ImageScanResponse.maximumImageBytes) }
                group.addTask {
                    try await Task.sleep(for: Self.imageUploadLimit)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let body = first else { throw Problem.imageUploadTooSlow }
                return body
            }
        } catch is NIOTooManyBytesError {
            throw Problem(
                status: .contentTooLarge, code: .imageTooLarge, title: "The image is too large",
                detail: "images are limited to \(ImageScanResponse.maximumImageBytes) bytes")
        }
    }

    /// Decoded where the body lies (a large image is not copied first), a large JPEG reduced.
    private static func decode(_ body: ByteBuffer, with reader: any StillImageReader) async throws -> DecodedStill {
        try await Blocking.run {
            do {
                return try body.withUnsafeReadableBytes { bytes throws(StillImageError) in try reader.decode(bytes) }
            } catch let error as StillImageError { throw Problem.image(error) }
        }
    }

    func submitImage(_ request: Request, _ context: StationRequestContext) async throws -> Response {
        if let media = Self.mediaType(request) {
            guard media == "image/png" || media == "image/jpeg" || media == "application/octet-stream" else {
                throw Problem.imageFormat("send Content-Type: image/png or image/jpeg")
            }
        }
        let source = try Self.source(request.uri.queryParameters.get("source") ?? "image")
        let started = ContinuousClock.now
        let read = try await readImage(request)
        var seen: Set<String> = []
        // The same token twice in one picture is one presentation: submitted once.
        let unique = read.codes.filter { seen.insert($0.text).inserted }
        let scans = try await verdicts(on: unique.map { Array($0.text.utf8) }, source: source)
        let codes = zip(unique, scans).map { ImageScanResponse.Code(corners: $0.corners, scan: $1) }
        let elapsed = started.duration(to: .now).components
        return try json(
            ImageScanResponse(
                codes: codes, ignored: read.ignored, complete: read.complete, size: read.size,
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

    static let imageUploadTooSlow = Problem(
        status: .requestTimeout, code: .imageUploadTooSlow, title: "The image did not arrive in time",
        detail: "the whole image must arrive within \(Routes.imageUploadLimit)")

    static let imageBusy = Problem(
        status: .serviceUnavailable, code: .imageBusy, title: "Another image is being read",
        detail: "the station reads one image at a time; try again in a moment")

    /// An image that cannot be read, by the reader's stable code.
    static func image(_ error: StillImageError) -> Problem {
        switch error.code {
        case .formatUnsupported: .imageFormat(error.message)
        case .dimensionsInvalid:
            Problem(
                status: .unprocessableContent, code: .imageDimensionsInvalid,
                title: "The image's dimensions are outside the limits", detail: error.message)
        case .corrupt:
            Problem(
                status: .unprocessableContent, code: .imageCorrupt, title: "The image is damaged",
                detail: error.message)
        }
    }
}
