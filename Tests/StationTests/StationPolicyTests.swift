import Crypto
import Foundation
import GRDB
import Station
import StationModels
import StationTestSupport
import TestSupport
import Testing
import VirtualCard

@Suite("Station policy: scans, visit sessions, lists and the clock")
struct StationPolicyTests {
    let folder = try! TemporaryFolder(prefix: "vhc-station-policy")
    let authority = TestAuthority()
    let now = TestAuthority.now

    @Test("a valid scan opens an active one-hour session, with its audit entries and reasons in both languages")
    func validScan() throws {
        let station = try authority.station(in: folder)
        let outcome = try station.submit(try authority.token(), source: "camera", now: now)
        #expect(outcome.code == .valid)
        #expect(outcome.reason.en == "The card is valid.")
        #expect(outcome.reason.zhHant == "卡片有效。")
        #expect(outcome.maskedHolder == "A12****789 王**")
        let session = try #require(outcome.session)
        #expect(session.state == .active)
        #expect(session.expiresAt == now + 3600)
        #expect(session.holderID == "A123456789" && session.institution == "0123456789" && session.source == "camera")
        #expect(try station.sessions.session(id: session.id) == session)
        let kinds = try station.audit.entries().map(\.kind)
        #expect(kinds == ["list.installed", "session.opened", "scan.accepted"])
    }

    @Test("the same token again is a replay and opens nothing")
    func replay() throws {
        let station = try authority.station(in: folder)
        let token = try authority.token()
        #expect(try station.submit(token, source: "camera", now: now).accepted)
        let again = try station.submit(token, source: "api", now: now + 5)
        #expect(again.code == OutcomeCode(.replayed) && again.session == nil)
        #expect(again.reason.zhHant.contains("已使用過"))
        #expect(try station.sessions.list().count == 1)
        #expect(try station.audit.entries().last?.kind == "scan.rejected")
    }

    @Test("the same token submitted 50 times concurrently: exactly one session, 49 replays")
    func concurrentSubmissions() async throws {
        let station = try authority.station(in: folder)
        let token = try authority.token()
        let codes = await withTaskGroup(of: String.self) { group in
            for index in 0..<50 {
                group.addTask {
                    (try? station.submit(token, source: "api-\(index)", now: self.now).code.rawValue) ?? "error"
                }
            }
            return await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(codes.filter { $0 == "valid" }.count == 1)
        #expect(codes.filter { $0 == "replayed" }.count == 49)
        #expect(try station.sessions.list().count == 1)
    }

    @Test("scans committed in groups (the API's path): 100 tokens each sent twice at once, one session and one replay each")
    func groupedSubmissions() async throws {
        let station = try authority.station(in: folder)
        let tokens = try (0..<100).map { _ in try authority.token() }
        let outcomes = try await withThrowingTaskGroup(of: StationPolicy.Outcome.self) { group in
            for token in tokens + tokens {
                group.addTask {
                    try await station.submitGrouped(token, source: "api", now: self.now, signer: { nil }, setting: nil)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.filter(\.accepted).count == 100)
        #expect(outcomes.filter { $0.code == OutcomeCode(.replayed) }.count == 100)
        // One holder: each accepted scan closed the one before it, whichever batch either was in.
        let sessions = try station.sessions.list()
        #expect(sessions.count == 100)
        #expect(sessions.filter { $0.state == .active }.count == 1)
        #expect(outcomes.compactMap(\.superseded).count == 99)
        let kinds = try station.audit.entries().map(\.kind)
        #expect(kinds.filter { $0 == "scan.accepted" }.count == 100)
        #expect(kinds.filter { $0 == "scan.rejected" }.count == 100)
        #expect(kinds.filter { $0 == "session.closed" }.count == 99)
        #expect(try station.audit.verify().isIntact)
    }

    @Test("a card without a photo waits for an ID-document check, which must match and is recorded once")
    func photoLess() throws {
        let station = try authority.station(in: folder)
        let outcome = try station.submit(try authority.token(photo: .none), source: "camera", now: now)
        let session = try #require(outcome.session)
        #expect(session.state == .awaitingIDCheck && session.photo == "none")
        #expect(throws: SessionError.self) {
            try station.sessions.recordIDCheck(
                sessionID: session.id, document: .nationalIDCard, lastFour: "12", operatorName: "林護理師", now: now)
        }
        let mismatch = #expect(throws: SessionError.self) {
            try station.sessions.recordIDCheck(
                sessionID: session.id, document: .nationalIDCard, lastFour: "0000", operatorName: "林護理師", now: now)
        }
        #expect(mismatch?.code == .idCheckMismatch)
        #expect(try station.sessions.session(id: session.id)?.state == .awaitingIDCheck)
        let checked = try station.sessions.recordIDCheck(
            sessionID: session.id, document: .nationalIDCard, lastFour: "6789", operatorName: " 林護理師 ", now: now + 30)
        #expect(checked.state == .active)
        let check = try #require(checked.idCheck)
        #expect(check.document == .nationalIDCard && check.lastFour == "6789")
        #expect(check.operatorName == "林護理師" && check.at == now + 30)
        let twice = #expect(throws: SessionError.self) {
            try station.sessions.recordIDCheck(
                sessionID: session.id, document: .passport, lastFour: "X123", operatorName: "林護理師", now: now + 40)
        }
        #expect(twice?.code == .idCheckNotNeeded)
        let audit = try station.audit.entries().map(\.kind)
        #expect(audit.contains("session.id_check_failed") && audit.contains("session.id_checked"))
        // The operator's name is masked in the audit log like any other name.
        #expect(try station.audit.entries().allSatisfy { !$0.detail.contains("林護理師") })
    }

