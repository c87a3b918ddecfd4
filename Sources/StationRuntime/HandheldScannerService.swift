import Foundation
import Logging
import Scanner
import ServiceLifecycle
import Station
import StationModels

/// A handheld scanner in serial mode as a daemon service (issue 22): the port read on a thread of its own
/// by `SerialScanner`, each code verified as a scan with source `handheld` (the camera's path after its
/// decoder), each refused line announced with its code, and the port's comings and goings logged, an
/// open failure at most once a minute.
package struct HandheldScannerService: Service {
    let path: String
    let service: StationService
    let logger: Logger

    package init(path: String, service: StationService, logger: Logger) {
        self.path = path
        self.service = service
        self.logger = logger
    }

    package func run() async throws {
        let (service, logger, path) = (self.service, self.logger, self.path)
        let lastOpenWarning = LastWarning()
        let scanner = SerialScanner(path: path) { event in
            Self.handle(event, path: path, service: service, logger: logger, lastOpenWarning: lastOpenWarning)
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
        _ event: SerialScanner.Event, path: String, service: StationService, logger: Logger, lastOpenWarning: LastWarning
    ) {
        switch event {
        case .opened:
            lastOpenWarning.reset()
            logger.info("scanner opened", metadata: ["device": "\(path)"])
        case .openFailed(let code):
            if lastOpenWarning.due(every: 60) {
                logger.warning(
                    "scanner cannot be opened; retrying", metadata: ["device": "\(path)", "error": "\(String(cString: strerror(code)))"])
            }
        case .unplugged:
            logger.warning("scanner unplugged; waiting for it", metadata: ["device": "\(path)"])
        case .read(let text):
            do {
                let outcome = try service.submit(text, source: "handheld")
                // Never the token: the code and the masked holder.
                logger.info("scan", metadata: ["code": "\(outcome.code)", "holder": "\(outcome.maskedHolder ?? "-")", "source": "handheld"])
            } catch {
                service.policy.database.storage.record(error, at: service.clock())
                logger.error("the station could not record a scan", metadata: ["error": "\(error)"])
            }
        case .refused(let refusal):
            logger.warning("scanner line refused", metadata: ["device": "\(path)", "code": "\(refusal.rawValue)"])
            try? service.refuseScannerLine(OutcomeCode(rawValue: refusal.rawValue), source: "handheld")
        }
    }
}
