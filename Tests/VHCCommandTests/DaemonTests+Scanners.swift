import Foundation
import TestSupport
import Testing

extension DaemonTests {
    @Test("two serial scanners at once (scanner.device lists both): each opens its own visit; one unplugged, the other reads on")
    func twoScanners() async throws {
        let station = try Station()
        let desk = station.temporary.path("scanner-desk"), counter = station.temporary.path("scanner-counter")
        let deskPort = try PseudoTerminal(linkedAt: desk)
        let counterPort = try PseudoTerminal(linkedAt: counter)
        try station.start(extra: ["--scanner", "\(desk), \(counter)"])
        defer { station.stop() }
        // The Unix socket is the machine's own: its list carries the holders unmasked.
        func sessions() throws -> String {
            try Command.run(Command.vhc, ["sessions", "list", "--json", "--socket", station.socket], in: station.folder)
                .stdout
        }
        func opened() -> Int { station.logText.components(separatedBy: "scanner opened").count - 1 }
        #expect(polled(seconds: 10) { opened() == 2 }, "both ports opened: \(station.logText)")

        deskPort.send(Array((try station.token(id: "A123456789") + "\r").utf8))
        counterPort.send(Array((try station.token(id: "Z240571868") + "\r").utf8))
        #expect(
            try polled(seconds: 10) {
                let listed = try sessions()
                return listed.contains(#""holderID":"A123456789""#) && listed.contains(#""holderID":"Z240571868""#)
            },
            "a visit from each scanner: \((try? sessions()) ?? "")")

        deskPort.unplug()
        #expect(polled(seconds: 10) { station.logText.contains("scanner unplugged") }, "\(station.logText)")
        counterPort.send(Array((try station.token(id: "K840571868") + "\r").utf8))
        #expect(
            try polled(seconds: 10) { try sessions().contains(#""holderID":"K840571868""#) },
            "the other scanner reads on while the first is away: \((try? sessions()) ?? "")")
        #expect(try sessions().components(separatedBy: #""source":"handheld""#).count - 1 == 3)
        counterPort.unplug()
    }
}
