import Foundation

/// A fresh folder under the system's temporary directory, removed with everything in it when the
/// last reference goes: tests leave nothing behind.
package final class TemporaryFolder: @unchecked Sendable {
    package let url: URL

    package init(prefix: String = "vhc-test") throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    package func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}
