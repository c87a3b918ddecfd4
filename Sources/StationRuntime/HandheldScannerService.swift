import Foundation
import Logging
import Scanner
import ServiceLifecycle
import Station
import StationModels

/// A handheld scanner as a daemon service (issue 22): the device read on a thread of its own by
/// `HandheldScanner`, serial or keyboard, each code verified as a scan with source `handheld` (the
/// camera's path after its decoder), each refused line announced with its code, and the device's comings
/// and goings logged (an open failure at most once a minute) and shown on the station's scanner board.
package struct HandheldScannerService: Service {
    let path: String
    let mode: HandheldScanner.Mode
    let service: StationService
    let logger: Logger

    /// Registers the scanner on the station's board at once, so the status lists it before it opens.
    package init(path: String, mode: HandheldScanner.Mode, service: StationService, logger: Logger) {
        self.path = path
        self.mode = mode
        self.service = service
        self.logger = logger
        service.scanners.register(device: path, interface: mode.rawValue, at: service.clock())
    }

    package func run() async throws {
        let (service, logger, path, mode) = (self.service, self.logger, self.path, self.mode)
        let lastOpenWarning = LastWarning()
        let scanner = HandheldScanner(path: path, mode: mode) { event in
            Self.handle(
                event, path: path, mode: mode, service: service, logger: logger, lastOpenWarning: lastOpenWarning)
        }
        let thread = Thread { scanner.run() }
        thread.name = "scanner"
        thread.start()
        await withGracefulShutdownHandler {
            while !Task.isCancelled, !Task.isShuttingDownGracefully {
                try? await Task.sleep(for: .milliseconds(200))
            }
        } onGracefulShutdown: {
            scanner.stop()
        }
        scanner.stop()
    }

    static func handle(
        _ event: HandheldScanner.Event, path: String, mode: HandheldScanner.Mode, service: StationService,
        logger: Logger, lastOpenWarning: LastWarning
    ) {
        let board = service.scanners
        switch event {
        case .opened:
            lastOpenWarning.reset()
            board.set(path, .listening, at: service.clock())
            logger.info("scanner opened", metadata: ["device": "\(path)"])
        case .openFailed(let code):
            let reason =
                switch code {
                case EBUSY: "another program holds the device"
                case ENOTTY, EINVAL:
                    mode == .serial
                        ? "not a serial port (a keyboard-mode scanner? write keyboard:PATH)"
                        : "not an input device (a serial port? write serial:PATH)"
                default: String(cString: strerror(code))
                }
            let absent = code == ENOENT || code == ENODEV || code == ENXIO
            board.set(path, absent ? .waitingForDevice : .failed, detail: reason, at: service.clock())
            if lastOpenWarning.due(every: 60) {
                logger.warning("scanner cannot be opened; retrying", metadata: ["device": "\(path)", "error": "\(reason)"])
            }
        case .unplugged:
            board.set(path, .waitingForDevice, detail: "unplugged", at: service.clock())
            logger.warning("scanner unplugged; waiting for it", metadata: ["device": "\(path)"])
        case .read(let text):
            board.countRead(path, refused: false, at: service.clock())
            do {
                let outcome = try service.submit(text, source: "handheld")
                // Never the token: the code and the masked holder.
                logger.info("scan", metadata: ["code": "\(outcome.code)", "holder": "\(outcome.maskedHolder ?? "-")", "source": "handheld"])
            } catch {
                service.policy.database.storage.record(error, at: service.clock())
                logger.error("the station could not record a scan", metadata: ["error": "\(error)"])
            }
        case .refused(let refusal):
            board.countRead(path, refused: true, at: service.clock())
            logger.warning("scanner line refused", metadata: ["device": "\(path)", "code": "\(refusal.rawValue)"])
            try? service.refuseScannerLine(OutcomeCode(rawValue: refusal.rawValue), source: "handheld")
        }
    }
}
