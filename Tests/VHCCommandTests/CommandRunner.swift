import Foundation
import Testing

/// Runs the built `vhc` (or any program) as a separate process, as a user or script would.
struct CommandResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

enum Command {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The `vhc` built beside this test bundle (override with VHC_BIN).
    static let vhc: String = {
        if let path = ProcessInfo.processInfo.environment["VHC_BIN"] { return path }
        let candidates =
            [
                Bundle.main.bundleURL.appendingPathComponent("vhc"),
                Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("vhc"),
            ] + Bundle.allBundles.map { $0.bundleURL.deletingLastPathComponent().appendingPathComponent("vhc") }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }?.path ?? "vhc-not-built"
    }()

    static func run(
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

    static func vhc(_ arguments: String..., stdin: String? = nil, in directory: URL) throws -> CommandResult {
        try run(vhc, arguments, stdin: stdin.map { Data($0.utf8) }, in: directory)
    }

    /// `python3` from PATH: the reference implementation's interpreter.
    static let python: String = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            let candidate = "\(folder)/python3"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return "/usr/bin/python3"
    }()

}

/// One JSON object from a command's standard output.
func jsonObject(_ text: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
}

/// Sorted-key JSON text of an object, for comparing objects from different producers.
func canonicalJSON(_ object: [String: Any]) throws -> String {
    String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
}
