import Foundation
import Imaging
import QRRendering
import TestSupport
import Testing
import VirtualCard

@Suite("vhc scan", .serialized)
struct ScanCommandTests {
    @Test("--image --json: one object per file with text, corners, pass and ms; unreadable files carry an error")
    func images() throws {
        let w = try CommandLineContractTests.Workspace()
        let token = try w.issue(["--png", "code.png"])
        let garbage = w.folder.appendingPathComponent("garbage.jpg")
        try Data([0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3]).write(to: garbage)
        let result = try Command.vhc("scan", "--image", "code.png", "garbage.jpg", "--json", in: w.folder)
        #expect(result.status == 2)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        try #require(lines.count == 2)
        let first = try jsonObject(lines[0])
        #expect(first["file"] as? String == "code.png")
        #expect(first["ms"] is NSNumber)
        let codes = try #require(first["codes"] as? [[String: Any]])
        #expect(codes.count == 1)
        #expect(codes[0]["text"] as? String == token)
        #expect(codes[0]["pass"] as? String == "zxing-photo")  // the still ladder's first pass
        #expect((codes[0]["corners"] as? [[Int]])?.count == 4)
        #expect(first["complete"] as? Bool == true && first["ignored"] as? Int == 0)
        #expect((first["size"] as? [Int])?.count == 2)
        let second = try jsonObject(lines[1])
        #expect((second["error"] as? [String: Any])?["code"] as? String == "image_corrupt")
        #expect((second["codes"] as? [Any])?.isEmpty == true)
    }

    @Test("--image with verification options carries the verdict; a second read of the same code is a replay")
    func imageWithVerdict() throws {
        let w = try CommandLineContractTests.Workspace()
        let token = try w.issue(["--png", "code.png"])
        let arguments = [
            "scan", "--image", "code.png", "--json", "--root", "root.pub", "--trust-list", "tl.cose",
            "--at", "2026-11-22T10:01:00Z", "--consumed-store", "s.sqlite",
        ]
        let first = try Command.run(Command.vhc, arguments, in: w.folder)
        #expect(first.status == 0, "\(first.stderr)")
        let verdict = try #require(
            ((try jsonObject(first.stdout))["codes"] as? [[String: Any]])?.first?["verdict"] as? [String: Any])
        #expect(verdict["code"] as? String == "valid")
        #expect((verdict["holder"] as? [String: Any])?["id"] as? String == "A123456789")
        let second = try Command.run(Command.vhc, arguments, in: w.folder)
        let again = ((try jsonObject(second.stdout))["codes"] as? [[String: Any]])?.first?["verdict"] as? [String: Any]
        #expect(again?["code"] as? String == "replayed")
        _ = token
    }

    @Test("--frames: raw grey frames from standard input; a code held up for many frames is reported once")
    func frames() throws {
        let w = try CommandLineContractTests.Workspace()
        let token = try w.issue()
        let symbol = try QRCode.alphanumeric(token).image(pixelsPerModule: 3)
        var frame = GrayImage(width: 320, height: 240, filledWith: 200)
        for y in 0..<symbol.height where y + 20 < 240 {
            for x in 0..<symbol.width where x + 60 < 320 { frame[60 + x, 20 + y] = symbol[x, y] }
        }
        let empty = GrayImage(width: 320, height: 240, filledWith: 90)
        let stream = [empty, frame, frame, frame, empty].flatMap(\.pixels)
        let result = try Command.run(Command.vhc, ["scan", "--frames", "320x240"], stdin: Data(stream), in: w.folder)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        try #require(lines.count == 1, "\(result.stdout)")
        let read = try jsonObject(String(lines[0]))
        #expect(read["text"] as? String == token)
        #expect(read["frame"] as? Int == 1)
        #expect(read["ms"] is NSNumber)
    }

    @Test("a truncated frame stream is a usage error (exit 2), after the whole frames before it")
    func truncatedStream() throws {
        let w = try CommandLineContractTests.Workspace()
        let stream = [UInt8](repeating: 7, count: 32 * 32 + 100)
        let result = try Command.run(Command.vhc, ["scan", "--frames", "32x32"], stdin: Data(stream), in: w.folder)
        #expect(result.status == 2)
        #expect(result.stderr.contains("frame_truncated"))
    }

    @Test(
        "usage errors",
        arguments: [
            ["scan"], ["scan", "--frames", "64x"], ["scan", "--frames", "64x48", "--image", "a.png"],
            ["scan", "--image", "a.png", "--root", "root.pub"],
            [
                "scan", "--image", "a.png", "--root", "root.pub",
                "--trust-list", "tl.cose", "--skew", "500",
            ],
        ])
    func usage(arguments: [String]) throws {
        let w = try CommandLineContractTests.Workspace()
        let result = try Command.run(Command.vhc, arguments, in: w.folder)
        #expect(result.status == 2, "\(arguments)")
        #expect(!result.stderr.isEmpty)
    }
}

