/// Why the camera cannot deliver frames. `code` is stable; callers decide by it (retry, reopen, wait).
package struct CameraError: Error, Hashable, Sendable, CustomStringConvertible {
    package struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        package let rawValue: String
        package init(rawValue: String) { self.rawValue = rawValue }
        package var description: String { rawValue }

        /// No such device path (ENOENT): not plugged in, or the wrong path.
        package static let missing = Code(rawValue: "camera_missing")
        /// Another program holds the camera (EBUSY).
        package static let busy = Code(rawValue: "camera_busy")
        /// Not allowed to open it (EACCES): the station's user lacks the `video` group.
        package static let permissionDenied = Code(rawValue: "camera_permission_denied")
        /// The device went away while open (ENODEV): unplugged.
        package static let unplugged = Code(rawValue: "camera_unplugged")
        /// A device that cannot capture video by streaming (a metadata node, a radio).
        package static let notACaptureDevice = Code(rawValue: "camera_not_capture")
        /// None of GREY, YUYV or MJPEG is offered.
        package static let noUsableFormat = Code(rawValue: "camera_no_usable_format")
        /// A transient failure (EAGAIN, EIO from a dequeue): try the next frame.
        package static let transient = Code(rawValue: "camera_transient")
        /// Any other failure of a V4L2 call.
        package static let failed = Code(rawValue: "camera_failed")
    }

    package let code: Code
    package let message: String
    package let errno: Int32?
    package var description: String { "\(code): \(message)" }

    package init(_ code: Code, _ message: String, errno: Int32? = nil) {
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
