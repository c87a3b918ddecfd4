/// Taiwan ID numbers (§8): national ID, new and old resident numbers, with their check digit.
public enum TaiwanID {
    /// Two-digit values of the first letter, A…Z.
    static let letterValues: [Int] = [
        10, 11, 12, 13, 14, 15, 16, 17, 34, 18, 19, 20, 21, 22, 35, 23, 24, 25, 26, 27, 28, 29, 32, 30, 31, 33,
    ]

    public static func isValid(_ id: String) -> Bool {
        let c = Array(id.utf8)
        guard c.count == 10 else { return false }
        func letter(_ b: UInt8) -> Int? {
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(b) ? Int(b - UInt8(ascii: "A")) : nil
        }
        func digit(_ b: UInt8) -> Int? {
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) ? Int(b - UInt8(ascii: "0")) : nil
        }
        guard let first = letter(c[0]) else { return false }
        let second: Int
        if let d = digit(c[1]), [1, 2, 8, 9].contains(d) {
            second = d  // national ID (1, 2) or new resident number (8, 9)
        } else if let l = letter(c[1]), l <= 3 {
            second = letterValues[l] % 10  // old resident number: A–D
        } else {
            return false
        }
        var rest: [Int] = []
        for b in c[2...] {
            guard let d = digit(b) else { return false }
            rest.append(d)
        }
        let value = letterValues[first]
        var sum = value / 10 + value % 10 * 9 + second * 8
        for (d, weight) in zip(rest, [7, 6, 5, 4, 3, 2, 1, 1]) { sum += d * weight }
        return sum % 10 == 0
    }

    /// The form logs and screens may show: the first three and last three characters (`A12****789`).
    public static func masked(_ id: String) -> String {
        let characters = Array(id)
        guard characters.count > 6 else { return String(repeating: "*", count: characters.count) }
        return String(characters.prefix(3)) + String(repeating: "*", count: characters.count - 6)
            + String(characters.suffix(3))
    }
}

/// Names in logs and on shared screens: the first character, the rest masked (`王**`).
public enum PersonName {
    public static func masked(_ name: String) -> String {
        guard let first = name.first else { return "" }
        return String(first) + String(repeating: "*", count: max(1, name.count - 1))
    }
}
