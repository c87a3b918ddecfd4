import Foundation
import Imaging

/// Plays still images into a `FakeV4L2Device` at a frame rate, as a webcam in front of a phone
/// would deliver them: for demonstrations and end-to-end tests on machines without a camera.
/// Played from a directory, the scene follows the directory: put a card's picture there (rename it in,
/// so it is whole) and the camera sees it from its next frame, as if a patient held up a phone. A
/// directory that goes away is the camera unplugged (its device node gone, as a USB camera's is across a
/// laptop's suspend); back, it is plugged in again.
package final class FakeCameraPlayer: @unchecked Sendable {
    package let device: FakeV4L2Device
    /// Guarded by `stopped`'s lock, like the scene's signature.
    private var frames: [GrayImage]
    let interval: Double
    /// The directory watched for a new scene, and what it held when last read.
    private let sceneDirectory: String?
    private var sceneSignature: [String]
    /// Whether the scene directory was there when last looked at: the device is plugged in.
    private var plugged = true
    private let stopped = NSCondition()
    private var isStopped = false
    private var thread: Thread?

    /// A device offering YUYV and MJPEG at 640×480 and 1280×720, like common UVC webcams.
    package static func standardDevice(path: String) -> FakeV4L2Device {
        FakeV4L2Device(
            path: path,
            formats: [
                .init(.mjpeg, sizes: [(640, 480), (1280, 720)]), .init(.yuyv, sizes: [(640, 480), (1280, 720)]),
            ])
    }

    package init(
        device: FakeV4L2Device, frames: [GrayImage], framesPerSecond: Double = 30, sceneDirectory: String? = nil
    ) {
        precondition(!frames.isEmpty, "a fake camera needs at least one frame")
        self.device = device
        self.frames = frames
        self.interval = 1 / max(1, framesPerSecond)
        self.sceneDirectory = sceneDirectory
        sceneSignature = sceneDirectory.map(Self.signature(of:)) ?? []
    }

    /// The image files of `directory` with their inode and modification time: any rename, write or
    /// removal changes it. A few `stat` calls a frame, which a 30 fps loop affords.
    static func signature(of directory: String) -> [String] {
        imageNames(in: directory).map { name in
            var info = stat()
            guard stat(directory + "/" + name, &info) == 0 else { return name }
            return "\(name) \(info.st_ino) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec) \(info.st_size)"
        }
    }

    static func imageNames(in directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted().filter { name in
            [".png", ".jpg", ".jpeg"].contains { name.lowercased().hasSuffix($0) }
        }
    }

    /// A changed directory becomes the scene; one left empty or unreadable keeps the last scene (a
    /// camera keeps seeing something).
    private func followScene() {
        guard let sceneDirectory else { return }
        var isDirectory: ObjCBool = false
        let present = FileManager.default.fileExists(atPath: sceneDirectory, isDirectory: &isDirectory) && isDirectory.boolValue
        if present != plugged {
            plugged = present
            if present { device.replug() } else { device.unplug() }
        }
        let signature = Self.signature(of: sceneDirectory)
        guard signature != sceneSignature else { return }
        sceneSignature = signature
        if let loaded = try? Self.frames(from: sceneDirectory), !loaded.isEmpty { frames = loaded }
    }

    /// Loads the frames from an image file or every PNG/JPEG in a directory (sorted by name).
    package static func frames(from path: String) throws(ImageError) -> [GrayImage] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ImageError(.unreadable, "no such file or directory: \(path)")
        }
        guard isDirectory.boolValue else { return [try GrayImage.read(contentsOf: path)] }
        let names = imageNames(in: path)
        guard !names.isEmpty else { throw ImageError(.unreadable, "no PNG or JPEG files in \(path)") }
        var frames: [GrayImage] = []
        for name in names { frames.append(try GrayImage.read(contentsOf: path + "/" + name)) }
        return frames
    }

    package func start() {
        let thread = Thread { [self] in
            var index = 0
            stopped.lock()
            while !isStopped {
                followScene()
                let frame = plugged ? frames[index % frames.count] : nil  // an unplugged camera sends nothing
                stopped.unlock()
                if let frame { device.deliver(frame) }
                index += 1
                stopped.lock()
                _ = stopped.wait(until: Date(timeIntervalSinceNow: interval))
            }
            stopped.unlock()
        }
        thread.name = "fake-camera"
        self.thread = thread
        thread.start()
    }

    package func stop() {
        stopped.lock()
        isStopped = true
        stopped.signal()
        stopped.unlock()
    }

    deinit { stop() }
}
