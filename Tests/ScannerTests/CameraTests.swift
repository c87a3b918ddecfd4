import CV4L2
import Foundation
import Imaging
import QRRendering
import Scanner
import Synchronization
import Testing

/// A frame whose every pixel is `value`: lets a test tell frames apart after capture.
func flat(_ value: UInt8, width: Int = 640, height: Int = 480) -> GrayImage {
    GrayImage(width: width, height: height, filledWith: value)
}

/// The fake cameras the tests use, as webcams come: raw only, raw and MJPEG, MJPEG only.
enum FakeCamera: String, Sendable, CaseIterable {
    case greyOnly, yuyvAndMJPEG, mjpegOnly, yuyv720MJPEG480

    func make() -> FakeV4L2Device {
        switch self {
        case .greyOnly: FakeV4L2Device(formats: [.init(.grey, sizes: [(640, 480), (1280, 720)])])
        case .yuyvAndMJPEG:
            FakeV4L2Device(formats: [
                .init(.mjpeg, sizes: [(640, 480), (1280, 720)]), .init(.yuyv, sizes: [(640, 480), (1280, 720)]),
            ])
        case .mjpegOnly: FakeV4L2Device(formats: [.init(.mjpeg, sizes: [(640, 480), (1280, 720)])])
        case .yuyv720MJPEG480:
            FakeV4L2Device(formats: [.init(.yuyv, sizes: [(1280, 720)]), .init(.mjpeg, sizes: [(640, 480)])])
        }
    }
}

func greyOnly() -> FakeV4L2Device { FakeCamera.greyOnly.make() }
func yuyvAndMJPEG() -> FakeV4L2Device { FakeCamera.yuyvAndMJPEG.make() }
func mjpegOnly() -> FakeV4L2Device { FakeCamera.mjpegOnly.make() }

/// A settable clock for the supervisor.
final class TestClock: Sendable {
    private let value = Mutex<Double>(0)
    var now: Double { value.withLock { $0 } }
    func advance(_ seconds: Double) { value.withLock { $0 += seconds } }
}

@Suite("V4L2 camera capture (fake device)", .serialized)
struct CameraTests {
    @Test(
        "format negotiation",
        arguments: [
            (FakeCamera.greyOnly, 640, 480, PixelFormat.grey, 640, 480),
            (.greyOnly, 1280, 720, .grey, 1280, 720),
            (.yuyvAndMJPEG, 640, 480, .yuyv, 640, 480),  // raw preferred
            (.mjpegOnly, 1280, 720, .mjpeg, 1280, 720),
            (.yuyv720MJPEG480, 640, 480, .mjpeg, 640, 480),  // no raw format at 480p
            (.greyOnly, 800, 600, .grey, 640, 480),  // a size the camera lacks: the driver's nearest
        ])
    func negotiation(
        camera kind: FakeCamera, width: Int, height: Int, expected: PixelFormat, expectedWidth: Int, expectedHeight: Int
    ) throws {
        let device = kind.make()
        let name = "\(kind) \(width)×\(height)"
        let camera = V4L2Camera(path: device.path, options: .init(width: width, height: height), system: device)
        try camera.open()
        #expect(camera.format?.pixelFormat == expected, "\(name)")
        #expect(camera.format?.width == expectedWidth && camera.format?.height == expectedHeight, "\(name)")
        camera.close()
        #expect(!device.isOpen)
    }

