import Foundation
import Station
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A clerk whose account may not use the station's socket is told what to do (issue 25: "Permission denied"
/// with no hint), and so is one whose daemon is not running.
@Suite("The socket's refusals say what to do")
struct LocalSocketAdviceTests {
    @Test("EACCES: join the group vhc and log in again; nothing listening: is the daemon running; others: nothing")
    func advice() {
        let denied = LocalSocket.advice(forConnectError: EACCES)
        #expect(denied.contains("usermod -aG vhc") && denied.contains("log out and in again") && denied.contains("vhc 群組"))
        #expect(LocalSocket.advice(forConnectError: ENOENT).contains("systemctl status vhc-stationd"))
        #expect(LocalSocket.advice(forConnectError: ECONNREFUSED).contains("systemctl status vhc-stationd"))
        #expect(LocalSocket.advice(forConnectError: EIO).isEmpty)
    }
}