    @Test("a delegated card records its delegate; a revoked delegation opens nothing")
    func delegation() throws {
        let station = try authority.station(in: folder)
        let root = authority.root.publicKey
        // Delegated cards need a current revocation list.
        let noList = try station.submit(
            try authority.token(delegateID: taiwanID("F22233344")), source: "camera", now: now)
        #expect(noList.code == OutcomeCode(.revocationListUnavailable))
        try station.trust.install(.revocation, cose: try authority.revocationList(sequence: 1), root: root, now: now)
        let delegate = taiwanID("F22233344")
        let delegated = try station.submit(
            try authority.token(delegateID: delegate, delegationID: Array(repeating: 1, count: 16)), source: "camera",
            now: now)
        #expect(delegated.session?.delegateID == delegate, "\(delegated.code)")
        try station.trust.install(
            .revocation, cose: try authority.revocationList(sequence: 2, revoked: [Array(repeating: 2, count: 16)]),
            root: root, now: now)
        let revoked = try station.submit(
            try authority.token(
                holderID: taiwanID("B12345678"), delegateID: delegate, delegationID: Array(repeating: 2, count: 16)),
            source: "camera", now: now)
        #expect(revoked.code == OutcomeCode(.delegationRevoked) && revoked.session == nil, "\(revoked.code)")
    }

    @Test("a new valid scan of the same holder supersedes the open session and starts a fresh hour")
    func supersede() throws {
        let station = try authority.station(in: folder)
        let first = try #require(try station.submit(try authority.token(), source: "camera", now: now).session)
        let second = try station.submit(try authority.token(issuedAt: now + 600), source: "camera", now: now + 600)
        #expect(second.superseded?.id == first.id)
        #expect(second.superseded?.state == .closed && second.superseded?.closeReason == .superseded)
        #expect(second.session?.expiresAt == now + 600 + 3600)
        #expect(try station.sessions.list(state: .active).map(\.id) == [second.session?.id])
        #expect(try station.sessions.session(id: first.id)?.state == .closed)
        // Another holder's session is not touched.
        let other = try station.submit(
            try authority.token(holderID: taiwanID("C12345678"), issuedAt: now + 700), source: "api", now: now + 700)
        #expect(other.superseded == nil && other.accepted, "\(other.code)")
        #expect(try station.sessions.list(state: .active).count == 2)
        #expect(try station.sessions.list(holderID: "A123456789").count == 2)
    }

    @Test("an operator closes an open session; closing it again or an unknown one is refused with a code")
    func close() throws {
        let station = try authority.station(in: folder)
        let session = try #require(try station.submit(try authority.token(), source: "camera", now: now).session)
        let closed = try station.sessions.close(sessionID: session.id, now: now + 60)
        #expect(closed.state == .closed && closed.closeReason == .operator && closed.closedAt == now + 60)
        #expect(
            (#expect(throws: SessionError.self) { try station.sessions.close(sessionID: session.id, now: now) })?.code
                == .sessionNotOpen)
        #expect(
            (#expect(throws: SessionError.self) { try station.sessions.close(sessionID: "nope", now: now) })?.code
                == .sessionNotFound)
    }

