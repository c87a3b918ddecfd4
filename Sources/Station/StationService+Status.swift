import Foundation
import StationBuild
import StationModels
import VirtualCard

/// The source of the camera's status for the station's status: the camera pipeline, or a fixed one.
package protocol CameraStatusProviding: Sendable {
    func cameraStatus() -> CameraStatus
}

/// A status that never changes (no camera, or tests).
package struct FixedCameraStatus: CameraStatusProviding {
    package let status: CameraStatus
    package init(_ status: CameraStatus) { self.status = status }
    package func cameraStatus() -> CameraStatus { status }
}

extension StationService {
    /// The station's state at its clock's now (`GET /v1/status`, the systemd status line).
    package func status(camera: CameraStatus) throws -> StationStatus {
        let service = self
        let now = service.clock()
        var problems: [StatusProblem] = []
        func list(_ kind: TrustState.Kind) throws -> StationStatus.ListStatus? {
            guard let held = try service.trust.held(kind) else { return nil }
            let expired = now > held.expiresAt + SignedList.gracePeriod
            if expired { problems.append(kind == .trust ? .trustListExpired : .revocationListExpired) }
            return StationStatus.ListStatus(
                sequence: held.sequence, issuedAt: held.issuedAt, expiresAt: held.expiresAt,
                ageSeconds: now - held.issuedAt, state: expired ? .expired : .current)
        }
        let trustList = try list(.trust)
        if trustList == nil { problems.append(.trustListUnavailable) }
        let revocationList = try list(.revocation)
        let highWater = try service.trust.highWater()
        let rolledBack = TrustState.isRolledBack(now: now, highWater: highWater, skew: service.settings.skewSeconds)
        if rolledBack { problems.append(.clockRolledBack) }
        if camera.state != .streaming && camera.state != .none { problems.append(.camera(camera.state)) }
        var cloud: CloudStatus?
        if service.settings.forwarding != nil {
            var link = service.uplink?.connectionStatus() ?? CloudStatus(state: .unknown)
            let backlog = try service.outbox.backlog()
            link.outboxLength = backlog.outbox
            link.oldestOutboxAgeSeconds = backlog.oldestScannedAt.map { max(0, now - $0) }
            link.awaitingPractitioner = backlog.awaitingPractitioner
            link.undeliverable = backlog.undeliverable
            link.lastUndeliverableError = backlog.lastUndeliverableError
            if link.state == .offline { problems.append(.cloudOffline) }
            // A problem for a week after the last one given up: long enough to be seen and followed up.
            if let last = backlog.lastUndeliverableAt, now - last < 7 * 86_400 { problems.append(.outboxUndeliverable) }
            cloud = link
        }
        let refusal = service.desk.refusal
        if refusal != nil { problems.append(.practitionerRefused) }
        let cardRefusal = service.desk.cardRefusal
        if cardRefusal != nil { problems.append(.cardPINRefused) }
        let listFiles = service.listFiles.current()
        if !listFiles.isEmpty { problems.append(.listFileUnusable) }
        let storage = service.policy.database.storage
        let storageTrouble = storage.trouble()
        if let storageTrouble { problems.append(storageTrouble.problem) }
        let scanners = service.scanners.current()
        if scanners.contains(where: { $0.state == .waitingForDevice || $0.state == .failed }) {
            problems.append(.scannerUnavailable)
        }
        let open = try service.sessions.openCount()
        var status = StationStatus(
            institution: service.settings.institution, now: now,
            state: problems.allSatisfy(\.isNotice) ? .ok : .degraded,
            problems: problems, camera: camera, trustList: trustList, revocationList: revocationList,
            clock: StationStatus.ClockStatus(highWater: highWater, state: rolledBack ? .rolledBack : .ok),
            database: StationStatus.DatabaseStatus(
                state: storageTrouble == nil ? .ok : .degraded, openSessions: open, auditRows: try service.audit.count(),
                freeMiB: storage.freeBytes.map { $0 / 1_048_576 }, storage: storageTrouble),
            eventStreams: service.events.subscriberCount, cloud: cloud,
            practitioner: service.desk.credential(at: now)?.status, practitionerRefusal: refusal,
            cardRefusal: cardRefusal, listFiles: listFiles.isEmpty ? nil : listFiles,
            scanners: scanners.isEmpty ? nil : scanners)
        status.version = BuildInfo.version
        status.commit = BuildInfo.commit
        return status
    }
}
