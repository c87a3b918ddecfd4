// Base45 (RFC 9285), written by hand: no package on this machine provides it, and the profile needs
// the strict form (§2): alphabet only, length mod 3 ≠ 1, no group above its maximum.

public enum Base45 {
    static let alphabet: [UInt8] = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:".utf8)

    /// Value of each ASCII byte in the alphabet, or 0xFF where the byte is not in it.
    static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, character) in alphabet.enumerated() { table[Int(character)] = UInt8(value) }
        return table
    }()

    public static func encode<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count / 2 * 3 + 2)
        var iterator = bytes.makeIterator()
        while let first = iterator.next() {
            if let second = iterator.next() {
                var n = Int(first) * 256 + Int(second)
                for _ in 0..<3 {
                    out.append(alphabet[n % 45])
                    n /= 45
                }
            } else {
                let n = Int(first)
                out.append(alphabet[n % 45])
                out.append(alphabet[n / 45])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Strict decode; `nil` for any character outside the alphabet, a length of 1 mod 3, or a group
    /// whose value does not fit its bytes.
    public static func decode<Text: Collection<UInt8>>(_ text: Text) -> [UInt8]? {
        let count = text.count
        guard count % 3 != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(count / 3 * 2 + 1)
        var digits: (Int, Int, Int) = (0, 0, 0)
        var held = 0
        for character in text {
            let value = values[Int(character)]
            guard value != 0xFF else { return nil }
            switch held {
            case 0: digits.0 = Int(value)
            case 1: digits.1 = Int(value)
            default: digits.2 = Int(value)
            }
            held += 1
            if held == 3 {
                let n = digits.0 + digits.1 * 45 + digits.2 * 45 * 45
                guard n <= 0xFFFF else { return nil }
                out.append(UInt8(n >> 8))
                out.append(UInt8(n & 0xFF))
                held = 0
            }
        }
        if held == 2 {
            let n = digits.0 + digits.1 * 45
            guard n <= 0xFF else { return nil }
            out.append(UInt8(n))
        }
        return out
    }
}
