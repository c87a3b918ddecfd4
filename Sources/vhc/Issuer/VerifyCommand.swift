import ArgumentParser
import Crypto
import Foundation
import VirtualCard

/// `vhc verify` (token-profile.md §9): one JSON object on standard output; exit 0 valid, 1 invalid.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify a VHC1 token and print the verdict as one JSON object.",
        discussion: """
            Exit status: 0 for a valid token, 1 for any other verdict, 2 for a usage or configuration error.
            TIME is ISO 8601 (2026-11-22T10:00:00Z) or Unix seconds.
            """)

    @Option(help: ArgumentHelp("The pinned root package key (PEM SubjectPublicKeyInfo).", valueName: "ROOT.pem"))
    var root: String

    @Option(name: .customLong("trust-list"), help: ArgumentHelp("The signed trust list.", valueName: "TL.cose"))
    var trustList: String

    @Option(help: ArgumentHelp("The signed delegation revocation list.", valueName: "RL.cose"))
    var revocations: String?

    @Option(help: ArgumentHelp("Verification time (default: the system clock).", valueName: "TIME"))
    var at: String?

    @Option(
        help: ArgumentHelp(
            "Allowed clock skew in seconds, 0 to 120. The default is the token profile's, 60; a station allows "
                + "trust.skew_seconds, 120 by default: pass --skew 120 to judge as it does.",
            valueName: "SECONDS"))
    var skew: Int64 = TokenVerifier.defaultSkew

    @Option(
        name: .customLong("consumed-store"),
        help: ArgumentHelp(
            "SQLite file used as the replay store (created if missing); it also remembers the list sequences seen.",
            valueName: "FILE"))
    var consumedStore: String?

    @Argument(
        help: ArgumentHelp("The token text, or - (or nothing) to read it from standard input.", valueName: "TOKEN"))
    var token: String?

    /// Standard input larger than this is refused as a usage error rather than read without bound.
    static let maximumInput = 1 << 20

    func run() throws {
        let session = try VerificationSession(
            root: root, trustList: trustList, revocations: revocations, at: at, skew: skew, consumedStore: consumedStore
        )
        let verification = try session.verify(try readToken())
        try Output.printJSON(VerificationReport(verification))
        if !verification.isValid { throw ExitCode.invalid }
    }

    /// The token from the argument, or the whole of standard input (trimmed only by the verifier, §1).
    func readToken() throws -> [UInt8] {
        if let token, token != "-" { return Array(token.utf8) }
        let data = FileHandle.standardInput.readData(ofLength: Self.maximumInput + 1)
        guard data.count <= Self.maximumInput else {
            throw UsageError("standard input is larger than \(Self.maximumInput) bytes: not a token")
        }
        return Array(data)
    }
}
