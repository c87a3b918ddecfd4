import CPNG
import CTurboJPEG

#if canImport(Glibc)
    import Glibc
#endif

/// An 8-bit greyscale image, row by row without padding: the one pixel format the scanner works in.
package struct GrayImage: Sendable, Hashable {
    package let width: Int
    package let height: Int
    package var pixels: [UInt8]

    package init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0 && pixels.count == width * height, "pixel count must be width × height")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    package init(width: Int, height: Int, filledWith value: UInt8) {
        self.init(width: width, height: height, pixels: [UInt8](repeating: value, count: width * height))
    }

    package subscript(x: Int, y: Int) -> UInt8 {
        get { pixels[y * width + x] }
        set { pixels[y * width + x] = newValue }
    }

    /// Images larger than this are refused before any pixel memory is allocated.
    package static let maximumSide = 16_384
    package static let maximumPixels = 64 << 20
    /// A JPEG decoded from more than one scan (progressive) holds its whole image's coefficients: that
    /// memory is held to this, about 16 megapixels at 4:2:0, 8 at 4:4:4, 24 in grey (`JPEGLayout`).
    package static let maximumBufferedCoefficientBytes = 48 << 20
}

/// Why an image could not be read or written. `code` is stable and what callers compare.
package struct ImageError: Error, Hashable, Sendable, CustomStringConvertible {
    package struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        package let rawValue: String
        package init(rawValue: String) { self.rawValue = rawValue }
        package var description: String { rawValue }

        /// The file cannot be opened or read.
        package static let unreadable = Code(rawValue: "image_unreadable")
        /// Not a PNG, JPEG or HEIF file.
        package static let unsupportedFormat = Code(rawValue: "image_format_unsupported")
        /// A PNG or JPEG whose data is damaged or truncated.
        package static let corrupt = Code(rawValue: "image_corrupt")
        /// Dimensions beyond `GrayImage.maximumSide` / `maximumPixels`, or zero.
        package static let badDimensions = Code(rawValue: "image_dimensions_invalid")
        /// The image cannot be written.
        package static let unwritable = Code(rawValue: "image_unwritable")
    }

    package let code: Code
    package let message: String
    package var description: String { "\(code): \(message)" }

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}

// MARK: - Files

extension GrayImage {
    /// Reads a PNG or JPEG file (by its content, not its name) as 8-bit grey.
    package static func read(contentsOf path: String, maximumFileSize: Int = 64 << 20) throws(ImageError) -> GrayImage {
        try decode(fileBytes(path, maximumFileSize: maximumFileSize))
    }

