import Crypto
import Foundation
import Testing
import VirtualCard

/// Conformance vectors in the layout of eu-digital-green-certificates/dgc-testdata: one JSON file
/// per case with the token, the lists, the clock and skew, and the expected code. They are made by
/// an independent implementation of the profile (tools/reference/make_vectors.py).
@Suite("Conformance vectors")
struct ConformanceTests {
    struct Vector: Decodable, Sendable, CustomTestStringConvertible {
        var file = ""
        let PREFIX: String
        let TESTCTX: Context
        let EXPECTEDRESULTS: Expected
        var testDescription: String { file }

        struct Context: Decodable, Sendable {
            let DESCRIPTION: String
            let VALIDATIONCLOCK: Int64
            let SKEW: Int64
            let ROOT: String
            let TRUSTLIST: String
            let REVOCATIONLIST: String?
            let HELD: Held?
            let PRESCANS: [Prescan]?
        }
        struct Held: Decodable, Sendable { let trustListSequence: Int64?; let revocationListSequence: Int64? }
        struct Prescan: Decodable, Sendable { let PREFIX: String; let VALIDATIONCLOCK: Int64; let CODE: String }
        struct Expected: Decodable, Sendable { let CODE: String; let OUTPUT: VerificationReport? }

        enum CodingKeys: CodingKey { case PREFIX, TESTCTX, EXPECTEDRESULTS }
    }

    static let vectors: [Vector] = {
        let folder = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(
            "conformance")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return files.filter { $0.hasSuffix(".json") }.sorted().map { name in
            var vector = try! JSONDecoder().decode(
                Vector.self, from: Data(contentsOf: folder.appendingPathComponent(name)))
            vector.file = name
            return vector
        }
    }()

    @Test("each vector gives its expected code and output", arguments: vectors)
    func vector(_ vector: Vector) throws {
        let context = vector.TESTCTX
        let root = try P256.Signing.PublicKey(pemRepresentation: context.ROOT)
        let verifier = TokenVerifier(
            root: root, trustList: try #require(Hex.decode(context.TRUSTLIST)),
            revocationList: try context.REVOCATIONLIST.map { try #require(Hex.decode($0)) })
        let held = HeldSequences(
            trustList: context.HELD?.trustListSequence, revocationList: context.HELD?.revocationListSequence)
        let consumed = MemoryConsumedTokens()
        for prescan in context.PRESCANS ?? [] {
            let first = try verifier.verify(
                prescan.PREFIX, at: prescan.VALIDATIONCLOCK, skew: context.SKEW, held: held, consumedTokens: consumed)
            #expect(first.code.rawValue == prescan.CODE, "prescan of \(vector.file)")
        }
        let verification = try verifier.verify(
            vector.PREFIX, at: context.VALIDATIONCLOCK, skew: context.SKEW, held: held, consumedTokens: consumed)
        #expect(
            verification.code.rawValue == vector.EXPECTEDRESULTS.CODE, "\(context.DESCRIPTION): \(verification.detail)")
        if var expected = vector.EXPECTEDRESULTS.OUTPUT {
            expected.reason = verification.code.reason  // the reason text is ours, not the vector's
            #expect(VerificationReport(verification) == expected)
        }
    }

    @Test("the vectors cover every code of the profile")
    func coverage() {
        let covered = Set(Self.vectors.map(\.EXPECTEDRESULTS.CODE))
        let all = Set(VerificationCode.allCases.map(\.rawValue))
        #expect(all.subtracting(covered).isEmpty, "uncovered: \(all.subtracting(covered).sorted())")
        #expect(covered.isSubset(of: all))
        #expect(Self.vectors.count >= 60)
    }
}
