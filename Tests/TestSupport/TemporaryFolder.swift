import Foundation

/// A fresh folder under the system's temporary directory, removed with everything in it when the
/// last reference goes: tests leave nothing behind.
public final class TemporaryFolder: @unchecked Sendable {
    public let url: URL

    public init(prefix: String = "vhc-test") throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}
