import Foundation
import StationModels

enum Printer {
    static func verdict(_ outcome: ScanResponse) {
        print("\(outcome.code): \(outcome.reason.zhHant) \(outcome.reason.en)")
        if let session = outcome.session { print("session: " + Printer.summary(session)) }
    }

    static func json(_ data: Data) {
        FileHandle.standardOutput.write(data)
        FileHandle.standardOutput.write(Data("\n".utf8))
    }

    /// A time as people read it (docs/operations.md, "Times"): this machine's zone (TZ, else
    /// /etc/localtime), always with its offset, so a time copied from a terminal says what it means.
    static func time(_ seconds: Int64?) -> String {
        guard let seconds else { return "-" }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss xxx"
        formatter.timeZone = TimeZone.current
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    /// A full session, as the socket's privileged user reads it.
    static func session(_ s: VisitSession) -> String {
        "\(s.id)  \(s.state.rawValue)  \(s.holderID) \(s.holderName)  until \(time(s.expiresAt))"
            + (s.cloud.map { "  cloud \($0.state.rawValue)" + ($0.visitSequence.map { " visit \($0)" } ?? "") } ?? "")
    }

    /// `42 s`, `7 min`, `3 h`, `2 d`.
    static func age(_ seconds: Int64) -> String {
        switch seconds {
        case ..<120: "\(seconds) s"
        case ..<7200: "\(seconds / 60) min"
        case ..<172_800: "\(seconds / 3600) h"
        default: "\(seconds / 86_400) d"
        }
    }

    /// Who is logged in, masked, and until when.
    static func practitioner(_ who: PractitionerStatus) -> String {
        "\(who.name) \(who.id) (\(who.profession)) until \(time(who.until))"
            + (who.credential == "pkcs11" ? ", signing with their card" : "")
    }

    /// A session as shared screens and events show it (masked).
    static func summary(_ s: SessionSummary) -> String {
        "\(s.id)  \(s.state.rawValue)  \(s.holder)  until \(time(s.expiresAt))"
    }
}
