import ArgumentParser
import Foundation
import StationModels

struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit a token text, or the QR codes in an image, to the daemon.",
        discussion: """
            TOKEN: a token text from a handheld scanner or typed; - reads standard input.
            --image FILE: a PNG, JPEG or HEIC (a screenshot of a video call, a photo of the patient's phone); the daemon
              reads its QR codes and submits each token (POST /v1/scans/image). The image is not stored.
            Exit status: 0 when a session opened (for an image: for every code read), 1 for any other verdict, an
            image with no code, or an API problem, 2 when the daemon cannot be reached.
            """)
    @OptionGroup var daemon: DaemonOptions
    @Option(help: ArgumentHelp("Where the text came from (default: cli, or image for --image).", valueName: "SOURCE"))
    var source: String?
    @Option(help: ArgumentHelp("A PNG or JPEG whose QR codes to submit.", valueName: "FILE")) var image: String?
    @Argument(help: ArgumentHelp("The token text, or - for standard input.", valueName: "TOKEN")) var token: String?

    func validate() throws {
        guard (token == nil) != (image == nil) else { throw UsageError("give a TOKEN or --image FILE, not both") }
    }

    func run() async throws {
        let client = DaemonClient(socketPath: daemon.socketPath)
        if let image {
            try await submitImage(image, client: client)
            return
        }
        let text =
            token == "-" ? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) : token ?? ""
        let reply = try await client.call(
            .POST, "/v1/scans",
            json: ScanRequest(token: text.trimmingCharacters(in: .whitespacesAndNewlines), source: source ?? "cli"),
            as: ScanResponse.self)
        if daemon.json { Printer.json(reply.body) } else { Printer.verdict(reply.answer) }
        if !reply.answer.accepted { throw ExitCode.invalid }
    }

    func submitImage(_ path: String, client: DaemonClient) async throws {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
        guard let size else { throw UsageError("cannot read \(path)") }
        guard size <= ImageScanResponse.maximumImageBytes else {
            throw UsageError("\(path) is over the daemon's limit of \(ImageScanResponse.maximumImageBytes) bytes")
        }
        guard let bytes = FileManager.default.contents(atPath: path) else { throw UsageError("cannot read \(path)") }
        // The daemon decides by the content; the declared type only has to be an image's.
        let type =
            bytes.starts(with: [0x89, 0x50, 0x4E, 0x47])
            ? "image/png" : bytes.count > 8 && bytes[4..<8].elementsEqual("ftyp".utf8) ? "image/heic" : "image/jpeg"
        let reply = try await client.upload(
            "/v1/scans/image", query: [("source", source ?? "image")], contentType: type, bytes: bytes,
            as: ImageScanResponse.self)
        let read = reply.answer
        if daemon.json {
            Printer.json(reply.body)
        } else {
            if read.codes.isEmpty { print("\(path): no QR code") }
            for code in read.codes { Printer.verdict(code.scan) }
            if read.ignored > 0 { print("\(read.ignored) code(s) that are not text were ignored") }
            if !read.complete { print("the time budget ran out before every pass: a code may have been missed") }
        }
        if read.codes.isEmpty || !read.codes.allSatisfy(\.scan.accepted) { throw ExitCode.invalid }
    }
}
