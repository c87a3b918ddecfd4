import Foundation

/// Runs the built `vhc` (or any program; `executable(named:)` finds `vhc-cloud` and the others) as a separate process, as a user or script would.
package struct CommandResult: Sendable {
    package let status: Int32
    package let stdout: String
    package let stderr: String
}

package enum Command {
    package static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The `vhc` built beside this test bundle (override with VHC_BIN).
    package static let vhc: String = ProcessInfo.processInfo.environment["VHC_BIN"] ?? executable(named: "vhc")

    /// Debian's `promtool` (package prometheus, scripts/setup.sh): `check metrics` lints a scrape.
    package static let promtool = "/usr/bin/promtool"

    /// A product of this package built beside the test bundle.
    package static func executable(named name: String) -> String {
        let candidates =
            [
                Bundle.main.bundleURL.appendingPathComponent(name),
                Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent(name),
            ] + Bundle.allBundles.map { $0.bundleURL.deletingLastPathComponent().appendingPathComponent(name) }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }?.path ?? "\(name)-not-built"
    }

    package static func run(
        _ executable: String, _ arguments: [String], stdin: Data? = nil, in directory: URL? = nil
    ) throws
        -> CommandResult
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        let output = Pipe(), errors = Pipe(), input = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = input
        try process.run()
        // Read both pipes concurrently so neither can fill up and stall the child.
        nonisolated(unsafe) var errorData = Data()
        let errorReader = Thread { errorData = errors.fileHandleForReading.readDataToEndOfFile() }
        errorReader.start()
        if let stdin { input.fileHandleForWriting.write(stdin) }
        try input.fileHandleForWriting.close()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errorReader.isFinished { Thread.sleep(forTimeInterval: 0.001) }
        return CommandResult(
            status: process.terminationStatus, stdout: String(decoding: outputData, as: UTF8.self),
            stderr: String(decoding: errorData, as: UTF8.self))
    }

    package static func vhc(_ arguments: String..., stdin: String? = nil, in directory: URL) throws -> CommandResult {
        try run(vhc, arguments, stdin: stdin.map { Data($0.utf8) }, in: directory)
    }

    /// `python3` from PATH: the reference implementation's interpreter.
    package static let python: String = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            let candidate = "\(folder)/python3"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return "/usr/bin/python3"
    }()

}
