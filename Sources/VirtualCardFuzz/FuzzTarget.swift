import Crypto
import VirtualCard

// libFuzzer target over everything a station reads from outside: token text, the COSE bytes behind
// it, and both signed lists. scripts/fuzz.sh builds it with `-sanitize=fuzzer,address -DFUZZING`;
// in an ordinary build it is a small program that replays saved inputs (crash reproducers) instead.

/// Fixed keys and lists, so any input that reaches the signature stage meets real keys.
enum FuzzFixture {
    static let now: Int64 = 1_795_341_600
    static func key(_ seed: UInt8) -> P256.Signing.PrivateKey {
        try! P256.Signing.PrivateKey(rawRepresentation: Array(SHA256.hash(data: [seed])))
    }
    static let root = key(1)
    static let token = key(2)
    static let revocation = key(3)
    static let trustList: [UInt8] = try! TrustList.build(
        issuer: "TW-NHIA", sequence: 1, issuedAt: now - 100, expiresAt: now + 100_000,
        keys: [
            .init(publicKey: token.publicKey, usage: .tokenSigning, notBefore: 0, notAfter: now + 100_000),
            .init(
                publicKey: revocation.publicKey, usage: .revocationListSigning, notBefore: 0, notAfter: now + 100_000),
        ], root: root)
    static let revocationList: [UInt8] = try! RevocationList.build(
        issuer: "TW-NHIA", sequence: 1, issuedAt: now - 100, expiresAt: now + 100_000, entries: [], signer: revocation)
    static let verifier = TokenVerifier(root: root.publicKey, trustList: trustList, revocationList: revocationList)
    static let trusted = try! TrustList(cose: trustList, root: root.publicKey)
}

/// One fuzz input, through every entrance. Nothing here may trap, hang or allocate without bound.
func exercise(_ input: [UInt8]) {
    let verifier = FuzzFixture.verifier
    // 1. The input as scanned text.
    _ = try? verifier.verify(input, at: FuzzFixture.now)
    // 2. The input as the COSE bytes of a token, so mutations reach CBOR, COSE and beyond.
    _ = try? verifier.verify(Array(TokenIssuer.encode(input).utf8), at: FuzzFixture.now)
    // 3. The input as a signed list.
    _ = try? TrustList(cose: input, root: FuzzFixture.root.publicKey)
    _ = try? RevocationList(cose: input, trustList: FuzzFixture.trusted)
    // 4. The decoder on its own, and an encode round trip of whatever it accepts.
    if let item = try? CBORDecoder.decode(input) {
        precondition(CBOREncoder.encode(item) == input, "decoder accepted a non-canonical encoding")
    }
}

#if FUZZING
    /// libFuzzer's driver (compiler-rt), declared here because no module exports it.
    @_silgen_name("LLVMFuzzerRunDriver")
    func runFuzzerDriver(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt

    /// SwiftPM links every executable with `main` renamed to `<target>_main` and points `main`
    /// at that symbol, so libFuzzer's own `main` is never used: start its driver from here instead.
    @_cdecl("VirtualCardFuzz_main")
    public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
        var count = argc
        var arguments = argv
        return runFuzzerDriver(&count, &arguments) { data, size in
            exercise(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
            return 0
        }
    }
#else
    import Foundation

    /// Replays inputs saved by libFuzzer (or any files) through the same code, without the fuzzer.
    @main
    enum ReplayInputs {
        static func main() throws {
            let paths = CommandLine.arguments.dropFirst()
            if paths.isEmpty {
                print("usage: VirtualCardFuzz FILE...  (replays fuzz inputs; build with scripts/fuzz.sh to fuzz)")
            }
            for path in paths {
                exercise(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
                print("ok \(path)")
            }
        }
    }
#endif
