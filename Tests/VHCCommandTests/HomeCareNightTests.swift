import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 25's laptop night, with the cloud: a home-care nurse's station under Debian's libfaketime, the
/// station and the sandbox cloud reading one clock file, so that moving it moves both as the real world moves.
@Suite("a home-care laptop's night (vhc-stationd and vhc-cloud under one moved clock)")
struct HomeCareNightTests {
    @Test("two visits offline, the lid closed 8 hours: the shift ends, the visits expire, the outbox drains to the cloud, the event stream carries on")
    func lidClosedOvernight() throws {
        let setup = try ForwardingDaemonTests.Setup()
        let clock = try MovedClock(in: setup.temporary)
        setup.environment = clock.environment
        try setup.startCloud()
        try setup.startProxy()
        try setup.startDaemon()
        let sandbox = setup.temporary.path("sandbox")
        let login = try setup.client(
            "login", "--certificate", "\(sandbox)/practitioners/\(setup.practitioner)/cert.pem", "--key",
            "\(sandbox)/practitioners/\(setup.practitioner)/key.pem")
        #expect(login.status == 0, "\(login.stdout)\(login.stderr)")
        // The page's view of the station: the event stream, open all night.
        let events = try setup.background(Command.vhc, ["events", "--json", "--socket", setup.socket], log: "events.log")
        defer { setup.kill(events) }

        // At the patient's home, no network: two visits wait in the outbox.
        setup.kill(setup.cloud)
        var visits: [String] = []
        for index in 0...1 {
            let answer = try setup.submit(try setup.token(index))
            let session = try #require(answer["session"] as? [String: Any], "\(answer)")
            #expect(session["cloud"] as? String == "pending_cloud", "\(session)")
            visits.append(try #require(session["id"] as? String))
        }
        #expect(try setup.client("status").stdout.contains("ok (offline, 2 visits waiting)"))

        // The lid closes for 8 hours and 5 minutes; it opens back at the office, the cloud in reach.
        let pid = try #require(setup.daemon?.processIdentifier)
        kill(pid, SIGSTOP)
        try clock.set("+29100")  // 8 h 5 min
        try setup.startCloud()
        kill(pid, SIGCONT)

        try setup.waitFor("the outbox drained") { try visits.allSatisfy { try setup.cloudState($0) == "forwarded" } }
        #expect(try setup.visitsOpened() == 2, "each visit opened once")
        var told = ""
        try? setup.waitFor("the shift ended") {
            told = try setup.client("status").stdout
            return told.contains("practitioner: nobody logged in")
        }
        #expect(told.contains("practitioner: nobody logged in"), "\(told)")
        for visit in visits {
            let session = try setup.session(visit)
            #expect(session["state"] as? String == "expired", "a one-hour visit, 8 hours on: \(session)")
            // The cloud saw the opening 8 hours after its signature: deferred (cloud-protocol.md §3).
            #expect((session["cloud"] as? [String: Any])?["deferred"] as? Bool == true, "\(session)")
        }
        let status = try setup.client("status")
        #expect(status.stdout.contains("cloud: online, outbox 0"), "\(status.stdout)")
        // The stream the page follows carried on through the night and told all of it.
        try setup.waitFor("the events of the night on the stream") {
            let told = setup.log("events.log")
            return told.components(separatedBy: #""type":"visit.forwarded""#).count == 3
                && told.components(separatedBy: #""type":"session.expired""#).count == 3
                && told.contains(#""code":"shift_ended""#)
        }
        #expect(events.isRunning, "the event stream still open: \(setup.log("events.log"))")
        let audit = try Command.vhc("audit", "verify", "--database", setup.temporary.path("station.sqlite"), in: setup.folder)
        #expect(audit.status == 0, "\(audit.stdout)\(audit.stderr)")
    }
}
