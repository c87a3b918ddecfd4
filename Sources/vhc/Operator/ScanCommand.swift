import ArgumentParser
import Foundation
import Imaging
import Scanner
import VirtualCard

/// `vhc scan`: QR codes from image files (a screenshot of a video call) or a raw frame stream,
/// optionally verified as `vhc verify` would.
struct ScanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Read QR codes from images or raw grey frames, and optionally verify them.",
        discussion: """
            --camera PATH: a V4L2 device (a /dev/v4l/by-id/... link works; fake:FILE-OR-DIR plays images);
              one JSON line per new read, until interrupted or --max-frames. Camera events go to standard error.
            --image: one JSON object per file (with --json), {"file", "codes": [{"text", "corners", "pass"}], "size",
              "ignored", "complete", "ms"}: the still ladder (every pass, the union; large JPEGs decoded reduced).
            --frames WxH: raw 8-bit grey frames of that size on standard input (for example from
              ffmpeg -f rawvideo -pix_fmt gray); one JSON line per new read.
            With --root and --trust-list each read also carries the verdict of `vhc verify`.
            Exit status: 0 when every input was read, 2 for a usage error or an unreadable input (its JSON
            object then carries "error" with a stable code).
            """)

    @Option(
        name: .customLong("image"), parsing: .upToNextOption,
        help: ArgumentHelp("PNG or JPEG files.", valueName: "FILE"))
    var images: [String] = []

    @Option(help: ArgumentHelp("Read raw grey frames of this size from standard input.", valueName: "WxH"))
    var frames: String?

    @Option(help: ArgumentHelp("Capture from this V4L2 device.", valueName: "PATH")) var camera: String?

    @Option(help: ArgumentHelp("Capture size: 640x480 (default) or 1280x720.", valueName: "WxH")) var size = "640x480"

    @Option(name: .customLong("max-frames"), help: ArgumentHelp("Stop after this many camera frames.", valueName: "N"))
    var maxFrames: Int?

    @Flag(help: "Print JSON (always on for --frames).") var json = false

    @OptionGroup(title: "Verification (optional)") var verification: ScanVerificationOptions

    func validate() throws {
        let sources = [!images.isEmpty, frames != nil, camera != nil].filter { $0 }.count
        guard sources == 1 else { throw UsageError("give one of --camera PATH, --image FILE... or --frames WxH") }
        guard RawFrameReader.Size(size) != nil else { throw UsageError("--size: '\(size)' is not WIDTHxHEIGHT") }
        if let frames, RawFrameReader.Size(frames) == nil {
            throw UsageError("--frames: '\(frames)' is not WIDTHxHEIGHT (16 to 8192 each)")
        }
    }

    func run() throws {
        let session = try verification.session()
        let decoder = FrameDecoder()
        if let camera, let size = RawFrameReader.Size(size) {
            try scanCamera(camera, size: size, decoder: decoder, session: session)
        } else if let frames, let size = RawFrameReader.Size(frames) {
            try scanFrames(RawFrameReader(size: size), decoder: decoder, session: session)
        } else if try !scanImages(decoder: decoder, session: session) {
            throw ExitCode.usage
        }
    }

    /// One report per file; returns `false` when any file could not be read.
    func scanImages(decoder: FrameDecoder, session: VerificationSession?) throws -> Bool {
        var allRead = true
        for file in images {
            let clock = ContinuousClock(), start = clock.now
            var report = ImageReport(file: file)
            do {
                let read = try decoder.decodeImage(contentsOf: file)
                report.codes = try read.codes.map { try CodeReport($0, session: session) }
                (report.size, report.ignored, report.complete) = (read.size, read.ignored, read.passesSkipped == 0)
            } catch let error as ImageError {
                report.error = ErrorReport(code: error.code.rawValue, message: error.message)
                allRead = false
            }
            report.ms = Milliseconds.of(start.duration(to: clock.now))
            if json {
                try Output.printJSON(report)
            } else {
                if let error = report.error { print("\(file): \(error.code): \(error.message)") }
                if report.codes.isEmpty && report.error == nil { print("\(file): no QR code") }
                for code in report.codes {
                    print("\(file): \(code.text) [\(code.pass)]" + (code.verdict.map { " → \($0.code)" } ?? ""))
                }
            }
        }
        return allRead
    }

    /// One JSON line per new read (the same text within 5 s is reported once).
    func scanFrames(_ reader: RawFrameReader, decoder: FrameDecoder, session: VerificationSession?) throws {
        var reporter = StreamReporter(decoder: decoder, session: session)
        while true {
            let frame: GrayImage?
            do { frame = try reader.next() } catch { throw UsageError("\(error)") }
            guard let frame else { break }
            try reporter.process(frame)
        }
    }

    /// Captures until interrupted (or `--max-frames`), printing one JSON line per new read.
    func scanCamera(
        _ path: String, size: RawFrameReader.Size, decoder: FrameDecoder, session: VerificationSession?
    ) throws {
        let (system, player) = try CameraSource.forCommand(path)
        defer { player?.stop() }
        let camera = V4L2Camera(
            path: CameraSource.devicePath(path), options: .init(width: size.width, height: size.height), system: system)
        // At the start a camera that cannot be opened is the user's error; later, an unplugged one is waited for.
        do { try camera.open() } catch { throw UsageError("--camera \(path): \(error)") }
        FileHandle.standardError.write(Data("camera: opened \(camera.format!)\n".utf8))
        let supervisor = CaptureSupervisor(camera: camera)
        supervisor.onEvent = { event in FileHandle.standardError.write(Data("camera: \(event)\n".utf8)) }
        let stop = StopSignal.install()
        var reporter = StreamReporter(decoder: decoder, session: session)
        while !stop.requested, maxFrames.map({ reporter.frames < $0 }) ?? true {
            guard case .frame(let frame) = supervisor.step(timeoutMilliseconds: 200) else {
                if !camera.isOpen { Thread.sleep(forTimeInterval: 0.1) }
                continue
            }
            try reporter.process(frame)
        }
    }
}

