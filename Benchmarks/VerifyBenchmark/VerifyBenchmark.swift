import Crypto
import Foundation
import Imaging
import QRRendering
import VirtualCard

/// Full VHC1 verification (text → verdict) per second on one thread, and the sizes of issued tokens.
/// Run through `Benchmarks/verify.sh`, which compares the rate with `openssl speed ecdsap256` in the same run.
@main
enum VerifyBenchmark {
    static func main() throws {
        let arguments = CommandLine.arguments
        if arguments.contains("--sizes") { try printSizes() }
        let seconds = arguments.firstIndex(of: "--seconds").flatMap { Double(arguments[$0 + 1]) } ?? 3
        if !arguments.contains("--sizes-only") { try measure(seconds: seconds) }
    }

    static let now: Int64 = 1_795_341_600
    static let tokenKey = P256.Signing.PrivateKey()
    static let revocationKey = P256.Signing.PrivateKey()
    static let root = P256.Signing.PrivateKey()

    static func verifier() throws -> TokenVerifier {
        let trust = try TrustList.build(
            issuer: "TW-NHIA", sequence: 1, issuedAt: now - 60, expiresAt: now + 86_400,
            keys: [
                .init(publicKey: tokenKey.publicKey, usage: .tokenSigning, notBefore: 0, notAfter: now + 86_400),
                .init(
                    publicKey: revocationKey.publicKey, usage: .revocationListSigning, notBefore: 0,
                    notAfter: now + 86_400),
            ], root: root)
        let revocations = try RevocationList.build(
            issuer: "TW-NHIA", sequence: 1, issuedAt: now - 60, expiresAt: now + 86_400, entries: [],
            signer: revocationKey)
        return TokenVerifier(root: root.publicKey, trustList: trust, revocationList: revocations)
    }

    static func claims(delegated: Bool, cardNumber: Bool) -> TokenClaims {
        TokenClaims(
            issuer: "TW-NHIA", issuedAt: now, expiresAt: now + 300, tokenID: TokenIssuer.newTokenID(),
            holder: .init(id: "A123456789", name: "王小明", birthDate: CalendarDate(iso: "1980-05-17")!, photo: .verified),
            delegation: delegated
                ? .init(
                    delegateID: "F222333444", delegationID: Array(repeating: 0xAB, count: 16),
                    validFrom: CalendarDate(iso: "2026-11-01")!, validTo: CalendarDate(iso: "2027-10-31")!) : nil,
            cardNumber: cardNumber ? "000012345678" : nil)
    }

    /// Verifies a rotating set of distinct tokens (half delegated) for `seconds`; prints one line.
    static func measure(seconds: Double) throws {
        let verifier = try verifier()
        let issuer = TokenIssuer(signingKey: tokenKey, issuer: "TW-NHIA")
        let tokens = try (0..<64).map {
            try Array(issuer.issue(claims(delegated: $0 % 2 == 1, cardNumber: $0 % 4 == 0)).utf8)
        }
        for token in tokens {
            let code = try verifier.verify(token, at: now).code
            precondition(code == .valid, "benchmark token did not verify: \(code)")
        }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .milliseconds(Int(seconds * 1000)))
        let start = clock.now
        var count = 0
        while clock.now < deadline {
            for token in tokens where try verifier.verify(token, at: now).isValid { count += 1 }
        }
        let elapsed = start.duration(to: clock.now)
        let rate = Double(count) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        print("vhc verify/s: \(Int(rate.rounded()))")
    }

    /// Characters and QR version (alphanumeric, ECC Q) of typical tokens.
    static func printSizes() throws {
        let issuer = TokenIssuer(signingKey: tokenKey, issuer: "TW-NHIA")
        print("| token | characters | QR version (ECC Q) | modules |")
        print("| --- | --- | --- | --- |")
        for (name, delegated, card) in [
            ("plain", false, false), ("with card number", false, true), ("delegated", true, false),
            ("delegated, with card number", true, true),
        ] {
            let text = try issuer.issue(claims(delegated: delegated, cardNumber: card))
            let code = try QRCode.alphanumeric(text)
            print("| \(name) | \(text.count) | \(code.version) | \(code.size)×\(code.size) |")
        }
    }
}
