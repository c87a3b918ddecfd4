import CV4L2
import Imaging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// An in-memory V4L2 camera behind the `VideoDeviceSystem` seam, for tests and for demonstrations
/// on machines without a camera. It answers the ioctls the station uses as a UVC driver would
/// (formats, sizes, MMAP buffers, queue and dequeue), exposes a real eventfd so `poll` works, and
/// can be scripted: frames in GREY, YUYV or MJPEG (or raw bytes, such as a truncated JPEG),
/// injected errors (EAGAIN, EIO, ENODEV, EBUSY), and unplugging and replugging.
package final class FakeV4L2Device: VideoDeviceSystem, @unchecked Sendable {
    /// A format the fake offers, with its discrete sizes.
    package struct Format: Sendable {
        package var pixelFormat: PixelFormat
        package var sizes: [(width: Int, height: Int)]
        package init(_ pixelFormat: PixelFormat, sizes: [(width: Int, height: Int)]) {
            self.pixelFormat = pixelFormat
            self.sizes = sizes
        }
    }

    package let path: String
    package let formats: [Format]
    /// Capabilities as QUERYCAP reports them (a metadata node lacks VIDEO_CAPTURE).
    package let capabilities: UInt32

    struct Buffer {
        var memory: UnsafeMutableRawPointer
        var length: Int
        var state: State = .dequeued
        var bytesUsed = 0
        var sequence: UInt32 = 0
        var errorFlag = false
        enum State { case dequeued, queued, done }
    }

    struct DeviceState {
        var present = true
        var busy = false
        var descriptor: Int32 = -1
        var format: CaptureFormat?
        var buffers: [Buffer] = []
        var completed: [Int] = []  // indices of done buffers, oldest first
        var streaming = false
        var sequence: UInt32 = 0
        var dequeueErrors: [Int32] = []
        var controls: [UInt32: Int32] = [:]
        var dropped = 0
        var opens = 0
    }

    private let state = Mutex(DeviceState())

    package init(
        path: String = "/dev/video-fake", formats: [Format],
        capabilities: UInt32 = UInt32(V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING)
    ) {
        self.path = path
        self.formats = formats
        self.capabilities = capabilities
    }

    deinit {
        state.withLock { s in
            for buffer in s.buffers { buffer.memory.deallocate() }
            if s.descriptor >= 0 { Glibc.close(s.descriptor) }
        }
    }

    // MARK: - Scripting

    /// What the camera negotiated, once opened.
    package var negotiatedFormat: CaptureFormat? { state.withLock { $0.format } }
    package var controlsSet: [UInt32: Int32] { state.withLock { $0.controls } }
    /// Frames the fake could not deliver because no buffer was queued (as a driver drops them).
    package var droppedFrames: Int { state.withLock { $0.dropped } }
    package var openCount: Int { state.withLock { $0.opens } }
    package var isOpen: Bool { state.withLock { $0.descriptor >= 0 } }

    /// Delivers a frame in the negotiated format; returns `false` when no buffer was queued.
    @discardableResult
    package func deliver(_ frame: GrayImage, jpegQuality: Int = 80) -> Bool {
        guard let format = negotiatedFormat else { return false }
        let scaled = Self.fitted(frame, width: format.width, height: format.height)
        let bytes: [UInt8]
        switch format.pixelFormat {
        case .grey:
            bytes = Self.padRows(scaled.pixels, width: format.width, height: format.height, stride: format.bytesPerLine)
        case .yuyv:
            var packed = [UInt8](repeating: 128, count: format.bytesPerLine * format.height)
            for y in 0..<format.height {
                for x in 0..<format.width { packed[y * format.bytesPerLine + 2 * x] = scaled[x, y] }
            }
            bytes = packed
        case .mjpeg:
            bytes = (try? scaled.jpegData(quality: jpegQuality)) ?? []
        }
        return deliverRaw(bytes)
    }

    /// Delivers raw bytes as the next frame (a truncated JPEG, a short frame).
    @discardableResult
    package func deliverRaw(_ bytes: [UInt8], errorFlag: Bool = false) -> Bool {
        state.withLock { s in
            guard s.streaming, let index = s.buffers.indices.first(where: { s.buffers[$0].state == .queued }) else {
                s.dropped += 1
                return false
            }
            let count = min(bytes.count, s.buffers[index].length)
            bytes.withUnsafeBytes { s.buffers[index].memory.copyMemory(from: $0.baseAddress!, byteCount: count) }
            s.sequence += 1
            s.buffers[index].state = .done
            s.buffers[index].bytesUsed = count
            s.buffers[index].sequence = s.sequence
            s.buffers[index].errorFlag = errorFlag
            s.completed.append(index)
            _ = vhc_eventfd_signal(s.descriptor)
            return true
        }
    }

    /// The next dequeues fail with these errno values, in order.
    package func failNextDequeues(_ errors: [Int32]) {
        state.withLock { s in
            s.dequeueErrors += errors
            if s.descriptor >= 0 { _ = vhc_eventfd_signal(s.descriptor) }  // wake the poller so it sees them
        }
    }

    /// Pulls the plug: every call on the open descriptor fails with ENODEV; opening fails with ENOENT.
    package func unplug() {
        state.withLock { s in
            s.present = false
            if s.descriptor >= 0 { _ = vhc_eventfd_signal(s.descriptor) }
        }
    }

    package func replug() { state.withLock { $0.present = true } }

    /// Another program holds the device: opening fails with EBUSY.
    package func setBusy(_ busy: Bool) { state.withLock { $0.busy = busy } }

    /// The frame as the sensor sees it: scaled down to fit if larger, centred on mid-grey.
    static func fitted(_ frame: GrayImage, width: Int, height: Int) -> GrayImage {
        if frame.width == width && frame.height == height { return frame }
        let scale = min(1, min(Double(width) / Double(frame.width), Double(height) / Double(frame.height)))
        let image =
            scale < 1
            ? frame.resizedByArea(
                width: max(1, Int(Double(frame.width) * scale)), height: max(1, Int(Double(frame.height) * scale)))
            : frame
        var canvas = GrayImage(width: width, height: height, filledWith: 128)
        let left = (width - image.width) / 2, top = (height - image.height) / 2
        for y in 0..<image.height {
            for x in 0..<image.width { canvas[left + x, top + y] = image[x, y] }
        }
        return canvas
    }

    static func padRows(_ pixels: [UInt8], width: Int, height: Int, stride: Int) -> [UInt8] {
        guard stride != width else { return pixels }
        var out = [UInt8](repeating: 0, count: stride * height)
        for y in 0..<height { out[(y * stride)..<(y * stride + width)] = pixels[(y * width)..<(y * width + width)] }
        return out
    }

    // MARK: - VideoDeviceSystem

    package func open(_ path: String, flags: Int32) -> Int32 {
        var failure: Int32 = 0
        return finish(failure: &failure) { failure in
            state.withLock { s in
                guard path == self.path, s.present else { return fail(ENOENT, &failure) }
                guard !s.busy, s.descriptor < 0 else { return fail(EBUSY, &failure) }
                let descriptor = vhc_eventfd_create()
                guard descriptor >= 0 else { return -1 }
                s.descriptor = descriptor
                s.opens += 1
                return descriptor
            }
        }
    }

    package func close(_ descriptor: Int32) -> Int32 {
        var failure: Int32 = 0
        return finish(failure: &failure) { failure in
            state.withLock { s in
                guard descriptor == s.descriptor else { return fail(EBADF, &failure) }
                for buffer in s.buffers { buffer.memory.deallocate() }
                s.buffers = []
                s.completed = []
                s.streaming = false
                s.format = nil
                s.dequeueErrors = []
                Glibc.close(descriptor)
                s.descriptor = -1
                return 0
            }
        }
    }

    package func poll(_ descriptor: Int32, timeoutMilliseconds: Int32) -> Int32 {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let result = state.withLock { $0.present } ? Glibc.poll(&entry, 1, timeoutMilliseconds) : -1
        if !state.withLock({ $0.present }) {
            errno = ENODEV
            return -1
        }
        return result
    }

    package func mmap(length: Int, descriptor: Int32, offset: Int64) -> UnsafeMutableRawPointer? {
        let address = state.withLock { s -> UnsafeMutableRawPointer? in
            let index = Int(offset) / Self.pageSize
            guard descriptor == s.descriptor, s.buffers.indices.contains(index), length <= s.buffers[index].length
            else {
                return nil
            }
            return s.buffers[index].memory
        }
        if address == nil { errno = EINVAL }
        return address
    }

    package func munmap(_ address: UnsafeMutableRawPointer, length: Int) -> Int32 { 0 }

    static let pageSize = 4096

    package func ioctl(_ descriptor: Int32, _ request: UInt, _ argument: UnsafeMutableRawPointer) -> Int32 {
        var failure: Int32 = 0
        return finish(failure: &failure) { failure in
            state.withLock { s in
                guard descriptor == s.descriptor else { return fail(EBADF, &failure) }
                guard s.present else { return fail(ENODEV, &failure) }
                switch request {
                case VHC_VIDIOC_QUERYCAP:
                    let capability = argument.assumingMemoryBound(to: v4l2_capability.self)
                    capability.pointee = v4l2_capability()
                    Self.write("fake", to: &capability.pointee.driver)
                    Self.write("Fake Camera", to: &capability.pointee.card)
                    Self.write("platform:fake", to: &capability.pointee.bus_info)
                    capability.pointee.capabilities = capabilities | UInt32(V4L2_CAP_DEVICE_CAPS)
                    capability.pointee.device_caps = capabilities
                    return 0
                case VHC_VIDIOC_ENUM_FMT:
                    let description = argument.assumingMemoryBound(to: v4l2_fmtdesc.self)
                    let index = Int(description.pointee.index)
                    guard index < formats.count else { return fail(EINVAL, &failure) }
                    description.pointee.pixelformat = formats[index].pixelFormat.rawValue
                    description.pointee.flags =
                        formats[index].pixelFormat == .mjpeg ? UInt32(V4L2_FMT_FLAG_COMPRESSED) : 0
                    Self.write("\(formats[index].pixelFormat)", to: &description.pointee.description)
                    return 0
                case VHC_VIDIOC_ENUM_FRAMESIZES:
                    let size = argument.assumingMemoryBound(to: v4l2_frmsizeenum.self)
                    guard let format = formats.first(where: { $0.pixelFormat.rawValue == size.pointee.pixel_format }),
                        Int(size.pointee.index) < format.sizes.count
                    else { return fail(EINVAL, &failure) }
                    size.pointee.type = UInt32(V4L2_FRMSIZE_TYPE_DISCRETE.rawValue)
                    size.pointee.discrete.width = UInt32(format.sizes[Int(size.pointee.index)].width)
                    size.pointee.discrete.height = UInt32(format.sizes[Int(size.pointee.index)].height)
                    return 0
                case VHC_VIDIOC_S_FMT, VHC_VIDIOC_G_FMT:
                    guard !s.streaming || request == VHC_VIDIOC_G_FMT else { return fail(EBUSY, &failure) }
                    let format = argument.assumingMemoryBound(to: v4l2_format.self)
                    if request == VHC_VIDIOC_S_FMT {
                        // As a driver does: an unoffered format becomes the first offered, an unoffered size the nearest.
                        let offered =
                            formats.first { $0.pixelFormat.rawValue == format.pointee.fmt.pix.pixelformat }
                            ?? formats[0]
                        let wanted = (Int(format.pointee.fmt.pix.width), Int(format.pointee.fmt.pix.height))
                        let size = offered.sizes.min {
                            abs($0.width - wanted.0) + abs($0.height - wanted.1) < abs($1.width - wanted.0)
                                + abs($1.height - wanted.1)
                        }!
                        let stride =
                            offered.pixelFormat == .yuyv
                            ? size.width * 2 : offered.pixelFormat == .grey ? size.width : 0
                        let imageSize = offered.pixelFormat == .mjpeg ? size.width * size.height : stride * size.height
                        s.format = CaptureFormat(
                            pixelFormat: offered.pixelFormat, width: size.width, height: size.height,
                            bytesPerLine: stride,
                            imageSize: imageSize)
                    }
                    guard let current = s.format else { return fail(EINVAL, &failure) }
                    format.pointee.fmt.pix.pixelformat = current.pixelFormat.rawValue
                    format.pointee.fmt.pix.width = UInt32(current.width)
                    format.pointee.fmt.pix.height = UInt32(current.height)
                    format.pointee.fmt.pix.bytesperline = UInt32(current.bytesPerLine)
                    format.pointee.fmt.pix.sizeimage = UInt32(current.imageSize)
                    return 0
                case VHC_VIDIOC_S_CTRL:
                    let control = argument.assumingMemoryBound(to: v4l2_control.self)
                    s.controls[control.pointee.id] = control.pointee.value
                    return 0
                case VHC_VIDIOC_REQBUFS:
                    let request = argument.assumingMemoryBound(to: v4l2_requestbuffers.self)
                    guard let format = s.format, !s.streaming else { return fail(EBUSY, &failure) }
                    for buffer in s.buffers { buffer.memory.deallocate() }
                    let length = max(format.imageSize, 1)
                    s.buffers = (0..<Int(min(request.pointee.count, 8))).map { _ in
                        Buffer(memory: .allocate(byteCount: length, alignment: 64), length: length)
                    }
                    request.pointee.count = UInt32(s.buffers.count)
                    return 0
                case VHC_VIDIOC_QUERYBUF, VHC_VIDIOC_QBUF:
                    let buffer = argument.assumingMemoryBound(to: v4l2_buffer.self)
                    let index = Int(buffer.pointee.index)
                    guard s.buffers.indices.contains(index) else { return fail(EINVAL, &failure) }
                    buffer.pointee.length = UInt32(s.buffers[index].length)
                    buffer.pointee.m.offset = UInt32(index * Self.pageSize)
                    if request == VHC_VIDIOC_QBUF {
                        guard s.buffers[index].state == .dequeued else { return fail(EINVAL, &failure) }
                        s.buffers[index].state = .queued
                    }
                    return 0
                case VHC_VIDIOC_DQBUF:
                    if !s.dequeueErrors.isEmpty { return fail(s.dequeueErrors.removeFirst(), &failure) }
                    guard s.streaming, !s.completed.isEmpty else {
                        vhc_eventfd_drain(s.descriptor)
                        return fail(EAGAIN, &failure)
                    }
                    let index = s.completed.removeFirst()
                    s.buffers[index].state = .dequeued
                    let buffer = argument.assumingMemoryBound(to: v4l2_buffer.self)
                    buffer.pointee.index = UInt32(index)
                    buffer.pointee.bytesused = UInt32(s.buffers[index].bytesUsed)
                    buffer.pointee.sequence = s.buffers[index].sequence
                    buffer.pointee.length = UInt32(s.buffers[index].length)
                    buffer.pointee.flags = s.buffers[index].errorFlag ? UInt32(V4L2_BUF_FLAG_ERROR) : 0
                    if s.completed.isEmpty { vhc_eventfd_drain(s.descriptor) }
                    return 0
                case VHC_VIDIOC_STREAMON:
                    guard !s.buffers.isEmpty else { return fail(EINVAL, &failure) }
                    s.streaming = true
                    return 0
                case VHC_VIDIOC_STREAMOFF:
                    s.streaming = false
                    s.completed = []
                    for index in s.buffers.indices { s.buffers[index].state = .dequeued }
                    return 0
                default:
                    return fail(ENOTTY, &failure)
                }
            }
        }
    }

    /// Records why a call failed; `errno` is set once the lock is released (an unlock may touch it).
    private func fail(_ code: Int32, _ failure: inout Int32) -> Int32 {
        failure = code
        return -1
    }

    private func finish(failure: inout Int32, _ body: (inout Int32) -> Int32) -> Int32 {
        let result = body(&failure)
        if result < 0 { errno = failure }
        return result
    }

    static func write<T>(_ text: String, to field: inout T) {
        withUnsafeMutableBytes(of: &field) { raw in
            let bytes = Array(text.utf8.prefix(raw.count - 1))
            raw.copyBytes(from: bytes + [0])
        }
    }
}