/// What the frame-stream and camera scans share: decode each frame as part of a stream, time it, and
/// print one JSON line for every read not already reported in the last 5 seconds.
struct StreamReporter {
    let decoder: FrameDecoder
    let session: VerificationSession?
    private var recent = RecentPayloads(window: 5)
    private(set) var frames = 0

    init(decoder: FrameDecoder, session: VerificationSession?) {
        self.decoder = decoder
        self.session = session
    }

    mutating func process(_ frame: GrayImage) throws {
        let clock = ContinuousClock(), start = clock.now
        let codes = decoder.decodeStreamFrame(frame)
        let ms = Milliseconds.of(start.duration(to: clock.now))
        for code in codes where recent.isNew(code.text, at: MonotonicSeconds.now()) {
            var line = try CodeReport(code, session: session)
            line.frame = frames
            line.ms = ms
            try Output.printJSON(line)
        }
        frames += 1
    }
}

enum Milliseconds {
    /// A duration in milliseconds, to one decimal.
    static func of(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return ((Double(seconds) * 1000 + Double(attoseconds) / 1e15) * 10).rounded() / 10
    }
}

/// `vhc verify`'s options, all optional here: without --root and --trust-list nothing is verified.
struct ScanVerificationOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The pinned root package key (PEM).", valueName: "ROOT.pem")) var root: String?
    @Option(name: .customLong("trust-list"), help: ArgumentHelp("The signed trust list.", valueName: "TL.cose"))
    var trustList: String?
    @Option(help: ArgumentHelp("The signed revocation list.", valueName: "RL.cose")) var revocations: String?
    @Option(help: ArgumentHelp("Verification time (default: the system clock).", valueName: "TIME")) var at: String?
    @Option(help: ArgumentHelp("Allowed clock skew in seconds, 0 to 120.", valueName: "SECONDS"))
    var skew: Int64 = TokenVerifier.defaultSkew
    @Option(name: .customLong("consumed-store"), help: ArgumentHelp("SQLite replay store.", valueName: "FILE"))
    var consumedStore: String?

    func session() throws -> VerificationSession? {
        guard let root, let trustList else {
            if root != nil || trustList != nil || revocations != nil || consumedStore != nil {
                throw UsageError("verification needs both --root and --trust-list")
            }
            return nil
        }
        return try VerificationSession(
            root: root, trustList: trustList, revocations: revocations, at: at, skew: skew, consumedStore: consumedStore
        )
    }
}

struct ErrorReport: Codable {
    var code: String
    var message: String
}

struct ImageReport: Codable {
    var file: String
    var codes: [CodeReport] = []
    /// The image's width and height (absent when it could not be read).
    var size: [Int]?
    /// Codes whose payload is not printable text, dropped.
    var ignored: Int?
    /// False when the still ladder's time budget ran out before every pass.
    var complete: Bool?
    var ms: Double = 0
    var error: ErrorReport?
}

struct CodeReport: Codable {
    var frame: Int?
    var text: String
    var corners: [[Int]]
    var pass: String
    var ms: Double?
    var verdict: VerificationReport?

    init(_ code: DecodedCode, session: VerificationSession?) throws {
        text = code.text
        corners = code.corners
        pass = code.pass
        verdict = try session.map { VerificationReport(try $0.verify(Array(code.text.utf8))) }
    }
}
