import CloudClient
import CloudProtocol
import Logging
import ServiceLifecycle
import Station
import StationAPI
import VirtualCard

/// Sends the audit chain's head to the cloud (`POST /v1/audit-heads`) whenever it has moved, every
/// `interval`, and once more at shutdown: anchors outside the station, so `vhc audit verify --anchors
/// cloud` can later prove the log was not cut. Offline (home care), a failed send is tried again at the
/// next interval; nothing else waits for it.
struct AuditHeadUploader: Service {
    let service: StationService
    let cloud: CloudClient
    let station: String
    let interval: Duration
    let logger: Logger

    func run() async throws {
        var sent: AuditCheck.Anchor?
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            sent = await send(after: sent)
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
        _ = await send(after: sent)
        try? await cloud.shutdown()
    }

    /// Sends the head if it moved since `last`; returns what the cloud now holds.
    func send(after last: AuditCheck.Anchor?) async -> AuditCheck.Anchor? {
        let service = service
        guard let head = try? await Blocking.run({ try service.audit.head() }), head != last else {
            return last
        }
        do {
            _ = try await cloud.call(
                .POST, "/v1/audit-heads",
                json: AuditHeadUpload(station: station, sequence: head.sequence, hash: Hex.encode(head.hash)),
                as: AuditHeadUpload.self)
            logger.info("audit head sent to the cloud", metadata: ["sequence": "\(head.sequence)"])
            return head
        } catch {
            logger.warning("the cloud did not take the audit head; trying again later", metadata: ["error": "\(error)"])
            return last
        }
    }
}