    @Test("no GREY, YUYV or MJPEG: camera_no_usable_format; a metadata node: camera_not_capture")
    func unusable() throws {
        let h264 = FakeV4L2Device(formats: [])
        #expect(throws: CameraError.self) { try V4L2Camera(path: h264.path, system: h264).open() }
        do { try V4L2Camera(path: h264.path, system: h264).open() } catch { #expect(error.code == .noUsableFormat) }
        let metadata = FakeV4L2Device(formats: [.init(.grey, sizes: [(640, 480)])], capabilities: 0x0080_0000)
        do {
            try V4L2Camera(path: metadata.path, system: metadata).open()
            Issue.record("a metadata node opened")
        } catch { #expect(error.code == .notACaptureDevice) }
        #expect(!metadata.isOpen)
    }

    @Test(
        "frames arrive as grey in every format, and a phone's code decodes",
        arguments: [FakeCamera.greyOnly, .yuyvAndMJPEG, .mjpegOnly])
    func framesInEveryFormat(camera kind: FakeCamera) throws {
        let device = kind.make()
        let camera = V4L2Camera(path: device.path, system: device)
        try camera.open()
        let text = tokenText(length: 250, seed: 31)
        let frame = placed(
            try QRCode.alphanumeric(text).image(pixelsPerModule: 4), width: 640, height: 480, x: 150, y: 60)
        #expect(device.deliver(frame, jpegQuality: 90))
        let captured = try #require(try camera.nextFrame(timeoutMilliseconds: 1000))
        #expect(captured.width == 640 && captured.height == 480)
        if camera.format?.pixelFormat != .mjpeg { #expect(captured == frame) }
        #expect(FrameDecoder().decodeStreamFrame(captured).map(\.text) == [text])
    }

    @Test("a slow consumer always gets the newest frame; older ones are re-queued, none lost to the driver")
    func drainToNewest() throws {
        let device = greyOnly()
        let camera = V4L2Camera(path: device.path, system: device)
        try camera.open()
        for value: UInt8 in [10, 20, 30] { #expect(device.deliver(flat(value))) }
        #expect(try camera.nextFrame(timeoutMilliseconds: 100)?.pixels.first == 30)
        #expect(camera.counters.skipped == 2)
        // All four buffers are queued again: four more frames fit without a drop.
        for value: UInt8 in [40, 50, 60, 70] { #expect(device.deliver(flat(value))) }
        #expect(device.droppedFrames == 0)
        #expect(try camera.nextFrame(timeoutMilliseconds: 100)?.pixels.first == 70)
        #expect(try camera.nextFrame(timeoutMilliseconds: 20) == nil)  // nothing new: a timeout, not a stale frame
    }

    @Test("with every buffer full the driver drops new frames; draining frees them")
    func fullQueue() throws {
        let device = greyOnly()
        let camera = V4L2Camera(path: device.path, system: device)
        try camera.open()
        for value: UInt8 in 1...4 { #expect(device.deliver(flat(value))) }
        #expect(!device.deliver(flat(5)))
        #expect(device.droppedFrames == 1)
        #expect(try camera.nextFrame(timeoutMilliseconds: 100)?.pixels.first == 4)
        #expect(device.deliver(flat(6)))
    }

    @Test("EAGAIN and EIO are transient; capture carries on")
    func transientErrors() throws {
        let device = yuyvAndMJPEG()
        let camera = V4L2Camera(path: device.path, system: device)
        try camera.open()
        device.failNextDequeues([EIO])
        #expect(try camera.nextFrame(timeoutMilliseconds: 100) == nil)
        #expect(camera.counters.transientErrors == 1)
        device.failNextDequeues([EAGAIN])
        #expect(try camera.nextFrame(timeoutMilliseconds: 100) == nil)
        #expect(device.deliver(flat(99)))
        #expect(try camera.nextFrame(timeoutMilliseconds: 100)?.pixels.first == 99)
    }

    @Test("broken MJPEG frames are rejected before decoding; the next good frame is fine")
    func brokenJPEG() throws {
        let device = mjpegOnly()
        let camera = V4L2Camera(path: device.path, system: device)
        try camera.open()
        let jpeg = try flat(128).jpegData()
        device.deliverRaw(Array(jpeg.prefix(jpeg.count / 2)))  // cut off mid-transfer: no EOI
        #expect(try camera.nextFrame(timeoutMilliseconds: 100) == nil)
        device.deliverRaw(Array(jpeg.dropFirst(2)))  // no SOI
        #expect(try camera.nextFrame(timeoutMilliseconds: 100) == nil)
        device.deliverRaw(jpeg + [0, 0, 0, 0])  // zero padding after EOI is fine
        #expect(try camera.nextFrame(timeoutMilliseconds: 100) != nil)
        device.deliverRaw(jpeg, errorFlag: true)  // the driver marked it bad
        #expect(try camera.nextFrame(timeoutMilliseconds: 100) == nil)
        #expect(camera.counters.broken == 3)
        #expect(device.deliver(flat(128)))
        #expect(try camera.nextFrame(timeoutMilliseconds: 100) != nil)
    }

    @Test("EBUSY and ENODEV have their own codes")
    func busyAndUnplugged() throws {
        let device = greyOnly()
        device.setBusy(true)
        do {
            try V4L2Camera(path: device.path, system: device).open()
            Issue.record("opened a busy device")
        } catch { #expect(error.code == .busy) }
        device.setBusy(false)
        let camera = V4L2Camera(path: device.path, system: device)
        try camera.open()
        device.unplug()
        do {
            _ = try camera.nextFrame(timeoutMilliseconds: 100)
            Issue.record("no error after unplugging")
        } catch { #expect(error.code == .unplugged) }
    }

    @Test("controls: exposure auto-priority off, extra controls by numeric id")
    func controls() throws {
        let device = greyOnly()
        var options = V4L2Camera.Options()
        options.controls = [VHC_V4L2_CID_EXPOSURE_ABSOLUTE: 150, VHC_V4L2_CID_FOCUS_ABSOLUTE: 20]
        try V4L2Camera(path: device.path, options: options, system: device).open()
        #expect(device.controlsSet[VHC_V4L2_CID_EXPOSURE_AUTO_PRIORITY] == 0)
        #expect(device.controlsSet[VHC_V4L2_CID_EXPOSURE_ABSOLUTE] == 150)
        #expect(device.controlsSet[VHC_V4L2_CID_FOCUS_ABSOLUTE] == 20)
    }

    @Test("supervisor: unplug, wait, replug, frames again, without a restart")
    func unplugAndReplug() throws {
        let device = greyOnly()
        let clock = TestClock()
        let supervisor = CaptureSupervisor(
            camera: V4L2Camera(path: device.path, system: device), now: { clock.now })
        #expect(supervisor.step(timeoutMilliseconds: 10).isIdle)
        device.deliver(flat(1))
        #expect(supervisor.step(timeoutMilliseconds: 100).frame?.pixels.first == 1)
        device.unplug()
        #expect(supervisor.step(timeoutMilliseconds: 100).isWaiting)
        clock.advance(1)
        #expect(supervisor.step().isWaiting)  // still gone: the open fails
        device.replug()
        #expect(supervisor.step().isWaiting)  // not yet due: retry interval
        clock.advance(1)
        #expect(supervisor.step(timeoutMilliseconds: 10).isIdle)
        device.deliver(flat(2))
        #expect(supervisor.step(timeoutMilliseconds: 100).frame?.pixels.first == 2)
        #expect(supervisor.events.filter { if case .opened = $0 { true } else { false } }.count == 2)
        #expect(supervisor.events.contains(.unplugged))
        #expect(supervisor.events.contains(.openFailed(.missing)))
    }

    @Test("supervisor: a device that stays missing is tried less often, up to the maximum; once open, from the start")
    func missingDeviceBacksOff() throws {
        let device = greyOnly()
        device.unplug()
        let clock = TestClock()
        let supervisor = CaptureSupervisor(camera: V4L2Camera(path: device.path, system: device), now: { clock.now })
        // A minute of steps every 0.1 s, as the pipeline's loop makes them.
        for _ in 0..<600 {
            _ = supervisor.step(timeoutMilliseconds: 1)
            clock.advance(0.1)
        }
        let tries = supervisor.events.filter { $0 == .openFailed(.missing) }.count
        // 0.5, 1, 2, 4, then every 5 s: about 15 tries in the minute, where a fixed 0.5 s made 120.
        #expect((12...18).contains(tries), "\(tries) tries")
        #expect(supervisor.openFailures == tries)
        device.replug()
        clock.advance(5)
        #expect(supervisor.step(timeoutMilliseconds: 10).isIdle)
        #expect(supervisor.openFailures == 0)
        // Unplugged again: the first retry is after the short interval again.
        device.unplug()
        #expect(supervisor.step(timeoutMilliseconds: 10).isWaiting)
        device.replug()
        clock.advance(0.6)
        #expect(supervisor.step(timeoutMilliseconds: 10).isIdle)
    }

    @Test("supervisor: no frame for 2 s reopens the device")
    func stall() throws {
        let device = greyOnly()
        let clock = TestClock()
        let supervisor = CaptureSupervisor(camera: V4L2Camera(path: device.path, system: device), now: { clock.now })
        _ = supervisor.step(timeoutMilliseconds: 10)
        clock.advance(1.9)
        _ = supervisor.step(timeoutMilliseconds: 10)
        #expect(device.openCount == 1)
        clock.advance(0.2)
        _ = supervisor.step(timeoutMilliseconds: 10)
        #expect(supervisor.events.contains(.stalled))
        _ = supervisor.step(timeoutMilliseconds: 10)
        #expect(device.openCount == 2)
        device.deliver(flat(3))
        #expect(supervisor.step(timeoutMilliseconds: 100).frame?.pixels.first == 3)
    }

    @Test("describe lists formats and sizes")
    func describe() throws {
        let device = yuyvAndMJPEG()
        let description = try V4L2Camera.describe(path: device.path, system: device)
        #expect(description.card == "Fake Camera")
        #expect(description.canCapture)
        #expect(description.formats.map(\.fourcc) == [PixelFormat.mjpeg.rawValue, PixelFormat.yuyv.rawValue])
        #expect(description.formats[1].sizes.map(\.width) == [640, 1280])
    }

    @Test("the real libv4l2 path: a missing device is camera_missing; a non-V4L2 node fails cleanly")
    func realLibV4L2() {
        do {
            try V4L2Camera(path: "/dev/video-does-not-exist").open()
            Issue.record("opened a missing device")
        } catch { #expect(error.code == .missing) }
        do {
            try V4L2Camera(path: "/dev/null").open()
            Issue.record("/dev/null opened as a camera")
        } catch { #expect(error.code == .failed || error.code == .notACaptureDevice) }
        #expect(throws: CameraError.self) { try V4L2Camera.describe(path: "/dev/video-does-not-exist") }
    }
}

extension CaptureSupervisor.Step {
    var frame: GrayImage? { if case .frame(let f) = self { f } else { nil } }
    var isIdle: Bool { if case .idle = self { true } else { false } }
    var isWaiting: Bool { if case .waitingForDevice = self { true } else { false } }
}
