import Foundation

/// A pseudo-terminal pair standing in for a handheld scanner's serial port (USB CDC-ACM is a tty too):
/// the test writes the scanner's bytes to the master end; the station opens the slave through a link at
/// a fixed path, as a udev symlink names a scanner in a clinic, so it can be unplugged and plugged again.
package final class PseudoTerminal {
    package let master: Int32
    private let link: String

    package init(linkedAt link: String) throws {
        self.link = link
        // posix_openpt and its kin, by the ioctls they are made of (Swift's Glibc leaves them out):
        // TIOCSPTLCK = _IOW('T', 0x31, int), TIOCGPTN = _IOR('T', 0x30, unsigned int).
        master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        var unlock: Int32 = 0
        var number: UInt32 = 0
        guard master >= 0, ioctl(master, 0x4004_5431, &unlock) == 0, ioctl(master, 0x8004_5430, &number) == 0
        else { throw POSIXError(.ENODEV) }
        try? FileManager.default.removeItem(atPath: link)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "/dev/pts/\(number)")
    }

    /// What the scanner sends.
    package func send(_ bytes: [UInt8]) { _ = bytes.withUnsafeBytes { write(master, $0.baseAddress, $0.count) } }

    /// The cable pulled: the port's reader sees it hang up, and its link goes, as udev removes a scanner's
    /// (left in place, it would name whichever terminal the system hands out next under that number).
    package func unplug() {
        unlink(link)
        close(master)
    }
}
