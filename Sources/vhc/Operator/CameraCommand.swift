import ArgumentParser
import Foundation
import Imaging
import Scanner

/// `vhc camera list`: capture devices with their formats and sizes.
struct CameraCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "camera", abstract: "Inspect V4L2 capture devices.", subcommands: [List.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List capture devices with their formats and sizes (default: every /dev/video*).")

        @Argument(help: ArgumentHelp("Device paths (a /dev/v4l/by-id/... link works).", valueName: "PATH"))
        var paths: [String] = []

        @Flag(help: "Print JSON lines.") var json = false

        func run() throws {
            let candidates = paths.isEmpty ? Self.videoNodes() : paths
            if candidates.isEmpty {
                // JSON lines: none is no line; the words go to standard error, where they break no parser.
                let words = "no video devices (/dev/video*) on this machine"
                if json { FileHandle.standardError.write(Data((words + "\n").utf8)) } else { print(words) }
            }
            var failed = false
            for path in candidates {
                let (system, player) = try CameraSource.forCommand(path)
                defer { player?.stop() }
                let description: V4L2Camera.DeviceDescription
                do {
                    description = try V4L2Camera.describe(path: CameraSource.devicePath(path), system: system)
                } catch {
                    failed = true
                    if json {
                        try Output.printJSON(["path": path, "error": error.code.rawValue, "message": error.message])
                    } else {
                        print("\(path): \(error)")
                    }
                    continue
                }
                do {
                    if json {
                        try Output.printJSON(DeviceReport(description, path: path))
                    } else {
                        print("\(path): \(description.card) (\(description.driver), \(description.busInfo))")
                        if !description.canCapture { print("  not a capture node (metadata?)") }
                        for format in description.formats {
                            let sizes = format.sizes.map { "\($0.width)×\($0.height)" }.joined(separator: " ")
                            let name = PixelFormat.fourccName(format.fourcc)
                            print("  \(name) \(format.description)\(format.emulated ? " (emulated)" : ""): \(sizes)")
                        }
                    }
                }
            }
            if failed && !paths.isEmpty { throw ExitCode.usage }
        }

        static func videoNodes() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: "/dev")) ?? []).filter { $0.hasPrefix("video") }
                .sorted()
                .map { "/dev/" + $0 }
        }
    }

    struct DeviceReport: Encodable {
        var path, card, driver, busInfo: String
        var canCapture: Bool
        var formats: [Format]
        struct Format: Encodable {
            var fourcc, description: String
            var emulated: Bool
            var sizes: [String]
        }
        init(_ d: V4L2Camera.DeviceDescription, path: String) {
            self.path = path
            card = d.card
            driver = d.driver
            busInfo = d.busInfo
            canCapture = d.canCapture
            formats = d.formats.map {
                Format(
                    fourcc: PixelFormat.fourccName($0.fourcc), description: $0.description, emulated: $0.emulated,
                    sizes: $0.sizes.map { "\($0.width)x\($0.height)" })
            }
        }
    }
}
