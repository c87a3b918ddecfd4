import Foundation

/// HEIC test pictures, made at test time by Debian's `heif-enc` (libheif-examples) from a PNG: a tool of the
/// tests, never of the station.
package enum HEIFEncoder {
    package struct Failure: Error, CustomStringConvertible {
        package let description: String
    }

    /// The HEIC of the PNG at `png`, at `quality`.
    package static func encode(png: String, quality: Int = 90) throws -> [UInt8] {
        try encode(file: png, quality: quality)
    }

    /// A colour HEIC, as a phone makes one: YCbCr 4:2:0 whose luma is `luma` (`width` × `height`, both even)
    /// and whose chroma tints it, written as a Y4M frame into `folder` first.
    package static func encodeColour(luma: [UInt8], width: Int, height: Int, in folder: String) throws -> [UInt8] {
        let path = folder + "/colour.y4m"
        let chroma = width / 2 * (height / 2)
        let frame =
            Array("YUV4MPEG2 W\(width) H\(height) F25:1 Ip A1:1 C420jpeg\nFRAME\n".utf8) + luma
            + [UInt8](repeating: 90, count: chroma) + [UInt8](repeating: 200, count: chroma)
        try Data(frame).write(to: URL(fileURLWithPath: path))
        return try encode(file: path, quality: 92)
    }

    private static func encode(file: String, quality: Int) throws -> [UInt8] {
        let output = file + ".heic"
        let run = try Command.run("/usr/bin/heif-enc", ["-q", "\(quality)", "-o", output, file])
        guard run.status == 0 else { throw Failure(description: "heif-enc failed: \(run.stderr)") }
        defer { try? FileManager.default.removeItem(atPath: output) }
        return Array(try Data(contentsOf: URL(fileURLWithPath: output)))
    }
}
