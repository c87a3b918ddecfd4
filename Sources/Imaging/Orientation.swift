/// How a photo's pixels are turned to be seen upright: the EXIF `Orientation` tag (values 1–8, as TIFF 6.0
/// defines them). A phone stores a portrait photo sideways and says "6" rather than rotating it; a browser
/// shows it turned, so a code's outline must be given in the turned picture.
package enum ImageOrientation: Int, Sendable, CaseIterable {
    case upright = 1, mirrored, upsideDown, flipped, transposed, rotatedClockwise, transverse, rotatedAnticlockwise

    /// Width and height swap for the four that turn by a quarter.
    package var swapsSides: Bool { rawValue >= 5 }

    /// The `Orientation` tag of a JPEG's Exif segment (APP1), or `.upright` when there is none or it cannot
    /// be read: read as the JPEG's markers are walked (`JPEGLayout`).
    package static func ofJPEG(_ bytes: UnsafeRawBufferPointer) -> ImageOrientation {
        JPEGLayout.read(bytes)?.orientation ?? .upright
    }

    /// The Orientation tag (0x0112) in the first directory of a TIFF structure. Read by hand: a few bounded
    /// steps through the TIFF header and its first directory, which no listed package reads (TurboJPEG
    /// leaves the Exif segment alone).
    static func tiffOrientation(_ tiff: UnsafeRawBufferPointer) -> ImageOrientation? {
        guard tiff.count >= 8 else { return nil }
        let littleEndian: Bool
        switch (tiff[0], tiff[1]) {
        case (0x49, 0x49): littleEndian = true  // "II"
        case (0x4D, 0x4D): littleEndian = false  // "MM"
        default: return nil
        }
        func read(_ at: Int, _ size: Int) -> Int? {
            guard at >= 0, at + size <= tiff.count else { return nil }
            return (0..<size).reduce(0) { value, index in
                let byte = Int(tiff[at + (littleEndian ? size - 1 - index : index)])
                return value << 8 | byte
            }
        }
        guard read(2, 2) == 42, let directory = read(4, 4), let count = read(directory, 2) else { return nil }
        for entry in 0..<min(count, 512) {
            let at = directory + 2 + entry * 12
            guard let tag = read(at, 2) else { return nil }
            // SHORT, one value, left-justified in the 4-byte value field.
            if tag == 0x0112, read(at + 2, 2) == 3, let value = read(at + 8, 2) {
                return ImageOrientation(rawValue: value)
            }
        }
        return nil
    }
}

extension GrayImage {
    /// The image as it is meant to be seen, turned and mirrored per `orientation`.
    package func oriented(_ orientation: ImageOrientation) -> GrayImage {
        guard orientation != .upright else { return self }
        let (outWidth, outHeight) = orientation.swapsSides ? (height, width) : (width, height)
        var out = [UInt8](repeating: 0, count: pixels.count)
        pixels.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                for y in 0..<outHeight {
                    for x in 0..<outWidth {
                        // Where the pixel shown at (x, y) is stored.
                        let (sourceX, sourceY) =
                            switch orientation {
                            case .upright: (x, y)
                            case .mirrored: (width - 1 - x, y)
                            case .upsideDown: (width - 1 - x, height - 1 - y)
                            case .flipped: (x, height - 1 - y)
                            case .transposed: (y, x)
                            case .rotatedClockwise: (y, height - 1 - x)
                            case .transverse: (width - 1 - y, height - 1 - x)
                            case .rotatedAnticlockwise: (width - 1 - y, x)
                            }
                        target[y * outWidth + x] = source[sourceY * width + sourceX]
                    }
                }
            }
        }
        return GrayImage(width: outWidth, height: outHeight, pixels: out)
    }
}
