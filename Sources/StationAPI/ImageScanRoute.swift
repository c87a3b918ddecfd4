import CloudProtocol
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Station
import StationModels
import Synchronization

/// `POST /v1/scans/image` (issue 11): a PNG, JPEG or HEIC (a screenshot of a video call, a photo of the
/// patient's phone) read by the runtime's `StillImageReader`, every code read submitted as a scan; and
/// `POST /v1/scans/frame` (issue 23), a live capture's frame read with the camera's fast ladder.
/// Limits: the body's size, the image's pixels (the reader's), one image at a time, and the ladder's
/// time budget. The image lives in memory for the request only: never written, never logged.
extension Routes {
    /// The longest an image's upload may take while it holds the gate.
    static let imageUploadLimit: Duration = .seconds(30)

    /// The body, collected and read under `gate`: one image in memory at a time, so a burst of large
    /// pictures cannot exhaust a laptop's memory nor crowd out the camera. The verdicts come after it.
    private func readImage(
        _ request: Request, gate: ImageGate, limit: Int, asFrame: Bool,
        with ladder: @escaping @Sendable (any StillImageReader, DecodedStill) -> StillImageCodes
    ) async throws -> StillImageCodes {
        guard let reader = images else { throw Problem.imageFormat("this station reads no images") }
        guard gate.enter() else { throw Problem.imageBusy }
        defer { gate.leave() }
        do {
            let decoded = try await Self.decode(try await upload(request, limit: limit), with: reader, asFrame: asFrame)
            // The body is gone by now: only the decoded image stays in memory while the ladder runs.
            let codes = try await Blocking.run { ladder(reader, decoded) }
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

    /// The whole body, within `limit` bytes and the time limit.
    private func upload(_ request: Request, limit: Int) async throws -> ByteBuffer {
        do {
            // A client trickling its upload would hold the gate: the whole body must come within the limit.
            return try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
                group.addTask { try await request.body.collect(upTo: limit) }
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
                detail: "images are limited to \(limit) bytes")
        }
    }

    /// Decoded where the body lies (a large image is not copied first), a large JPEG reduced.
    private static func decode(
        _ body: ByteBuffer, with reader: any StillImageReader, asFrame: Bool
    ) async throws -> DecodedStill {
        try await Blocking.run {
            do {
                return try body.withUnsafeReadableBytes { bytes throws(StillImageError) in
                    try asFrame ? reader.decodeFrame(bytes) : reader.decode(bytes)
                }
            } catch let error as StillImageError { throw Problem.image(error) }
        }
    }

    func submitImage(_ request: Request, _ context: StationRequestContext) async throws -> Response {
        if let media = Self.mediaType(request) {
            guard Self.imageMediaTypes.contains(media) else {
                throw Problem.imageFormat("send Content-Type: image/png, image/jpeg or image/heic")
            }
        }
        let source = try Self.source(request.uri.queryParameters.get("source") ?? "image")
        let setting = try Self.remoteSetting(request)
        let started = ContinuousClock.now
        let read = try await readImage(
            request, gate: imageGate, limit: ImageScanResponse.maximumImageBytes, asFrame: false
        ) { $0.read($1) }
        var seen: Set<String> = []
        // The same token twice in one picture is one presentation: submitted once.
        let unique = read.codes.filter { seen.insert($0.text).inserted }
        let scans = try await verdicts(on: unique.map { Array($0.text.utf8) }, source: source, setting: setting)
        let codes = zip(unique, scans).map { ImageScanResponse.Code(corners: $0.corners, scan: $1) }
        return try json(Self.answer(codes, read, since: started))
    }

    /// `POST /v1/scans/frame`: one frame of a live capture (the page sharing a video-call window), read
    /// with the camera's fast ladder in turn. A code read from a capture in the last seconds is answered
    /// with its first verdict and not submitted again, as the camera drops a code held up to it; another
    /// frame arriving while one is read is told `image_busy` (the page skips it). Never stored.
    func submitFrame(_ request: Request, _ context: StationRequestContext) async throws -> Response {
        if let media = Self.mediaType(request) {
            guard media == "image/jpeg" || media == "image/png" else {
                throw Problem.imageFormat("send a frame as Content-Type: image/jpeg or image/png")
            }
        }
        let source = try Self.source(request.uri.queryParameters.get("source") ?? "capture")
        let setting = try Self.remoteSetting(request)
        let started = ContinuousClock.now
        let turn = captures.turn()
        let read = try await readImage(
            request, gate: frameGate, limit: ImageScanResponse.maximumFrameBytes, asFrame: true
        ) { $0.readFrame($1, turn: turn) }
        captures.framed(readSomething: !read.codes.isEmpty)
        var codes: [ImageScanResponse.Code] = []
        for code in read.codes where !codes.contains(where: { $0.corners == code.corners }) {
            let routes = self
            let (scan, isRepeat) = try await captures.verdict(on: code.text, at: service.clock()) {
                try await routes.verdicts(on: [Array(code.text.utf8)], source: source, setting: setting)[0]
            }
            codes.append(ImageScanResponse.Code(corners: code.corners, scan: scan, repeat: isRepeat ? true : nil))
        }
        return try json(Self.answer(codes, read, since: started))
    }

    /// What a picture or a frame came to.
    private static func answer(
        _ codes: [ImageScanResponse.Code], _ read: StillImageCodes, since started: ContinuousClock.Instant
    ) -> ImageScanResponse {
        let elapsed = started.duration(to: .now).components
        return ImageScanResponse(
            codes: codes, ignored: read.ignored, complete: read.complete, size: read.size,
            milliseconds: Double(elapsed.seconds) * 1000 + Double(elapsed.attoseconds) / 1e15)
    }

    static let imageMediaTypes: Set<String> = [
        "image/png", "image/jpeg", "image/heic", "image/heif", "application/octet-stream",
    ]

    /// `?setting=`: a picture or a capture of a remote visit opens it in that setting (telemedicine or
    /// video_consultation); absent, the station's own.
    static func remoteSetting(_ request: Request) throws -> CareSetting? {
        guard let text = request.uri.queryParameters.get("setting") else { return nil }
        guard let setting = CareSetting(rawValue: text), ConsentRequest.remoteSettings.contains(setting) else {
            throw Problem.badRequest("setting must be telemedicine or video_consultation")
        }
        return setting
    }
}

/// What live captures read lately: a code seen again within `window` seconds is answered with its first
/// verdict, not submitted again (a code held up in a video call is in every frame for seconds, and the
/// second submission would be `replayed`). The first frame's submission is shared: a frame that reads the
/// code while it is still being verified waits for the same verdict. A verdict that may change in a moment
/// (the lists not installed yet, the clock behind) is not kept. Codes are kept by their SHA-256, not as text.
/// Also whose turn of the camera ladder's alternating passes the next frame takes.
final class CaptureMemory: Sendable {
    static let window: Int64 = 10
    private struct Entry {
        var at: Int64
        var verdict: Task<ScanResponse, any Error>
    }
    private let state = Mutex((seen: [Data: Entry](), emptyFrames: 0))
    private static let passing: Set<OutcomeCode> = [.trustListUnavailable, .clockRolledBack]

