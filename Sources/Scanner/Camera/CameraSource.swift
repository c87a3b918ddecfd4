import Foundation
import Imaging

/// A camera path: a real device, or `fake:FILE-OR-DIRECTORY`, a fake device that plays images
/// (demonstrations and tests on machines without a camera). `vhc scan` and the daemon share it.
package enum CameraSource {
    package static let fakePrefix = "fake:"

    package static func isFake(_ path: String) -> Bool { path.hasPrefix(fakePrefix) }

    /// The device path the camera opens: the fake device's own name for a fake source.
    package static func devicePath(_ path: String) -> String { isFake(path) ? "/dev/video-fake" : path }

    /// The system calls behind `path`, and for a fake source the player already feeding it frames
    /// (stop it when done).
    package static func system(
        for path: String, framesPerSecond: Double = 30
    ) throws(ImageError) -> (any VideoDeviceSystem, FakeCameraPlayer?) {
        guard isFake(path) else { return (LibV4L2System(), nil) }
        let source = String(path.dropFirst(fakePrefix.count))
        let frames = try FakeCameraPlayer.frames(from: source)
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory)
        let player = FakeCameraPlayer(
            device: FakeCameraPlayer.standardDevice(path: devicePath(path)), frames: frames,
            framesPerSecond: framesPerSecond, sceneDirectory: isDirectory.boolValue ? source : nil)
        player.start()
        return (player.device, player)
    }
}
