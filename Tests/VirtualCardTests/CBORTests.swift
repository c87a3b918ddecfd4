import Foundation
import TestSupport
import Testing
import VirtualCard

@Suite("CBOR subset")
struct CBORTests {
    struct Example: @unchecked Sendable, CustomTestStringConvertible {
        let hex: String
        let decoded: Any?
        let diagnostic: String?
        var testDescription: String { hex }
    }

    static let examples: [Example] = {
        let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(
            "vectors/rfc8949-appendix-a.json")
        let list = try! JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [[String: Any]]
        return list.map {
            Example(hex: $0["hex"] as! String, decoded: $0["decoded"], diagnostic: $0["diagnostic"] as? String)
        }
    }()

    /// The Appendix A examples inside the profile's subset (§3): integers within signed 64 bits,
    /// false/true/null, definite strings, arrays and maps. Everything else must be rejected.
    static let insideSubset: Set<String> = [
        "00", "01", "0a", "17", "1818", "1819", "1864", "1903e8", "1a000f4240", "1b000000e8d4a51000",
        "20", "29", "3863", "3903e7", "f4", "f5", "f6", "40", "4401020304",
        "60", "6161", "6449455446", "62225c", "62c3bc", "63e6b0b4", "64f0908591",
        "80", "83010203", "8301820203820405", "98190102030405060708090a0b0c0d0e0f101112131415161718181819",
        "a0", "a201020304", "a26161016162820203", "826161a161626163", "a56161614161626142616361436164614461656145",
    ]

    @Test("Appendix A: inside the subset decodes to the stated value and re-encodes identically", arguments: examples)
    func appendixA(example: Example) throws {
        let bytes = try #require(Hex.decode(example.hex))
        if Self.insideSubset.contains(example.hex) {
            let item = try CBORDecoder.decode(bytes)
            #expect(CBOREncoder.encode(item) == bytes)
            if let expected = example.decoded {
                #expect(Self.foundationValue(item).isEqual(expected))
            } else {
                #expect(Self.diagnostic(item) == example.diagnostic)
            }
        } else {
            #expect(throws: CBORError.self) { try CBORDecoder.decode(bytes) }
        }
    }

    @Test("every accepted example is in the vector file")
    func subsetListIsReal() {
        #expect(Self.insideSubset.isSubset(of: Set(Self.examples.map(\.hex))))
        #expect(Self.examples.count == 82)
    }

    @Test(
        "each rule of §3 has its own rejection",
        arguments: [
            ("1817", CBORError.notShortestForm),  // 23 in two bytes
            ("190017", .notShortestForm),
            ("1a0000ffff", .notShortestForm),
            ("1b00000000ffffffff", .notShortestForm),
            ("5801ff", .notShortestForm),  // a 1-byte string with a 1-byte length
            ("5f40ff", .indefiniteLength),
            ("1c", .reservedAdditionalInformation),
            ("a2020103", .truncated),
            ("a202010102", .mapKeysOutOfOrder),
            ("a201010102", .duplicateMapKey),
            ("a2616201616102", .mapKeysOutOfOrder),  // {"b": 1, "a": 2}
            ("a220010102", .mapKeysOutOfOrder),  // {-1: 1, 1: 2}: 0x20 sorts after 0x01
            ("62c328", .invalidUTF8),
            ("63eda080", .invalidUTF8),  // an encoded surrogate
            ("f7", .unsupportedSimpleValue),
            ("f93c00", .floatingPoint),
            ("0000", .trailingBytes),
            ("44010203", .truncated),
            ("9bffffffffffffffff", .truncated),  // a huge length is refused before any allocation
            ("1b8000000000000000", .integerOutOfRange),
            ("3b8000000000000000", .integerOutOfRange),
            ("d240", .tagNotAllowed(18)),
        ])
    func rejections(hex: String, error: CBORError) throws {
        #expect(throws: error) { try CBORDecoder.decode(Hex.decode(hex)!) }
    }

    @Test("signed 64-bit bounds are inside the subset")
    func int64Bounds() throws {
        #expect(try CBORDecoder.decode(Hex.decode("1b7fffffffffffffff")!) == .integer(.max))
        #expect(try CBORDecoder.decode(Hex.decode("3b7fffffffffffffff")!) == .integer(.min))
        #expect(CBOREncoder.encode(.integer(.min)) == Hex.decode("3b7fffffffffffffff")!)
    }