    /// The verdict on `text`: an earlier capture's (`repeat`), or `submit`'s, made once.
    func verdict(
        on text: String, at now: Int64, submit: @escaping @Sendable () async throws -> ScanResponse
    ) async throws -> (scan: ScanResponse, repeat: Bool) {
        let key = Data(SHA256.hash(data: Data(text.utf8)))
        let (verdict, isRepeat) = state.withLock { state -> (Task<ScanResponse, any Error>, Bool) in
            state.seen = state.seen.filter { now - $0.value.at < Self.window }
            if let earlier = state.seen[key] {
                state.seen[key]?.at = now  // still in view: the window starts again
                return (earlier.verdict, true)
            }
            let task = Task { try await submit() }
            state.seen[key] = Entry(at: now, verdict: task)
            return (task, false)
        }
        do {
            let scan = try await verdict.value
            if Self.passing.contains(scan.code) { forget(key) }
            return (scan, isRepeat)
        } catch {
            forget(key)
            throw error
        }
    }

    private func forget(_ key: Data) { _ = state.withLock { $0.seen.removeValue(forKey: key) } }

    func turn() -> Int { state.withLock { $0.emptyFrames } }

    /// As a camera's ladder: the turn moves on with each frame that read nothing, and starts again after one
    /// that read something.
    func framed(readSomething: Bool) {
        state.withLock { $0.emptyFrames = readSomething ? 0 : $0.emptyFrames + 1 }
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
            status: .unsupportedMediaType, code: .imageFormatUnsupported,
            title: "The body must be a PNG, JPEG or HEIC image",
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
