import ArgumentParser
import Foundation
import StationModels

/// `vhc login`: hands the practitioner's card equivalent (certificate and key) to the daemon, which
/// keeps it in memory for the shift and signs each visit opening with it.
struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Log a practitioner in at the station: their certificate and key sign the visit openings.",
        discussion: """
            The daemon keeps the key in memory only, until the shift ends (cloud.shift_hours, or \
            --shift-hours) or `vhc logout`. Scans that waited for a practitioner are signed at once. \
            Another practitioner's login takes over the desk. When the cloud can be asked, it is asked \
            first whether this practitioner may sign for the institution: a refusal (exit 1) names its \
            code (practitioner_not_affiliated, practitioner_certificate_invalid) and nothing is signed.
            """)
    @OptionGroup var daemon: DaemonOptions
    @Option(help: ArgumentHelp("The practitioner's certificate (PEM).", valueName: "FILE")) var certificate: String
    @Option(
        help: ArgumentHelp("Its P-256 private key (PEM; encrypted PKCS#8 asks for the passphrase).", valueName: "FILE"))
    var key: String
    @Option(
        name: .customLong("passphrase-file"),
        help: ArgumentHelp("Read the key's passphrase from this file (mode 0600) instead of asking.", valueName: "FILE")
    )
    var passphraseFile: String?
    @Option(name: .customLong("shift-hours"), help: ArgumentHelp("How long the login lasts.", valueName: "HOURS"))
    var shiftHours: Double?

    func run() async throws {
        var keyPEM = try Inputs.readText(key, what: "key")
        if EncryptedKey.isEncrypted(keyPEM) {
            let passphrase =
                try passphraseFile.map {
                    try Inputs.readText($0, what: "passphrase file").trimmingCharacters(in: .newlines)
                } ?? EncryptedKey.askPassphrase(for: key)
            do { keyPEM = try EncryptedKey.decrypt(keyPEM, passphrase: passphrase) } catch {
                throw UsageError("\(key): \(error)")
            }
        }
        let request = LoginRequest(
            certificate: try Inputs.readText(certificate, what: "certificate"), key: keyPEM, shiftHours: shiftHours)
        let reply = try await DaemonClient(socketPath: daemon.socketPath).call(
            .POST, "/v1/practitioner/login", json: request, as: LoginResponse.self)
        if daemon.json { return Printer.json(reply.body) }
        if let who = reply.answer.practitioner {
            print("logged in: " + Printer.practitioner(who))
        }
        switch reply.answer.affiliation {
        case .confirmed?: print("the cloud confirmed the practitioner may sign for this institution")
        case .unchecked?:
            print(
                "the cloud did not confirm the affiliation (\(reply.answer.affiliationNote ?? "not asked")): "
                    + "the first visit opening will tell")
        case nil: break
        }
        if reply.answer.signed > 0 { print("signed \(reply.answer.signed) waiting visit openings") }
    }
}
