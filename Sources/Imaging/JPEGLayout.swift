#if canImport(Glibc)
    import Glibc
#endif

/// What a JPEG's markers say about the memory its decoding takes, read before any decoding. A baseline
/// JPEG in one interleaved scan is decoded a band of rows at a time; one with more than one scan
/// (progressive, or sequential with its components in separate scans) makes libjpeg hold every DCT
/// coefficient of the whole image, two bytes each, for every component, whatever the reduction asked
/// for: a 769 KiB progressive 16384×4096 4:4:4 file took 384 MiB (issue 21). TurboJPEG 2.1 (Debian 12)
/// says neither in its header call, so the markers are walked here (ITU-T T.81 §B.1.1.3).
package struct JPEGLayout: Sendable, Equatable {
    package var width: Int
    package var height: Int
    package var progressive: Bool
    /// Start-of-scan markers in the file.
    package var scans: Int
    /// Components in the first scan: fewer than the frame's means the scans are not interleaved.
    package var firstScanComponents: Int
    /// Each component's horizontal and vertical sampling factors.
    package var sampling: [(h: Int, v: Int)]
    /// How the picture is meant to be seen: its Exif segment's Orientation tag (upright without one).
    package var orientation: ImageOrientation = .upright

    package static func == (a: JPEGLayout, b: JPEGLayout) -> Bool {
        (a.width, a.height, a.progressive, a.scans, a.firstScanComponents, a.orientation)
            == (b.width, b.height, b.progressive, b.scans, b.firstScanComponents, b.orientation)
            && a.sampling.elementsEqual(b.sampling) { $0 == $1 }
    }

    /// Whether libjpeg buffers the whole image's coefficients to decode it: progressive, or a first scan
    /// that leaves components for later ones (libjpeg's `has_multiple_scans`), or more scans than one.
    package var buffersWholeImage: Bool { progressive || scans > 1 || firstScanComponents < sampling.count }

    /// The worst a frame of `width` × `height` can take, for a file whose markers cannot be walked: three
    /// components at full resolution, buffered.
    package static func worstCase(width: Int, height: Int) -> JPEGLayout {
        JPEGLayout(
            width: width, height: height, progressive: true, scans: 2, firstScanComponents: 1,
            sampling: [(1, 1), (1, 1), (1, 1)])
    }

    /// The bytes of those coefficient buffers: each component's 8×8 blocks, 64 coefficients of 2 bytes.
    package var coefficientBytes: Int {
        let maxH = sampling.map(\.h).max() ?? 1, maxV = sampling.map(\.v).max() ?? 1
        return sampling.reduce(0) { total, factor in
            let columns = (width * factor.h + maxH - 1) / maxH
            let rows = (height * factor.v + maxV - 1) / maxV
            return total + ((columns + 7) / 8) * ((rows + 7) / 8) * 128
        }
    }

    /// The layout of `bytes`, or nil when its markers cannot be walked to a frame header and at least one
    /// scan (the decoder then says what is wrong).
    package static func read(_ bytes: UnsafeRawBufferPointer) -> JPEGLayout? {
        guard bytes.count >= 4, bytes[0] == 0xFF, bytes[1] == 0xD8 else { return nil }
        var layout: JPEGLayout?
        var orientation = ImageOrientation.upright
        var scans = 0
        var firstScanComponents = 0
        var at = 2
        while at + 1 < bytes.count {
            // Bytes where a marker should be are skipped, as libjpeg skips them (with a warning that may
            // come only after the coefficients are allocated); markers may have any number of 0xFF fill.
            while at < bytes.count, bytes[at] != 0xFF { at += 1 }
            while at < bytes.count, bytes[at] == 0xFF { at += 1 }
            guard at < bytes.count else { break }
            let marker = bytes[at]
            at += 1
            if marker == 0xD9 { break }  // end of image
            if marker == 0x01 || (0xD0...0xD7).contains(marker) { continue }  // no length
            guard at + 1 < bytes.count else { break }
            let length = Int(bytes[at]) << 8 | Int(bytes[at + 1])
            guard length >= 2, at + length <= bytes.count else { break }
            let segment = UnsafeRawBufferPointer(rebasing: bytes[(at + 2)..<(at + length)])
            // The Exif segment (APP1, "Exif\0\0" then a TIFF structure) comes before the frame.
            if marker == 0xE1, layout == nil, segment.starts(with: Array("Exif\0\0".utf8)) {
                orientation = ImageOrientation.tiffOrientation(UnsafeRawBufferPointer(rebasing: segment[6...])) ?? .upright
            }
            if Self.isFrameHeader(marker), layout == nil {
                layout = frame(segment, progressive: [0xC2, 0xC6, 0xCA, 0xCE].contains(marker))
                if layout == nil { return nil }
            }
            at += length
            if marker == 0xDA {
                if scans == 0 { firstScanComponents = segment.first.map(Int.init) ?? 0 }
                scans += 1
                at = Self.endOfEntropyCodedData(bytes, from: at)
            }
        }
        guard var found = layout, scans > 0 else { return nil }
        found.scans = scans
        found.firstScanComponents = firstScanComponents
        found.orientation = orientation
        return found
    }

    /// SOF0–SOF15 but DHT (C4), JPG (C8) and DAC (CC).
    static func isFrameHeader(_ marker: UInt8) -> Bool {
        (0xC0...0xCF).contains(marker) && marker != 0xC4 && marker != 0xC8 && marker != 0xCC
    }

    static func frame(_ segment: UnsafeRawBufferPointer, progressive: Bool) -> JPEGLayout? {
        guard segment.count >= 6 else { return nil }
        let height = Int(segment[1]) << 8 | Int(segment[2])
        let width = Int(segment[3]) << 8 | Int(segment[4])
        let count = Int(segment[5])
        guard count >= 1, segment.count >= 6 + 3 * count else { return nil }
        let sampling = (0..<count).map { index -> (h: Int, v: Int) in
            let factors = segment[6 + 3 * index + 1]
            return (max(1, Int(factors >> 4)), max(1, Int(factors & 0x0F)))
        }
        return JPEGLayout(
            width: width, height: height, progressive: progressive, scans: 0, firstScanComponents: 0, sampling: sampling)
    }

    /// The offset of the marker that ends a scan's entropy-coded data: the first 0xFF not followed by a
    /// stuffed 0x00 or a restart marker.
    static func endOfEntropyCodedData(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        guard let base = bytes.baseAddress else { return bytes.count }
        var at = start
        while at + 1 < bytes.count {
            // memchr: a photo's scan is megabytes, and 0xFF is rare in it.
            guard let found = memchr(base + at, 0xFF, bytes.count - at) else { return bytes.count }
            at = base.distance(to: UnsafeRawPointer(found))
            guard at + 1 < bytes.count else { break }
            let next = bytes[at + 1]
            if next != 0x00, next != 0xFF, !(0xD0...0xD7).contains(next) { return at }
            at += next == 0xFF ? 1 : 2
        }
        return bytes.count
    }
}
