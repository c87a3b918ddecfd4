import ArgumentParser
import Crypto
import Foundation
import VirtualCard

/// Options both list builders share (§10).
struct ListHeaderOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Issuer name (tokens must carry it in iss).", valueName: "ISS")) var issuer: String
    @Option(help: ArgumentHelp("Sequence number; stations refuse a lower one than they hold.", valueName: "N"))
    var seq: Int64
    @Option(name: .customLong("issued-at"), help: ArgumentHelp("Issue time.", valueName: "TIME")) var issuedAt: String
    @Option(name: .customLong("expires-at"), help: ArgumentHelp("Expiry time.", valueName: "TIME")) var expiresAt:
        String
    @Option(help: ArgumentHelp("Where to write the signed list (.cose).", valueName: "FILE")) var out: String

    func validate() throws {
        guard seq >= 0 else { throw UsageError("--seq must not be negative") }
    }

    func times() throws -> (issuedAt: Int64, expiresAt: Int64) {
        let issued = try Inputs.time(issuedAt, option: "--issued-at")
        let expires = try Inputs.time(expiresAt, option: "--expires-at")
        guard expires >= issued else { throw UsageError("--expires-at is before --issued-at") }
        return (issued, expires)
    }
}

struct TrustListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trust-list", abstract: "Build signed trust lists.", subcommands: [Build.self])

    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Build and sign a trust list with the root key.")
        @Option(help: ArgumentHelp("Root private key (PEM).", valueName: "ROOT-KEY.pem")) var root: String
        @OptionGroup var header: ListHeaderOptions
        @Option(
            name: .customLong("key"),
            help: ArgumentHelp("A key to publish: USAGE is token or revocation.", valueName: "USAGE:PUB.pem"))
        var keys: [String] = []
        @Option(
            name: .customLong("keys-valid-from"),
            help: ArgumentHelp("Keys' nbf (default: --issued-at).", valueName: "TIME"))
        var keysValidFrom: String?
        @Option(
            name: .customLong("keys-valid-to"),
            help: ArgumentHelp("Keys' exp (default: --expires-at).", valueName: "TIME"))
        var keysValidTo: String?

        func run() throws {
            let (issuedAt, expiresAt) = try header.times()
            let notBefore = try keysValidFrom.map { try Inputs.time($0, option: "--keys-valid-from") } ?? issuedAt
            let notAfter = try keysValidTo.map { try Inputs.time($0, option: "--keys-valid-to") } ?? expiresAt
            let entries = try keys.map { spec in
                guard let colon = spec.firstIndex(of: ":") else {
                    throw UsageError("--key '\(spec)': expected USAGE:PUB.pem (USAGE: token or revocation)")
                }
                let usage: KeyUsage
                switch spec[..<colon] {
                case "token": usage = .tokenSigning
                case "revocation": usage = .revocationListSigning
                default: throw UsageError("--key '\(spec)': USAGE must be token or revocation")
                }
                let publicKey = try Inputs.publicKey(String(spec[spec.index(after: colon)...]), acceptingPrivate: true)
                return TrustList.Entry(publicKey: publicKey, usage: usage, notBefore: notBefore, notAfter: notAfter)
            }
            let list = try TrustList.build(
                issuer: header.issuer, sequence: header.seq, issuedAt: issuedAt, expiresAt: expiresAt, keys: entries,
                root: try Inputs.privateKey(root))
            try Inputs.write(list, to: header.out)
        }
    }
}

struct RevocationsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revocations", abstract: "Build signed delegation revocation lists.", subcommands: [Build.self])

    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build and sign a delegation revocation list with a revocation-list key.")
        @Option(help: ArgumentHelp("Revocation-list private key (PEM).", valueName: "KEY.pem")) var key: String
        @OptionGroup var header: ListHeaderOptions
        @Option(
            name: .customLong("revoke"),
            help: ArgumentHelp(
                "A revoked delegation; KEEP-UNTIL is its valid-to date.", valueName: "HEXID:REVOKED-AT:KEEP-UNTIL"))
        var revoked: [String] = []

        func run() throws {
            let (issuedAt, expiresAt) = try header.times()
            let entries = try revoked.map(Self.entry)
            let list = try RevocationList.build(
                issuer: header.issuer, sequence: header.seq, issuedAt: issuedAt, expiresAt: expiresAt, entries: entries,
                signer: try Inputs.privateKey(key))
            try Inputs.write(list, to: header.out)
        }

        /// `HEXID:REVOKED-AT:KEEP-UNTIL`; REVOKED-AT may itself hold colons (ISO 8601).
        static func entry(_ spec: String) throws -> RevocationList.Entry {
            guard let first = spec.firstIndex(of: ":"), let last = spec.lastIndex(of: ":"), first < last else {
                throw UsageError("--revoke '\(spec)': expected HEXID:REVOKED-AT:KEEP-UNTIL")
            }
            let id = try Inputs.hex(String(spec[..<first]), option: "--revoke")
            guard !id.isEmpty else { throw UsageError("--revoke '\(spec)': empty delegation id") }
            return RevocationList.Entry(
                delegationID: id,
                revokedAt: try Inputs.time(String(spec[spec.index(after: first)..<last]), option: "--revoke"),
                keepUntil: try Inputs.date(String(spec[spec.index(after: last)...]), option: "--revoke"))
        }
    }
}