    @Test("tag 18 only at the top, once, and only where allowed")
    func tags() throws {
        let array = Hex.decode("d28401a0a0a0")!  // not a COSE shape, but the tag rule is what is tested
        #expect(
            try CBORDecoder.decode(array, allowingTopLevelTag: 18)
                == .tagged(18, .array([1, .map([:]), .map([:]), .map([:])])))
        #expect(throws: CBORError.tagNotAllowed(18)) { try CBORDecoder.decode(array) }
        #expect(throws: CBORError.tagNotAllowed(18)) {
            try CBORDecoder.decode(Hex.decode("d2d240")!, allowingTopLevelTag: 18)
        }
        #expect(throws: CBORError.tagNotAllowed(18)) {
            try CBORDecoder.decode(Hex.decode("81d240")!, allowingTopLevelTag: 18)
        }
        #expect(throws: CBORError.tagNotAllowed(17)) {
            try CBORDecoder.decode(Hex.decode("d140")!, allowingTopLevelTag: 18)
        }
    }

    @Test("nesting: 8 levels decode, 9 do not")
    func depth() throws {
        let eight = [UInt8](repeating: 0x81, count: 7) + [0x80]
        let nine = [UInt8](repeating: 0x81, count: 8) + [0x80]
        #expect(throws: Never.self) { try CBORDecoder.decode(eight) }
        #expect(throws: CBORError.tooDeep) { try CBORDecoder.decode(nine) }
        let nineMaps = [UInt8](repeating: 0x81, count: 8) + [0xA0]
        #expect(throws: CBORError.tooDeep) { try CBORDecoder.decode(nineMaps) }
    }

    @Test("size limit")
    func size() throws {
        let item = CBOREncoder.encode(.bytes([UInt8](repeating: 7, count: 1021)))  // 3-byte head + 1021
        #expect(item.count == 1024)
        #expect(throws: Never.self) { try CBORDecoder.decode(item, maximumSize: 1024) }
        let bigger = CBOREncoder.encode(.bytes([UInt8](repeating: 7, count: 1022)))
        #expect(throws: CBORError.tooLarge) { try CBORDecoder.decode(bigger, maximumSize: 1024) }
    }

    @Test("encoder sorts map keys bytewise and round-trips", arguments: 0..<40)
    func roundTrip(seed: Int) throws {
        var generator = SeededGenerator(seed: UInt64(seed))
        let item = Self.randomItem(depth: 0, using: &generator)
        let bytes = CBOREncoder.encode(item)
        #expect(try CBORDecoder.decode(bytes) == item)
    }

    static func randomItem(depth: Int, using g: inout SeededGenerator) -> CBOR {
        switch Int.random(in: 0...(depth < 4 ? 7 : 4), using: &g) {
        case 0: return .integer(Int64.random(in: .min ... .max, using: &g) >> Int64.random(in: 0...63, using: &g))
        case 1: return .bytes((0..<Int.random(in: 0...30, using: &g)).map { _ in UInt8.random(in: 0...255, using: &g) })
        case 2:
            return .text(
                String((0..<Int.random(in: 0...10, using: &g)).map { _ in "aZ9水😀é".randomElement(using: &g)! }))
        case 3: return [.bool(true), .bool(false), .null].randomElement(using: &g)!
        case 4: return .integer(Int64.random(in: -30...30, using: &g))
        case 5, 6:
            return .array((0..<Int.random(in: 0...5, using: &g)).map { _ in randomItem(depth: depth + 1, using: &g) })
        default:
            var map: [CBOR: CBOR] = [:]
            for _ in 0..<Int.random(in: 0...5, using: &g) {
                map[randomItem(depth: 4, using: &g)] = randomItem(depth: depth + 1, using: &g)
            }
            return .map(map)
        }
    }

    /// The item as JSONSerialization would give it, to compare with the vectors' `decoded`.
    static func foundationValue(_ item: CBOR) -> NSObject {
        switch item {
        case .integer(let v): NSNumber(value: v)
        case .text(let s): NSString(string: s)
        case .bool(let b): NSNumber(value: b)
        case .null: NSNull()
        case .array(let a): NSArray(array: a.map(foundationValue))
        case .map(let m):
            NSDictionary(
                dictionary: Dictionary(uniqueKeysWithValues: m.map { ($0.key.text!, foundationValue($0.value)) }))
        case .bytes(let b): NSString(string: "h'\(Hex.encode(b))'")
        case .tagged: NSNull()
        }
    }

    /// RFC 8949 diagnostic notation, enough for the examples that the vectors give only that way.
    static func diagnostic(_ item: CBOR) -> String {
        switch item {
        case .integer(let v): "\(v)"
        case .bytes(let b): "h'\(Hex.encode(b))'"
        case .text(let s): "\"\(s)\""
        case .bool(let b): "\(b)"
        case .null: "null"
        case .array(let a): "[" + a.map(diagnostic).joined(separator: ", ") + "]"
        case .map(let m):
            "{"
                + m.map { (key: CBOREncoder.encode($0.key), text: "\(diagnostic($0.key)): \(diagnostic($0.value))") }
                .sorted { $0.key.lexicographicallyPrecedes($1.key) }.map(\.text).joined(separator: ", ") + "}"
        case .tagged(let t, let c): "\(t)(\(diagnostic(c)))"
        }
    }
}
