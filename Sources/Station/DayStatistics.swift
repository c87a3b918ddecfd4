import AuditChain
import Foundation
import GRDB
import StationModels
import VirtualCard

/// The day at a glance for the front-desk page: scans per hour and refusals by code, counted from the
/// audit log's scan rows (the log is the one record of every verdict; nothing else is kept for this).
extension AuditLog {
    /// The calendar day in Asia/Taipei (UTC+8, no daylight saving) that holds `now`.
    package func dayStatistics(now: Int64) throws -> DayStatistics {
        let day = CalendarDate(taipeiDateAt: now)
        let start = day.taipeiMidnight
        var hours = (0..<24).map { DayStatistics.Hour(hour: $0, accepted: 0, refused: 0) }
        var refusals: [OutcomeCode: Int] = [:]
        try database.writer.read { db in
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT at, kind, detail FROM audit_log
                    WHERE at >= ? AND at < ? AND kind IN (?, ?)
                    """,
                arguments: [start, start + 86_400, AuditKind.scanAccepted.rawValue, AuditKind.scanRejected.rawValue])
            while let row = try rows.next() {
                let at: Int64 = row["at"]
                let hour = Int((at - start) / 3600)
                if (row["kind"] as String) == AuditKind.scanAccepted.rawValue {
                    hours[hour].accepted += 1
                } else {
                    hours[hour].refused += 1
                    let detail = (row["detail"] as String).data(using: .utf8).flatMap {
                        try? JSONDecoder().decode([String: String].self, from: $0)
                    }
                    refusals[OutcomeCode(rawValue: detail?["code"] ?? "unknown"), default: 0] += 1
                }
            }
        }
        return DayStatistics(
            date: day.iso, start: start, hours: hours,
            refusals: refusals.sorted { ($1.value, $0.key.rawValue) < ($0.value, $1.key.rawValue) }.map {
                DayStatistics.Refusal(code: $0.key, count: $0.value, reason: StationReason(code: $0.key))
            })
    }
}
