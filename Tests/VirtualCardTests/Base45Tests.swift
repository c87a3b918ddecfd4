import Foundation
import TestSupport
import Testing
import VirtualCard

@Suite("Base45 (RFC 9285)")
struct Base45Tests {
    struct Valid: Decodable { let bytes_utf8: String; let base45: String }
    struct Invalid: Decodable { let base45: String; let why: String }
    struct Vectors: Decodable { let valid: [Valid]; let invalid: [Invalid] }

    static let vectors: Vectors = {
        let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(
            "vectors/rfc9285-base45.json")
        return try! JSONDecoder().decode(Vectors.self, from: Data(contentsOf: url))
    }()

    @Test("RFC 9285 examples encode and decode", arguments: vectors.valid.map { ($0.bytes_utf8, $0.base45) })
    func knownAnswers(text: String, base45: String) {
        #expect(Base45.encode(Array(text.utf8)) == base45)
        #expect(Base45.decode(Array(base45.utf8)) == Array(text.utf8))
    }

    @Test("invalid inputs are rejected", arguments: vectors.invalid.map(\.base45))
    func invalid(base45: String) {
        #expect(Base45.decode(Array(base45.utf8)) == nil)
    }

    @Test("the vector files are the ones we think they are")
    func counts() {
        #expect(Self.vectors.valid.count == 5)
        #expect(Self.vectors.invalid.count == 6)
    }

    @Test("group maxima: 65535 and 255 decode, one more does not")
    func groupBoundaries() {
        #expect(Base45.decode(Array("FGW".utf8)) == [0xFF, 0xFF])  // 15 + 16·45 + 32·2025 = 65535
        #expect(Base45.decode(Array("GGW".utf8)) == nil)  // 65536
        #expect(Base45.decode(Array("U5".utf8)) == [0xFF])  // 30 + 5·45 = 255
        #expect(Base45.decode(Array("V5".utf8)) == nil)  // 256
    }

    @Test("random bytes round-trip", arguments: 0..<50)
    func roundTrip(seed: Int) {
        var generator = SeededGenerator(seed: UInt64(seed))
        let bytes = (0..<Int.random(in: 0...300, using: &generator)).map { _ in
            UInt8.random(in: 0...255, using: &generator)
        }
        #expect(Base45.decode(Array(Base45.encode(bytes).utf8)) == bytes)
    }
}
