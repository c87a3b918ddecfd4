import CV4L2

#if canImport(Glibc)
    import Glibc
#endif

/// The camera's seam at the system-call surface (open, close, ioctl, mmap, munmap, poll), the way
/// Chromium's `media/capture/video/linux/v4l2_capture_device.h` does it. libv4l2 reaches the kernel
/// through `syscall()`, so no preload trick can fake a camera; this protocol can. Calls return what
/// the C functions return, with `errno` set on failure.
package protocol VideoDeviceSystem: Sendable {
    func open(_ path: String, flags: Int32) -> Int32
    func close(_ descriptor: Int32) -> Int32
    func ioctl(_ descriptor: Int32, _ request: UInt, _ argument: UnsafeMutableRawPointer) -> Int32
    /// Maps a driver buffer for reading; `nil` (with errno) on failure.
    func mmap(length: Int, descriptor: Int32, offset: Int64) -> UnsafeMutableRawPointer?
    func munmap(_ address: UnsafeMutableRawPointer, length: Int) -> Int32
    /// Waits until the descriptor is readable: > 0 ready, 0 timed out, -1 error.
    func poll(_ descriptor: Int32, timeoutMilliseconds: Int32) -> Int32
}

/// The real thing: libv4l2 through the CV4L2 wrappers (libv4l2 also handles the odd driver quirk).
package struct LibV4L2System: VideoDeviceSystem {
    package init() {}

    package func open(_ path: String, flags: Int32) -> Int32 { vhc_v4l2_open(path, flags) }
    package func close(_ descriptor: Int32) -> Int32 { vhc_v4l2_close(descriptor) }

    package func ioctl(_ descriptor: Int32, _ request: UInt, _ argument: UnsafeMutableRawPointer) -> Int32 {
        var result: Int32
        repeat { result = vhc_v4l2_ioctl(descriptor, request, argument) } while result == -1 && errno == EINTR
        return result
    }

    package func mmap(length: Int, descriptor: Int32, offset: Int64) -> UnsafeMutableRawPointer? {
        let address = vhc_v4l2_mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, offset)
        return address == MAP_FAILED ? nil : address
    }

    package func munmap(_ address: UnsafeMutableRawPointer, length: Int) -> Int32 { vhc_v4l2_munmap(address, length) }

    package func poll(_ descriptor: Int32, timeoutMilliseconds: Int32) -> Int32 {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        var result: Int32
        repeat { result = Glibc.poll(&entry, 1, timeoutMilliseconds) } while result == -1 && errno == EINTR
        if result > 0 && entry.revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 && entry.revents & Int16(POLLIN) == 0
        {
            errno = ENODEV
            return -1
        }
        return result
    }
}
