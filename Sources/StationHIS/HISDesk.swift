import Station
import StationModels
import Synchronization

/// What the listener holds between calls, as the console holds its readers: whether the HIS has
/// initialised it, and which of the station's visits the HIS has taken. A visit the station's own camera,
/// scanner or page opened in the last `presentSeconds` and not taken yet is "the card in the reader": an HIS
/// that never sees the QR text reads and registers it with an empty `{}` body.
package final class HISDesk: Sendable {
    package let service: StationService
    package let presentSeconds: Int64
    private let state = Mutex((initialized: false, taken: [String](), registering: String?.none))
    /// The visits remembered as taken: more than a front desk opens within `presentSeconds`.
    static let takenKept = 256

    package init(service: StationService, presentSeconds: Int64) {
        self.service = service
        self.presentSeconds = presentSeconds
    }

    /// `Initial`: true the first time (and after `Finalize`), false when already initialised.
    func initialise() -> Bool {
        state.withLock { state in
            defer { state.initialized = true }
            return !state.initialized
        }
    }

    func finalise() { state.withLock { $0.initialized = false } }
    var initialized: Bool { state.withLock { $0.initialized } }

    /// The newest open visit the station opened itself within `presentSeconds` and the HIS has not taken.
    func cardInReader() throws -> VisitSession? {
        let now = service.clock()
        let taken = state.withLock { $0.taken }
        return try service.sessions.list(limit: 20).first { session in
            session.state.isOpen && session.source != HISRoutes.source && now - session.openedAt <= presentSeconds
                && !taken.contains(session.id)
        }
    }

    /// The HIS registered this visit (the card in the reader, a consent's visit): it is no longer in the
    /// reader, and the sequence-number calls that follow are about it. Audited.
    func take(_ session: VisitSession) throws {
        try service.audit.append(
            at: service.clock(), kind: .hisCardTaken, subject: session.id, detail: ["holder": session.maskedHolder])
        state.withLock { state in
            state.taken.append(session.id)
            if state.taken.count > Self.takenKept { state.taken.removeFirst(state.taken.count - Self.takenKept) }
            state.registering = session.id
        }
    }

    /// A visit the HIS opened itself with a token (`Verification`): the one its next calls are about.
    func registering(_ session: VisitSession) { state.withLock { $0.registering = session.id } }

    /// The visit being registered: the last the HIS verified or took.
    func registration() throws -> VisitSession? {
        guard let id = state.withLock({ $0.registering }) else { return nil }
        return try service.sessions.session(id: id)
    }
}
