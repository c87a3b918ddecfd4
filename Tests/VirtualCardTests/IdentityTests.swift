import Testing
import VirtualCard

@Suite("Taiwan ID numbers and dates")
struct IdentityTests {
    @Test(
        "profile §8 examples",
        arguments: [
            ("A123456789", true), ("F222333444", true), ("A800000014", true), ("F912345678", true),
            ("AC01234567", true),
            ("A123456788", false), ("A800000015", false),
        ])
    func profileExamples(id: String, valid: Bool) {
        #expect(TaiwanID.isValid(id) == valid)
    }

    @Test(
        "shape rules",
        arguments: [
            "a123456789", "A323456789", "AE01234567", "A12345678", "A1234567890", "A12345678X", "1123456789", "",
            "Ａ123456789", "A１23456789",
        ])
    func malformed(id: String) {
        #expect(!TaiwanID.isValid(id))
    }

    @Test("exactly one check digit in ten is right, for every letter and form")
    func checkDigit() {
        for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" {
            for second in ["1", "2", "8", "9", "A", "B", "C", "D"] {
                let valid = (0...9).filter { TaiwanID.isValid("\(letter)\(second)1234567\($0)") }
                #expect(valid.count == 1, "\(letter)\(second)")
            }
        }
    }

    @Test("masking shows three and three")
    func masking() {
        #expect(TaiwanID.masked("A123456789") == "A12****789")
        #expect(PersonName.masked("王小明") == "王**")
        #expect(PersonName.masked("王") == "王*")
    }

    @Test(
        "YYYYMMDD: real dates only, eight digits",
        arguments: [
            (Int64(20240229), true), (20230229, false), (19000228, true), (21000229, false), (20001231, true),
            (20001301, false), (20000100, false), (9991231, false), (100000101, false), (10000101, true),
        ])
    func dates(value: Int64, valid: Bool) {
        #expect((CalendarDate(yyyymmdd: value) != nil) == valid)
    }

    @Test("Taipei date turns at 16:00 UTC")
    func taipeiDate() {
        // 2026-11-22T15:59:59Z is 23:59:59 in Taipei; one second later is the 23rd.
        #expect(CalendarDate(taipeiDateAt: 1_795_363_199).iso == "2026-11-22")
        #expect(CalendarDate(taipeiDateAt: 1_795_363_200).iso == "2026-11-23")
        #expect(CalendarDate(taipeiDateAt: 0).iso == "1970-01-01")
        #expect(CalendarDate(taipeiDateAt: -28_801).iso == "1969-12-31")
        #expect(CalendarDate(iso: "2026-11-23")!.taipeiMidnight == 1_795_363_200)
        // Absurd times clamp instead of trapping.
        _ = CalendarDate(taipeiDateAt: .max)
        _ = CalendarDate(taipeiDateAt: .min)
    }

    @Test("civil date conversion agrees with a day-by-day walk")
    func civilWalk() {
        var date = CalendarDate(year: 1899, month: 12, day: 25)!
        var seconds = date.taipeiMidnight
        for _ in 0..<(366 * 130) {
            #expect(CalendarDate(taipeiDateAt: seconds) == date)
            seconds += 86_400
            let next =
                CalendarDate(year: date.year, month: date.month, day: date.day + 1)
                ?? CalendarDate(year: date.year, month: date.month + 1, day: 1)
                ?? CalendarDate(year: date.year + 1, month: 1, day: 1)!
            date = next
        }
    }

    @Test("UTC timestamps")
    func timestamps() {
        #expect(UTCTimestamp.iso8601(1_795_341_600) == "2026-11-22T10:00:00Z")
        #expect(UTCTimestamp.iso8601(0) == "1970-01-01T00:00:00Z")
        #expect(UTCTimestamp.iso8601(951_782_399) == "2000-02-28T23:59:59Z")
        #expect(UTCTimestamp.iso8601(-1) == "1969-12-31T23:59:59Z")
        #expect(UTCTimestamp.iso8601(.max) == "9999-12-31T23:59:59Z")
        #expect(UTCTimestamp.iso8601(.min) == "0001-01-01T00:00:00Z")
    }
}