@Suite("vhc scan --camera and vhc camera list (fake camera)", .serialized)
struct CameraCommandTests {
    @Test("--camera fake:DIR: a code held in front of the camera for many frames gives one line, with its verdict")
    func cameraScan() throws {
        let w = try CommandLineContractTests.Workspace()
        let token = try w.issue(["--png", "phone.png"])
        let frames = w.folder.appendingPathComponent("frames")
        try FileManager.default.createDirectory(at: frames, withIntermediateDirectories: true)
        try GrayImage(width: 640, height: 480, filledWith: 90).writePNG(
            to: frames.appendingPathComponent("0-empty.png").path)
        try FileManager.default.copyItem(
            at: w.folder.appendingPathComponent("phone.png"), to: frames.appendingPathComponent("1-phone.png"))
        let result = try Command.run(
            Command.vhc,
            [
                "scan", "--camera", "fake:frames", "--size", "1280x720", "--max-frames", "12", "--root", "root.pub",
                "--trust-list", "tl.cose", "--at", "2026-11-22T10:01:00Z",
            ], in: w.folder)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("YUYV 1280×720"))
        let lines = result.stdout.split(separator: "\n")
        try #require(lines.count == 1, "\(result.stdout)")
        let read = try jsonObject(String(lines[0]))
        #expect(read["text"] as? String == token)
        #expect((read["verdict"] as? [String: Any])?["code"] as? String == "valid")
    }

    @Test("a camera that cannot be opened at start is a usage error naming the code")
    func missingCamera() throws {
        let result = try Command.run(
            Command.vhc, ["scan", "--camera", "/dev/video-does-not-exist"], in: FileManager.default.temporaryDirectory)
        #expect(result.status == 2)
        #expect(result.stderr.contains("camera_missing"))
    }

    @Test("camera list: formats and sizes of a device; a missing one has its code")
    func list() throws {
        let w = try CommandLineContractTests.Workspace()
        _ = try w.issue(["--png", "phone.png"])
        let listed = try Command.vhc("camera", "list", "--json", "fake:phone.png", in: w.folder)
        #expect(listed.status == 0, "\(listed.stderr)")
        let device = try jsonObject(listed.stdout)
        #expect(device["canCapture"] as? Bool == true)
        let formats = try #require(device["formats"] as? [[String: Any]])
        #expect(formats.map { $0["fourcc"] as? String } == ["MJPG", "YUYV"])
        #expect(formats[1]["sizes"] as? [String] == ["640x480", "1280x720"])
        let missing = try Command.vhc("camera", "list", "--json", "/dev/video-none", in: w.folder)
        #expect(missing.status == 2)
        #expect(try jsonObject(missing.stdout)["error"] as? String == "camera_missing")
        // Every device of the machine: JSON lines and nothing else on standard output, even with none.
        let every = try Command.vhc("camera", "list", "--json", in: w.folder)
        for line in every.stdout.split(separator: "\n") { #expect(throws: Never.self) { try jsonObject(String(line)) } }
        let nodes = try FileManager.default.contentsOfDirectory(atPath: "/dev").filter { $0.hasPrefix("video") }
        if nodes.isEmpty {
            #expect(every.stdout.isEmpty && every.stderr.contains("no video devices"), "\(every.stdout)")
        }
    }
}
