import ArgumentParser

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
