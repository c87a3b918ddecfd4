import ArgumentParser
import Foundation
import StationModels

/// `vhc scanner list`: the handheld scanners the daemon reads and what each is doing, then the devices on
/// this machine a scanner can be (serial ports, keyboards), with their USB ids for the udev rule.
struct ScannerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scanner", abstract: "Inspect handheld scanners.", subcommands: [List.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the daemon's handheld scanners and the serial ports and keyboards on this machine.")

        @OptionGroup var daemon: DaemonOptions
        /// Where /dev and /sys are looked for: a test's fake tree (the machine has no scanner).
        @Option(help: .hidden) var root = "/"

        func run() async throws {
            let configured = await configuredScanners()
            let found = FoundDevice.all(under: root)
            if daemon.json {
                try Output.printJSON(Report(configured: configured.scanners, daemonError: configured.error, found: found))
                return
            }
            if let error = configured.error {
                print("the daemon does not answer (\(error)): its scanners are not shown")
            } else if configured.scanners.isEmpty {
                print("the daemon reads no handheld scanner (scanner.device is not set)")
            } else {
                print("the daemon's scanners:")
                for scanner in configured.scanners { print("  " + Self.describe(scanner)) }
            }
            print(found.isEmpty ? "no serial port or keyboard found on this machine" : "found on this machine:")
            let inUse = Set(configured.scanners.map { FoundDevice.resolved($0.device) })
            for device in found {
                let ids = device.usbID.map { " USB \($0)" } ?? ""
                let name = device.name.map { " \"\($0)\"" } ?? ""
                let used = inUse.contains(device.node) ? " (the daemon's)" : ""
                print("  \(device.path): \(device.interface)\(ids)\(name)\(used)")
            }
        }

        static func describe(_ scanner: ScannerStatus) -> String {
            var words = "\(scanner.device) (\(scanner.interface)): \(scanner.state.rawValue.replacingOccurrences(of: "_", with: " "))"
            if let detail = scanner.detail { words += " (\(detail))" }
            words += " since \(Printer.time(scanner.since)); \(scanner.reads) read, \(scanner.refused) refused"
            if let last = scanner.lastReadAt { words += ", last at \(Printer.time(last))" }
            return words
        }

        private func configuredScanners() async -> (scanners: [ScannerStatus], error: String?) {
            do {
                let reply = try await DaemonClient(socketPath: daemon.socketPath).call(
                    .GET, "/v1/status", as: StationStatus.self)
                return (reply.answer.scanners ?? [], nil)
            } catch {
                return ([], "\(error)")
            }
        }
    }

    struct Report: Encodable {
        var configured: [ScannerStatus]
        var daemonError: String?
        var found: [FoundDevice]
    }
}

/// A device on this machine that a handheld scanner can be: a USB serial port (`/dev/ttyACM*`, its
/// `/dev/serial/by-id` links) or a keyboard (`/dev/input/by-id/*-event-kbd`), with what sysfs says of it.
/// A scanner in keyboard mode looks like any keyboard: its name and USB ids tell it apart.
struct FoundDevice: Encodable {
    var path: String
    /// The device node the path names (a by-id link resolved).
    var node: String
    var interface: String
    /// `vvvv:pppp`, as lsusb and the udev rule write them.
    var usbID: String?
    var name: String?

    static func all(under root: String) -> [FoundDevice] {
        let base = root.hasSuffix("/") ? String(root.dropLast()) : root
        func entries(_ folder: String) -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: base + folder)) ?? []).sorted().map { folder + "/" + $0 }
        }
        var found: [FoundDevice] = []
        var seen: Set<String> = []
        let serial = entries("/dev/serial/by-id") + entries("/dev").filter { $0.hasPrefix("/dev/ttyACM") }
        let keyboards = entries("/dev/input/by-id").filter { $0.hasSuffix("-event-kbd") }
        for (paths, interface) in [(serial, "serial"), (keyboards, "keyboard")] {
            for path in paths {
                let node = resolved(base + path)
                guard seen.insert(node).inserted else { continue }  // a by-id link and its node: once
                let kernelName = (node as NSString).lastPathComponent
                let device = interface == "serial" ? "/sys/class/tty/\(kernelName)/device" : "/sys/class/input/\(kernelName)/device"
                found.append(
                    FoundDevice(
                        path: path, node: node, interface: interface,
                        usbID: usbID(base + device, interface: interface),
                        name: read(base + device + (interface == "serial" ? "/../product" : "/name"))))
            }
        }
        return found
    }

    /// The node a link names (realpath(3)); the path itself when it does not resolve.
    static func resolved(_ path: String) -> String {
        guard let real = realpath(path, nil) else { return path }
        defer { free(real) }
        return String(cString: real)
    }

    /// A tty's device is its USB interface, whose parent holds the ids; an input device has them in `id/`.
    private static func usbID(_ device: String, interface: String) -> String? {
        let (vendor, product) =
            interface == "serial"
            ? (read(device + "/../idVendor"), read(device + "/../idProduct"))
            : (read(device + "/id/vendor"), read(device + "/id/product"))
        guard let vendor, let product else { return nil }
        return "\(vendor.lowercased()):\(product.lowercased())"
    }

    /// A short sysfs attribute, trimmed; nil when absent or not text. Read with open(2), which follows the
    /// `device` link before its `..`, as sysfs means it.
    private static func read(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = buffer.withUnsafeMutableBytes { Foundation.read(descriptor, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        let text = String(decoding: buffer.prefix(count), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty || text.contains(where: { $0.isNewline }) ? nil : text
    }
}
