import Foundation
import Imaging

/// Plays still images into a `FakeV4L2Device` at a frame rate, as a webcam in front of a phone
/// would deliver them: for demonstrations and end-to-end tests on machines without a camera.
public final class FakeCameraPlayer: @unchecked Sendable {
    public let device: FakeV4L2Device
    let frames: [GrayImage]
    let interval: Double
    private let stopped = NSCondition()
    private var isStopped = false
    private var thread: Thread?

    /// A device offering YUYV and MJPEG at 640×480 and 1280×720, like common UVC webcams.
    public static func standardDevice(path: String) -> FakeV4L2Device {
        FakeV4L2Device(
            path: path,
            formats: [
                .init(.mjpeg, sizes: [(640, 480), (1280, 720)]), .init(.yuyv, sizes: [(640, 480), (1280, 720)]),
            ])
    }

    public init(device: FakeV4L2Device, frames: [GrayImage], framesPerSecond: Double = 30) {
        precondition(!frames.isEmpty, "a fake camera needs at least one frame")
        self.device = device
        self.frames = frames
        self.interval = 1 / max(1, framesPerSecond)
    }

    /// Loads the frames from an image file or every PNG/JPEG in a directory (sorted by name).
    public static func frames(from path: String) throws(ImageError) -> [GrayImage] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ImageError(.unreadable, "no such file or directory: \(path)")
        }
        guard isDirectory.boolValue else { return [try GrayImage.read(contentsOf: path)] }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().filter { name in
            [".png", ".jpg", ".jpeg"].contains { name.lowercased().hasSuffix($0) }
        }
        guard !names.isEmpty else { throw ImageError(.unreadable, "no PNG or JPEG files in \(path)") }
        var frames: [GrayImage] = []
        for name in names { frames.append(try GrayImage.read(contentsOf: path + "/" + name)) }
        return frames
    }

    public func start() {
        let thread = Thread { [self] in
            var index = 0
            stopped.lock()
            while !isStopped {
                stopped.unlock()
                device.deliver(frames[index % frames.count])
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

    public func stop() {
        stopped.lock()
        isStopped = true
        stopped.signal()
        stopped.unlock()
    }

    deinit { stop() }
}
