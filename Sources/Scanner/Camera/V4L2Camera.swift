import CV4L2
import Imaging

#if canImport(Glibc)
    import Glibc
#endif

/// One V4L2 capture device: opened non-blocking, a format negotiated, about four MMAP buffers
/// streaming. `nextFrame` waits with `poll` and then drains every completed buffer, keeps only the
/// newest and re-queues the rest, so decoding never lags behind reality (pikvm/ustreamer's pattern).
/// Not thread-safe: one capture thread owns it.
package final class V4L2Camera {
    package struct Options: Sendable {
        package var width = 640
        package var height = 480
        package var bufferCount = 4
        /// Extra controls set after the format, by numeric V4L2 control id (an exposure cap, a
        /// fixed focus). Failures are ignored: cameras differ in what they offer.
        package var controls: [UInt32: Int32] = [:]
        package init(width: Int = 640, height: Int = 480) {
            self.width = width
            self.height = height
        }
    }

    /// What capture has seen since `open`.
    package struct Counters: Hashable, Sendable {
        package var delivered = 0
        /// Older completed frames skipped in favour of a newer one.
        package var skipped = 0
        package var broken = 0
        package var transientErrors = 0
        package init() {}
    }

    package let path: String
    package let options: Options
    let system: any VideoDeviceSystem
    private var descriptor: Int32 = -1
    private var buffers: [(address: UnsafeMutableRawPointer, length: Int)] = []
    package private(set) var format: CaptureFormat?
    /// Counted over the camera's whole life, across reopenings (the metrics take differences).
    package private(set) var counters = Counters()

    package init(path: String, options: Options = Options(), system: any VideoDeviceSystem = LibV4L2System()) {
        self.path = path
        self.options = options
        self.system = system
    }

    deinit { close() }

    package var isOpen: Bool { descriptor >= 0 }

    /// Opens the device and starts streaming.
    package func open() throws(CameraError) {
        close()
        let fd = system.open(path, flags: O_RDWR | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw CameraError.from(errno: errno, "open \(path)") }
        descriptor = fd
        do {
            try requireStreamingCapture()
            format = try negotiateFormat()
            setControls()
            try startStreaming()
        } catch {
            close()
            throw error
        }
    }

    /// Stops streaming, unmaps the buffers and closes the device. Safe to call at any time.
    package func close() {
        guard descriptor >= 0 else { return }
        var type = UInt32(V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue)
        _ = system.ioctl(descriptor, VHC_VIDIOC_STREAMOFF, &type)
        for buffer in buffers { _ = system.munmap(buffer.address, length: buffer.length) }
        buffers = []
        _ = system.close(descriptor)
        descriptor = -1
        format = nil
    }

    /// Waits up to `timeoutMilliseconds` for a frame and returns the newest one completed.
    /// `nil` when nothing arrived in time or every completed frame was unusable. Transient
    /// failures (EAGAIN, EIO) are counted and return `nil`; ENODEV throws `.unplugged`.
    package func nextFrame(timeoutMilliseconds: Int32) throws(CameraError) -> GrayImage? {
        guard descriptor >= 0, let format else { throw CameraError(.failed, "the camera is not open") }
        let ready = system.poll(descriptor, timeoutMilliseconds: timeoutMilliseconds)
        if ready < 0 { throw CameraError.from(errno: errno, "poll") }
        if ready == 0 { return nil }

        var newest: v4l2_buffer? = nil
        while true {
            var buffer = v4l2_buffer()
            buffer.type = UInt32(V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue)
            buffer.memory = UInt32(V4L2_MEMORY_MMAP.rawValue)
            if system.ioctl(descriptor, VHC_VIDIOC_DQBUF, &buffer) < 0 {
                let error = CameraError.from(errno: errno, "dequeue")
                if error.code == .transient {
                    if errno != EAGAIN { counters.transientErrors += 1 }
                    break  // drained, or a transient failure: use what we have
                }
                throw error
            }
            if var older = newest {
                try queue(&older)
                counters.skipped += 1
            }
            newest = buffer
        }
        guard var chosen = newest else { return nil }
        defer { try? queue(&chosen) }
        guard chosen.flags & UInt32(V4L2_BUF_FLAG_ERROR) == 0, Int(chosen.index) < buffers.count else {
            counters.broken += 1
            return nil
        }
        let mapped = buffers[Int(chosen.index)]
        let used = format.pixelFormat == .mjpeg ? Int(chosen.bytesused) : max(Int(chosen.bytesused), format.imageSize)
        do {
            let frame = try FrameConversion.gray(
                from: UnsafeRawBufferPointer(start: mapped.address, count: min(used, mapped.length)), format: format)
            counters.delivered += 1
            return frame
        } catch {
            counters.broken += 1
            return nil
        }
    }

    // MARK: - Opening

    private func ioctl<T>(_ request: UInt, _ value: inout T, _ what: String) throws(CameraError) {
        let result = withUnsafeMutablePointer(to: &value) { system.ioctl(descriptor, request, $0) }
        if result < 0 { throw CameraError.from(errno: errno, what) }
    }

    private func requireStreamingCapture() throws(CameraError) {
        var capability = v4l2_capability()
        try ioctl(VHC_VIDIOC_QUERYCAP, &capability, "query capabilities")
        let capabilities = capability.nodeCapabilities
        guard capabilities & UInt32(V4L2_CAP_VIDEO_CAPTURE) != 0, capabilities & UInt32(V4L2_CAP_STREAMING) != 0 else {
            throw CameraError(.notACaptureDevice, "\(path) cannot stream video capture (a metadata node?)")
        }
    }

    /// GREY or YUYV at the requested size if offered natively; MJPEG at that size otherwise;
    /// failing both, the first of those formats the driver accepts, at the size it gives back.
    private func negotiateFormat() throws(CameraError) -> CaptureFormat {
        let offered = V4L2Camera.enumerateFormats(descriptor: descriptor, system: system).filter { !$0.emulated }
        let wanted = (options.width, options.height)
        let usable = offered.compactMap { entry in PixelFormat(rawValue: entry.fourcc).map { ($0, entry) } }
        guard !usable.isEmpty else {
            let names = offered.map { PixelFormat.fourccName($0.fourcc) }.joined(separator: ", ")
            throw CameraError(.noUsableFormat, "\(path) offers none of GREY, YUYV, MJPEG (it offers: \(names))")
        }
        func offers(_ pixel: PixelFormat) -> Bool {
            usable.contains { $0.0 == pixel && ($0.1.sizes.isEmpty || $0.1.sizes.contains { $0 == wanted }) }
        }
        let choice =
            [PixelFormat.grey, .yuyv, .mjpeg].first(where: offers) ?? PixelFormat.allCases.first { pixel in
                usable.contains { $0.0 == pixel }
            }!
        var format = v4l2_format()
        format.type = UInt32(V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue)
        format.fmt.pix.width = UInt32(options.width)
        format.fmt.pix.height = UInt32(options.height)
        format.fmt.pix.pixelformat = choice.rawValue
        format.fmt.pix.field = UInt32(V4L2_FIELD_NONE.rawValue)
        try ioctl(VHC_VIDIOC_S_FMT, &format, "set format \(choice) \(options.width)×\(options.height)")
        guard let confirmed = PixelFormat(rawValue: format.fmt.pix.pixelformat), format.fmt.pix.width > 0,
            format.fmt.pix.height > 0
        else { throw CameraError(.noUsableFormat, "the driver replaced \(choice) with an unusable format") }
        return CaptureFormat(
            pixelFormat: confirmed, width: Int(format.fmt.pix.width), height: Int(format.fmt.pix.height),
            bytesPerLine: Int(format.fmt.pix.bytesperline), imageSize: Int(format.fmt.pix.sizeimage))
    }

    /// Exposure auto-priority lets the camera lower its frame rate in dim light: turn it off.
    private func setControls() {
        var controls = options.controls
        if controls[VHC_V4L2_CID_EXPOSURE_AUTO_PRIORITY] == nil { controls[VHC_V4L2_CID_EXPOSURE_AUTO_PRIORITY] = 0 }
        for (id, value) in controls.sorted(by: { $0.key < $1.key }) {
            var control = v4l2_control(id: id, value: value)
            _ = withUnsafeMutablePointer(to: &control) { system.ioctl(descriptor, VHC_VIDIOC_S_CTRL, $0) }
        }
    }

    private func startStreaming() throws(CameraError) {
        var request = v4l2_requestbuffers()
        request.count = UInt32(options.bufferCount)
        request.type = UInt32(V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue)
        request.memory = UInt32(V4L2_MEMORY_MMAP.rawValue)
        try ioctl(VHC_VIDIOC_REQBUFS, &request, "request buffers")
        guard request.count >= 2 else { throw CameraError(.failed, "the driver granted \(request.count) buffers") }
        for index in 0..<request.count {
            var buffer = v4l2_buffer()
            buffer.type = UInt32(V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue)
            buffer.memory = UInt32(V4L2_MEMORY_MMAP.rawValue)
            buffer.index = index
            try ioctl(VHC_VIDIOC_QUERYBUF, &buffer, "query buffer \(index)")
            guard
                let address = system.mmap(
                    length: Int(buffer.length), descriptor: descriptor, offset: Int64(buffer.m.offset))
            else { throw CameraError.from(errno: errno, "map buffer \(index)") }
            buffers.append((address, Int(buffer.length)))
            try queue(&buffer)
        }
        var type = UInt32(V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue)
        try ioctl(VHC_VIDIOC_STREAMON, &type, "start streaming")
    }

    private func queue(_ buffer: inout v4l2_buffer) throws(CameraError) {
        try ioctl(VHC_VIDIOC_QBUF, &buffer, "queue buffer \(buffer.index)")
    }

    // MARK: - Describing devices

    package struct OfferedFormat: Hashable, Sendable {
        package var fourcc: UInt32
        package var description: String
        package var emulated: Bool
        /// Discrete sizes (width, height); empty when the driver gives a range.
        package var sizes: [Size]
        package struct Size: Hashable, Sendable {
            package var width: Int
            package var height: Int
            static func == (size: Size, pair: (Int, Int)) -> Bool { size.width == pair.0 && size.height == pair.1 }
        }
    }

    static func enumerateFormats(descriptor: Int32, system: any VideoDeviceSystem) -> [OfferedFormat] {
        var formats: [OfferedFormat] = []
        for index in 0..<64 {
            var description = v4l2_fmtdesc()
            description.index = UInt32(index)
            description.type = UInt32(V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue)
            guard withUnsafeMutablePointer(to: &description, { system.ioctl(descriptor, VHC_VIDIOC_ENUM_FMT, $0) }) == 0
            else { break }
            var sizes: [OfferedFormat.Size] = []
            for sizeIndex in 0..<64 {
                var size = v4l2_frmsizeenum()
                size.index = UInt32(sizeIndex)
                size.pixel_format = description.pixelformat
                guard
                    withUnsafeMutablePointer(to: &size, { system.ioctl(descriptor, VHC_VIDIOC_ENUM_FRAMESIZES, $0) })
                        == 0,
                    size.type == UInt32(V4L2_FRMSIZE_TYPE_DISCRETE.rawValue)
                else { break }
                sizes.append(.init(width: Int(size.discrete.width), height: Int(size.discrete.height)))
            }
            let name = cString(description.description)
            formats.append(
                OfferedFormat(
                    fourcc: description.pixelformat, description: name,
                    emulated: description.flags & UInt32(V4L2_FMT_FLAG_EMULATED) != 0, sizes: sizes))
        }
        return formats
    }

    /// What `vhc camera list` shows for one device node.
    package struct DeviceDescription: Sendable {
        package var path: String
        package var card: String
        package var driver: String
        package var busInfo: String
        package var canCapture: Bool
        package var formats: [OfferedFormat]
    }

    package static func describe(
        path: String, system: any VideoDeviceSystem = LibV4L2System()
    ) throws(CameraError)
        -> DeviceDescription
    {
        let fd = system.open(path, flags: O_RDWR | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw CameraError.from(errno: errno, "open \(path)") }
        defer { _ = system.close(fd) }
        var capability = v4l2_capability()
        guard withUnsafeMutablePointer(to: &capability, { system.ioctl(fd, VHC_VIDIOC_QUERYCAP, $0) }) == 0 else {
            throw CameraError.from(errno: errno, "query capabilities of \(path)")
        }
        let capabilities = capability.nodeCapabilities
        let canCapture = capabilities & UInt32(V4L2_CAP_VIDEO_CAPTURE) != 0
        return DeviceDescription(
            path: path, card: cString(capability.card), driver: cString(capability.driver),
            busInfo: cString(capability.bus_info),
            canCapture: canCapture, formats: canCapture ? enumerateFormats(descriptor: fd, system: system) : [])
    }
}

extension v4l2_capability {
    /// The capabilities of this device node: `device_caps` when the driver fills it in, since
    /// `capabilities` describes the whole physical device (capture and metadata nodes alike).
    var nodeCapabilities: UInt32 {
        capabilities & UInt32(V4L2_CAP_DEVICE_CAPS) != 0 ? device_caps : capabilities
    }
}

/// The text of a fixed-size, NUL-terminated C character array imported as a tuple.
func cString<Field>(_ field: Field) -> String {
    withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
}
