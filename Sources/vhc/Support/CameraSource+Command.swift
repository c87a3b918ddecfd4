import Scanner

extension CameraSource {
    /// The source for a `--camera` argument: a fake source whose images cannot be read is a usage error.
    static func forCommand(_ path: String) throws -> (any VideoDeviceSystem, FakeCameraPlayer?) {
        do { return try system(for: path) } catch { throw UsageError("--camera \(path): \(error)") }
    }
}
