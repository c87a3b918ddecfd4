/// Why the camera cannot deliver frames. `code` is stable; callers decide by it (retry, reopen, wait).
public struct CameraError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// No such device path (ENOENT): not plugged in, or the wrong path.
        public static let missing = Code(rawValue: "camera_missing")
        /// Another program holds the camera (EBUSY).
        public static let busy = Code(rawValue: "camera_busy")
        /// Not allowed to open it (EACCES): the station's user lacks the `video` group.
        public static let permissionDenied = Code(rawValue: "camera_permission_denied")
        /// The device went away while open (ENODEV): unplugged.
        public static let unplugged = Code(rawValue: "camera_unplugged")
        /// A device that cannot capture video by streaming (a metadata node, a radio).
        public static let notACaptureDevice = Code(rawValue: "camera_not_capture")
        /// None of GREY, YUYV or MJPEG is offered.
        public static let noUsableFormat = Code(rawValue: "camera_no_usable_format")
        /// A transient failure (EAGAIN, EIO from a dequeue): try the next frame.
        public static let transient = Code(rawValue: "camera_transient")
        /// Any other failure of a V4L2 call.
        public static let failed = Code(rawValue: "camera_failed")
    }

    public let code: Code
    public let message: String
    public let errno: Int32?
    public var description: String { "\(code): \(message)" }

    public init(_ code: Code, _ message: String, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.errno = errno
    }

    /// Classifies a failed call by its errno.
    static func from(errno value: Int32, _ what: String) -> CameraError {
        let code: Code =
            switch value {
            case ENOENT, ENXIO: .missing
            case EBUSY: .busy
            case EACCES, EPERM: .permissionDenied
            case ENODEV: .unplugged
            case EAGAIN, EIO, EINTR: .transient
            default: .failed
            }
        return CameraError(code, "\(what): \(String(cString: strerror(value)))", errno: value)
    }
}

#if canImport(Glibc)
    import Glibc
#endif
