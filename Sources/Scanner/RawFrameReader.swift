import Imaging

#if canImport(Glibc)
    import Glibc
#endif

/// Raw 8-bit grey frames of a fixed size from a file descriptor (standard input for
/// `vhc scan --frames WxH`), so ffmpeg or any other source can feed the decoder.
package struct RawFrameReader {
    package struct Size: Hashable, Sendable, CustomStringConvertible {
        package let width: Int
        package let height: Int

        /// Parses `WIDTHxHEIGHT`, each side 16…8192.
        package init?(_ text: String) {
            let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
            guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]), (16...8192).contains(w),
                (16...8192).contains(h)
            else { return nil }
            width = w
            height = h
        }

        package var description: String { "\(width)x\(height)" }
    }

    package struct TruncatedFrame: Error, CustomStringConvertible {
        package let bytesRead: Int
        package let expected: Int
        package var description: String {
            "frame_truncated: the input ended \(bytesRead) bytes into a \(expected)-byte frame"
        }
    }

    package let size: Size
    let descriptor: Int32

    package init(size: Size, descriptor: Int32 = STDIN_FILENO) {
        self.size = size
        self.descriptor = descriptor
    }

    /// The next whole frame; `nil` at a clean end of input. A partial frame at the end is an error.
    package func next() throws -> GrayImage? {
        let expected = size.width * size.height
        var pixels = [UInt8](repeating: 0, count: expected)
        var filled = 0
        while filled < expected {
            let count = pixels.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + filled, expected - filled) }
            if count < 0 {
                if errno == EINTR { continue }
                throw TruncatedFrame(bytesRead: filled, expected: expected)
            }
            if count == 0 { break }
            filled += count
        }
        if filled == 0 { return nil }
        guard filled == expected else { throw TruncatedFrame(bytesRead: filled, expected: expected) }
        return GrayImage(width: size.width, height: size.height, pixels: pixels)
    }
}
