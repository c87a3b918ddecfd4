import ArgumentParser
import VirtualCard

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
