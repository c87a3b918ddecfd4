import ArgumentParser
import VirtualCard

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