    /// A file's bytes, refused past `maximumFileSize` (an image file, before decoding).
    package static func fileBytes(_ path: String, maximumFileSize: Int = 64 << 20) throws(ImageError) -> [UInt8] {
        guard let file = fopen(path, "rb") else { throw ImageError(.unreadable, "cannot open \(path)") }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
            guard bytes.count <= maximumFileSize else {
                throw ImageError(.badDimensions, "\(path) is over \(maximumFileSize) bytes")
            }
        }
        guard ferror(file) == 0 else { throw ImageError(.unreadable, "cannot read \(path)") }
        return bytes
    }

    /// Decodes PNG or JPEG bytes, recognised by their signature.
    package static func decode(_ bytes: [UInt8]) throws(ImageError) -> GrayImage {
        let result = bytes.withUnsafeBytes { buffer in Result { () throws(ImageError) in try decode(buffer) } }
        return try result.get()
    }

    /// Decodes PNG or JPEG bytes in place (a request body: no copy of a large image).
    package static func decode(_ bytes: UnsafeRawBufferPointer) throws(ImageError) -> GrayImage {
        try decode(bytes, fittingPixels: nil).image
    }

    /// An image decoded, possibly reduced: `reduction` is the divisor applied (1 when none), `width` and
    /// `height` the encoded image's own size.
    package struct Decoded: Sendable {
        package var image: GrayImage
        package var reduction: Int
        package var width: Int
        package var height: Int
    }

    /// Decodes PNG, JPEG or HEIF bytes, upright (a JPEG turned by its EXIF orientation, a HEIF by its
    /// own). A JPEG of more than `fittingPixels` pixels is decoded at the largest of TurboJPEG's reductions
    /// (½, ¼, ⅛) that fits, which costs a fraction of decoding it whole and averaging it down. The image's
    /// own size must be within the limits either way; `width` and `height` are its size as seen.
    package static func decode(_ bytes: UnsafeRawBufferPointer, fittingPixels: Int?) throws(ImageError) -> Decoded {
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            let image = try decodePNG(bytes)
            return Decoded(image: image, reduction: 1, width: image.width, height: image.height)
        }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return try decodeJPEG(bytes, fittingPixels: fittingPixels) }
        if isHEIF(bytes) {
            let image = try decodeHEIF(bytes)
            return Decoded(image: image, reduction: 1, width: image.width, height: image.height)
        }
        throw ImageError(.unsupportedFormat, "not a PNG, JPEG or HEIF image")
    }

    static func checkDimensions(_ width: Int, _ height: Int) throws(ImageError) {
        guard width > 0, height > 0, width <= maximumSide, height <= maximumSide, width * height <= maximumPixels else {
            throw ImageError(.badDimensions, "\(width)×\(height) is outside 1…\(maximumSide) per side")
        }
    }

    /// PNG through libpng's simplified API, which converts any colour type and depth to grey.
    static func decodePNG(_ bytes: UnsafeRawBufferPointer) throws(ImageError) -> GrayImage {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        let begun = png_image_begin_read_from_memory(&image, bytes.baseAddress, bytes.count)
        guard begun != 0 else { throw ImageError(.corrupt, "PNG: \(pngMessage(&image))") }
        let width = Int(image.width), height = Int(image.height)
        do { try checkDimensions(width, height) } catch {
            png_image_free(&image)
            throw error
        }
        image.format = UInt32(PNG_FORMAT_GRAY)
        var pixels = [UInt8](repeating: 0, count: width * height)
        let finished = pixels.withUnsafeMutableBytes {
            png_image_finish_read(&image, nil, $0.baseAddress, Int32(width), nil)
        }
        guard finished != 0 else { throw ImageError(.corrupt, "PNG: \(pngMessage(&image))") }
        return GrayImage(width: width, height: height, pixels: pixels)
    }

    /// JPEG through TurboJPEG, straight to grey; warnings (a truncated file) count as corruption.
    static func decodeJPEG(_ bytes: UnsafeRawBufferPointer, fittingPixels: Int?) throws(ImageError) -> Decoded {
        guard let handle = tjInitDecompress() else { throw ImageError(.corrupt, "JPEG decoder unavailable") }
        defer { tjDestroy(handle) }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        let source = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        let header = tjDecompressHeader3(
            handle, source, UInt(bytes.count), &width, &height, &subsampling, &colorspace)
        guard header == 0 else { throw ImageError(.corrupt, "JPEG: \(String(cString: tjGetErrorStr2(handle)))") }
        guard width > 0, height > 0 else { throw ImageError(.corrupt, "JPEG: no frame header") }
        try checkDimensions(Int(width), Int(height))
        // A progressive or multi-scan JPEG is held as coefficients at full size whatever the reduction;
        // one whose markers cannot be walked is taken at its worst.
        let layout = JPEGLayout.read(bytes) ?? .worstCase(width: Int(width), height: Int(height))
        if layout.buffersWholeImage, layout.coefficientBytes > maximumBufferedCoefficientBytes {
            throw ImageError(
                .badDimensions,
                "a \(layout.progressive ? "progressive" : "multi-scan") JPEG of \(width)×\(height) needs up to "
                    + "\(layout.coefficientBytes >> 20) MiB to decode, over the \(maximumBufferedCoefficientBytes >> 20) MiB "
                    + "such images are allowed (about 16 megapixels at 4:2:0): send a baseline JPEG or a PNG")
        }
        // The reduction: the least of ½, ¼, ⅛ that brings the image within `fittingPixels` (⅛ at most).
        var reduction = 1
        if let fittingPixels {
            func reduced(_ side: Int32, _ divisor: Int) -> Int { (Int(side) + divisor - 1) / divisor }
            while reduction < 8, reduced(width, reduction) * reduced(height, reduction) > fittingPixels {
                reduction *= 2
            }
        }
        let scaledWidth = (Int(width) + reduction - 1) / reduction
        let scaledHeight = (Int(height) + reduction - 1) / reduction
        try checkDimensions(scaledWidth, scaledHeight)
        var pixels = [UInt8](repeating: 0, count: scaledWidth * scaledHeight)
        let decoded = pixels.withUnsafeMutableBufferPointer {
            // TurboJPEG picks the scaling factor that gives this size (it scales in the DCT domain).
            tjDecompress2(
                handle, source, UInt(bytes.count), $0.baseAddress, Int32(scaledWidth), 0, Int32(scaledHeight),
                Int32(TJPF_GRAY.rawValue), TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS)
        }
        guard decoded == 0 else { throw ImageError(.corrupt, "JPEG: \(String(cString: tjGetErrorStr2(handle)))") }
        // Turned as its Exif orientation says: the size given is the picture's as seen.
        let turns = layout.orientation.swapsSides
        return Decoded(
            image: GrayImage(width: scaledWidth, height: scaledHeight, pixels: pixels).oriented(layout.orientation),
            reduction: reduction, width: Int(turns ? height : width), height: Int(turns ? width : height))
    }

    /// Writes an 8-bit greyscale PNG through libpng's simplified API.
    package func writePNG(to path: String) throws(ImageError) {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = UInt32(PNG_FORMAT_GRAY)
        let written = pixels.withUnsafeBytes {
            png_image_write_to_file(&image, path, 0, $0.baseAddress, Int32(width), nil)
        }
        guard written != 0 else { throw ImageError(.unwritable, "cannot write \(path): \(Self.pngMessage(&image))") }
    }

    /// Encodes as JPEG (grey) at `quality` 1…100, baseline or progressive: fixtures and the camera model
    /// of the benchmark.
    package func jpegData(quality: Int = 85, progressive: Bool = false) throws(ImageError) -> [UInt8] {
        guard let handle = tjInitCompress() else { throw ImageError(.unwritable, "JPEG encoder unavailable") }
        defer { tjDestroy(handle) }
        var output: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        let status = pixels.withUnsafeBufferPointer {
            tjCompress2(
                handle, $0.baseAddress, Int32(width), 0, Int32(height), Int32(TJPF_GRAY.rawValue), &output, &size,
                Int32(TJSAMP_GRAY.rawValue), Int32(quality), progressive ? TJFLAG_PROGRESSIVE : 0)
        }
        defer { tjFree(output) }
        guard status == 0, let output else { throw ImageError(.unwritable, String(cString: tjGetErrorStr2(handle))) }
        return Array(UnsafeBufferPointer(start: output, count: Int(size)))
    }

    static func pngMessage(_ image: inout png_image) -> String {
        defer { png_image_free(&image) }
        return withUnsafeBytes(of: image.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }
}