    @Test("sessions expire on time, by the injected clock, whether or not anyone asks about them")
    func expiry() throws {
        let station = try authority.station(in: folder, sessionLength: 600)
        let a = try #require(try station.submit(try authority.token(), source: "camera", now: now).session)
        let b = try #require(
            try station.submit(
                try authority.token(holderID: taiwanID("D12345678"), photo: .none), source: "camera", now: now + 100
            ).session)
        #expect(try station.sessions.nextExpiry() == now + 600)
        #expect(try station.sessions.expireDue(now: now + 599).isEmpty)
        #expect(try station.sessions.expireDue(now: now + 600).map(\.id) == [a.id])
        #expect(try station.sessions.nextExpiry() == now + 700)
        let expired = try station.sessions.expireDue(now: now + 5000)
        #expect(expired.map(\.id) == [b.id] && expired.first?.closedAt == now + 700)
        #expect(try station.sessions.nextExpiry() == nil)
        #expect(try station.sessions.list(state: .expired).count == 2)
    }

    @Test("a clock behind the latest trusted time by more than the skew refuses to verify")
    func clockRollback() throws {
        let station = try authority.station(in: folder)
        #expect(try station.submit(try authority.token(), source: "camera", now: now).accepted)
        #expect(try station.trust.highWater() == now)
        // 121 s behind the last verified iat, skew 120: rolled back.
        let early = try station.submit(try authority.token(issuedAt: now - 200), source: "camera", now: now - 121)
        #expect(early.code == .clockRolledBack && early.session == nil)
        #expect(early.reason.zhHant.contains("時鐘"))
        #expect(try station.trust.clockRolledBack(now: now - 121, skew: 120))
        #expect(try !station.trust.clockRolledBack(now: now - 120, skew: 120))
        #expect(try station.submit(try authority.token(issuedAt: now - 200), source: "camera", now: now - 120).accepted)
    }

    @Test("lists: a lower sequence is refused, the same one is unchanged, an expired one shows in every verdict")
    func listRollbackAndExpiry() throws {
        let station = try authority.station(in: folder, installTrustList: false)
        #expect(try station.submit(try authority.token(), source: "camera", now: now).code == .trustListUnavailable)
        let root = authority.root.publicKey
        #expect(throws: TrustState.InstallError.self) {
            try station.trust.install(
                .revocation, cose: try authority.revocationList(sequence: 1), root: root, now: now)
        }
        let second = try authority.trustList(sequence: 2)
        #expect(try station.trust.install(.trust, cose: second, root: root, now: now) == .installed(sequence: 2))
        #expect(try station.trust.install(.trust, cose: second, root: root, now: now) == .unchanged(sequence: 2))
        let rollback = #expect(throws: TrustState.InstallError.self) {
            try station.trust.install(.trust, cose: try authority.trustList(sequence: 1), root: root, now: now)
        }
        #expect(rollback?.code == "trust_list_rollback")
        let forged = #expect(throws: TrustState.InstallError.self) {
            try station.trust.install(
                .trust, cose: try TestAuthority().trustList(sequence: 9), root: root, now: now)
        }
        #expect(forged?.code == "trust_list_invalid")
        #expect(try station.trust.held(.trust)?.sequence == 2)
        // Expired (past expiry and the grace period): every scan says so until a new list arrives.
        try station.trust.install(
            .trust, cose: try authority.trustList(sequence: 3, issuedAt: now - 90_000, expiresAt: now - 3600),
            root: root,
            now: now)
        #expect(
            try station.submit(try authority.token(), source: "camera", now: now).code == OutcomeCode(.trustListExpired)
        )
        try station.trust.install(.trust, cose: try authority.trustList(sequence: 4), root: root, now: now)
        #expect(try station.submit(try authority.token(), source: "camera", now: now).accepted)
    }

    @Test(
        "a list dated in the future is refused before it can move the clock mark; one slightly ahead does not lock the station; an operator can reset the mark"
    )
    func futureDatedLists() throws {
        let station = try authority.station(in: folder)
        let root = authority.root.publicKey
        let before = try station.trust.highWater()
        // Issued a day ahead: refused, nothing moves, scans go on.
        let future = #expect(throws: TrustState.InstallError.self) {
            try station.trust.install(
                .trust,
                cose: try authority.trustList(sequence: 5, issuedAt: now + 86_400, expiresAt: now + 30 * 86_400),
                root: root, now: now)
        }
        #expect(future?.code == "trust_list_invalid")
        let revocation = #expect(throws: TrustState.InstallError.self) {
            try station.trust.install(
                .revocation, cose: try authority.revocationList(sequence: 5, issuedAt: now + 3600), root: root,
                now: now)
        }
        #expect(revocation?.code == "revocation_list_invalid")
        #expect(try station.trust.highWater() == before)
        #expect(try station.submit(try authority.token(), source: "camera", now: now).accepted)
        // Issued 250 s ahead (within the profile's 300 s): installed, and the mark stops at now.
        #expect(
            try station.trust.install(
                .trust, cose: try authority.trustList(sequence: 6, issuedAt: now + 250), root: root, now: now)
                == .installed(sequence: 6))
        #expect(try station.trust.highWater() == now)
        #expect(try station.submit(try authority.token(), source: "camera", now: now + 1).accepted)

        // A mark that is wrong anyway: the system clock ran a day ahead while a card was scanned, then
        // was put right. Every scan is clock_rolled_back until an operator resets the mark, audited.
        #expect(
            try station.submit(try authority.token(issuedAt: now + 86_400), source: "camera", now: now + 86_400)
                .accepted)
        #expect(try station.submit(try authority.token(), source: "camera", now: now + 2).code == .clockRolledBack)
        #expect(try station.trust.resetHighWater(now: now + 3, operator: "林護理師") == now + 86_400)
        #expect(try station.trust.highWater() == now + 3)
        #expect(try station.submit(try authority.token(), source: "camera", now: now + 4).accepted)
        let reset = try #require(try station.audit.entries().last { $0.kind == "clock.reset" })
        #expect(reset.detail.contains("林護理師") && reset.detail.contains(String(now + 86_400)))
    }

    @Test("a restart keeps sessions, replay entries, lists and the clock mark")
    func restart() throws {
        let token = try authority.token()
        let session: VisitSession
        do {
            let station = try authority.station(in: folder)
            session = try #require(try station.submit(token, source: "camera", now: now).session)
        }
        let reopened = StationPolicy(
            database: try StationDatabase(path: folder.path("station.sqlite")), root: authority.root.publicKey,
            settings: .init(institution: "0123456789"))
        #expect(try reopened.sessions.session(id: session.id) == session)
        #expect(try reopened.trust.held(.trust)?.sequence == 1)
        #expect(try reopened.trust.highWater() == now)
        #expect(try reopened.submit(token, source: "camera", now: now + 10).code == OutcomeCode(.replayed))
        #expect(try reopened.audit.verify().isIntact)
    }

    @Test("nothing stored holds the raw token, and the audit log holds no full ID number or name")
    func privacy() throws {
        let station = try authority.station(in: folder)
        let token = try authority.token(photo: .none)
        let session = try #require(try station.submit(token, source: "camera", now: now).session)
        _ = try station.sessions.recordIDCheck(
            sessionID: session.id, document: .passport, lastFour: "A123", operatorName: "陳醫師", now: now)
        _ = try station.submit(token, source: "camera", now: now)
        // The database and its write-ahead log, as they are on disk.
        let bytes = ["", "-wal"].reduce(into: Data()) { all, suffix in
            all += (try? Data(contentsOf: URL(fileURLWithPath: folder.path("station.sqlite" + suffix)))) ?? Data()
        }
        #expect(bytes.range(of: Data("A123456789".utf8)) != nil)  // the session does hold the holder's ID
        let body = Array(token.dropFirst(5))  // without "VHC1:"
        #expect(bytes.range(of: Data(body.prefix(40))) == nil)
        let audit = try station.audit.entries().map(\.detail).joined()
        #expect(!audit.contains("A123456789") && !audit.contains("王小明") && !audit.contains("陳醫師"))
    }
}
