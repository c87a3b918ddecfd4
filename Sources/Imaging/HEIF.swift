import CHeif

/// HEIF/HEIC (an iPhone's default photo format) through libheif: the primary image, turned as its
/// `irot`/`imir` properties say (libheif applies them unless told not to), decoded to 8-bit RGB (the one
/// conversion libheif makes from every source it reads: colour or grey, tiled or not, HDR or not) and
/// turned grey as a colour PNG is. Its declared size is checked before decoding, against a tighter pixel
/// limit than other formats: a HEIC is never decoded reduced, and its RGB takes three bytes a pixel.
extension GrayImage {
    /// The most pixels of a HEIC read: a 24 MP photo (an iPhone's default is 12 or 24 MP).
    package static let maximumHEIFPixels = 24 << 20

    /// Whether `bytes` start as an ISO base media file of a HEIF still-image brand: a `ftyp` box naming one
    /// (not an AVIF's, nor an image sequence's).
    package static func isHEIF(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count >= 12, Array(bytes[4..<8]) == Array("ftyp".utf8) else { return false }
        let brand = String(decoding: bytes[8..<12], as: UTF8.self)
        return ["heic", "heix", "heim", "heis", "mif1"].contains(brand)
    }

    /// libheif's plugins are registered once per process (its calls are reference counted).
    private static let heifInitialised: Bool = heif_init(nil).code == heif_error_Ok

    static func decodeHEIF(_ bytes: UnsafeRawBufferPointer) throws(ImageError) -> GrayImage {
        guard heifInitialised, let context = heif_context_alloc() else {
            throw ImageError(.corrupt, "HEIF decoder unavailable")
        }
        defer { heif_context_free(context) }
        // libheif refuses a side of this or more (its test is `>=`) from the file's declared sizes.
        heif_context_set_maximum_image_size_limit(context, Int32(maximumSide + 1))
        try check(heif_context_read_from_memory_without_copy(context, bytes.baseAddress, bytes.count, nil))
        var handle: OpaquePointer?
        try check(heif_context_get_primary_image_handle(context, &handle))
        guard let handle else { throw ImageError(.corrupt, "HEIF: no primary image") }
        defer { heif_image_handle_release(handle) }
        // The declared size once turned, before anything is decoded.
        let declaredWidth = Int(heif_image_handle_get_width(handle))
        let declaredHeight = Int(heif_image_handle_get_height(handle))
        try checkDimensions(declaredWidth, declaredHeight)
        guard declaredWidth * declaredHeight <= maximumHEIFPixels else {
            throw ImageError(
                .badDimensions,
                "a HEIC of \(declaredWidth)×\(declaredHeight) is over the \(maximumHEIFPixels >> 20) MP read: "
                    + "send it as a JPEG, or take the photo at a lower resolution")
        }
        let options = heif_decoding_options_alloc()
        defer { heif_decoding_options_free(options) }
        options?.pointee.convert_hdr_to_8bit = 1
        var decoded: OpaquePointer?
        try check(heif_decode_image(handle, &decoded, heif_colorspace_RGB, heif_chroma_interleaved_RGB, options))
        guard let decoded else { throw ImageError(.corrupt, "HEIF: nothing decoded") }
        defer { heif_image_release(decoded) }
        let width = Int(heif_image_get_width(decoded, heif_channel_interleaved))
        let height = Int(heif_image_get_height(decoded, heif_channel_interleaved))
        try checkDimensions(width, height)
        var stride: Int32 = 0
        guard heif_image_get_bits_per_pixel_range(decoded, heif_channel_interleaved) == 8,
            let plane = heif_image_get_plane_readonly(decoded, heif_channel_interleaved, &stride),
            Int(stride) >= width * 3
        else { throw ImageError(.corrupt, "HEIF: no 8-bit RGB plane") }
        var pixels = [UInt8](repeating: 0, count: width * height)
        pixels.withUnsafeMutableBufferPointer { target in
            for row in 0..<height {
                let line = plane + row * Int(stride)
                for column in 0..<width {
                    // ITU-R BT.601 luma, in integers (as libpng's RGB to grey).
                    let red = UInt32(line[column * 3]), green = UInt32(line[column * 3 + 1])
                    let blue = UInt32(line[column * 3 + 2])
                    target[row * width + column] = UInt8((77 * red + 150 * green + 29 * blue + 128) >> 8)
                }
            }
        }
        return GrayImage(width: width, height: height, pixels: pixels)
    }

    private static func check(_ error: heif_error) throws(ImageError) {
        guard error.code != heif_error_Ok else { return }
        let message = error.message.map { String(cString: $0) } ?? "error \(error.code.rawValue)"
        let code: ImageError.Code =
            error.code == heif_error_Memory_allocation_error || error.subcode == heif_suberror_Security_limit_exceeded
            ? .badDimensions : .corrupt
        throw ImageError(code, "HEIF: \(message)")
    }
}
