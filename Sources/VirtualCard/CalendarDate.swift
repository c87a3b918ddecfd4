/// A Gregorian calendar date, as the profile writes it: an unsigned integer `YYYYMMDD`.
/// Dates that depend on time are taken in Asia/Taipei (UTC+8, no daylight saving), computed here
/// without a time-zone database so the library stays pure.
public struct CalendarDate: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
            (1...Self.daysIn(month: month, year: year)).contains(day)
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Exactly eight digits `YYYYMMDD` naming a real date.
    public init?(yyyymmdd value: Int64) {
        guard (10_000_101...99_991_231).contains(value) else { return nil }
        self.init(year: Int(value / 10_000), month: Int(value / 100 % 100), day: Int(value % 100))
    }

    /// `YYYY-MM-DD`.
    public init?(iso text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2])
        else { return nil }
        self.init(year: y, month: m, day: d)
    }

    /// The calendar date in Asia/Taipei at `epochSeconds`.
    public init(taipeiDateAt epochSeconds: Int64) {
        let taipeiOffset: Int64 = 8 * 3600
        let shifted = epochSeconds.addingReportingOverflow(taipeiOffset)
        let seconds = shifted.overflow ? Int64.max : shifted.partialValue
        let days = Self.floorDivide(seconds, 86_400)
        // Clamp so absurd times still give a date rather than trapping.
        let (y, m, d) = Self.civil(fromDaysSinceEpoch: max(-719_162, min(days, 2_932_896)))
        self.year = y
        self.month = m
        self.day = d
    }

    public var yyyymmdd: Int64 { Int64(year) * 10_000 + Int64(month) * 100 + Int64(day) }

    public var iso: String {
        func pad(_ n: Int, _ width: Int) -> String {
            let digits = String(n)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    public var description: String { iso }

    /// Seconds since the epoch at 00:00:00 Asia/Taipei on this date.
    public var taipeiMidnight: Int64 { Self.daysSinceEpoch(year: year, month: month, day: day) * 86_400 - 8 * 3600 }

    public static func < (a: CalendarDate, b: CalendarDate) -> Bool { a.yyyymmdd < b.yyyymmdd }

    /// Division rounding toward negative infinity, without overflow at `Int64.min`.
    static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        let quotient = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? quotient - 1 : quotient
    }

    static func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    // Howard Hinnant's days-from-civil and civil-from-days algorithms (proleptic Gregorian).
    static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civil(fromDaysSinceEpoch days: Int64) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let d = dayOfYear - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yearOfEra + era * 400 + (m <= 2 ? 1 : 0)
        return (Int(y), Int(m), Int(d))
    }
}

/// ISO 8601 UTC text for epoch seconds (`2026-11-22T10:00:00Z`), without Foundation's formatters.
public enum UTCTimestamp {
    public static func iso8601(_ epochSeconds: Int64) -> String {
        // Clamped to years 0001–9999 so absurd times format rather than trap.
        let clamped = min(max(epochSeconds, -62_135_596_800), 253_402_300_799)
        let days = CalendarDate.floorDivide(clamped, 86_400)
        let secondOfDay = clamped - days * 86_400
        let (y, m, d) = CalendarDate.civil(fromDaysSinceEpoch: days)
        func pad(_ n: Int64, _ width: Int = 2) -> String {
            let digits = String(n)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(Int64(y), 4))-\(pad(Int64(m)))-\(pad(Int64(d)))T"
            + "\(pad(secondOfDay / 3600)):\(pad(secondOfDay / 60 % 60)):\(pad(secondOfDay % 60))Z"
    }
}
