import ArgumentParser
import Foundation
import StationModels

/// `vhc login`: hands the practitioner's credential to the daemon for the shift: a certificate and key
/// (kept in memory), or the URI of the key on their card and its PIN (the daemon logs in to the card once
/// and signs each visit opening there).
struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Log a practitioner in at the station: their certificate and key sign the visit openings.",
        discussion: """
            The daemon keeps the key in memory only, until the shift ends (cloud.shift_hours, or \
            --shift-hours) or `vhc logout`. Scans that waited for a practitioner are signed at once. \
            Another practitioner's login takes over the desk. When the cloud can be asked, it is asked \
            first whether this practitioner may sign for the institution: a refusal (exit 1) names its \
            code (practitioner_not_affiliated, practitioner_certificate_invalid) and nothing is signed. \
            With --pkcs11 the key stays on the card: the PIN is asked without echo (or read from \
            --pin-file) and sent to the card once; a wrong one is refused with pin_incorrect and what the \
            card says of the tries left, and is not retried. Pulling the card out ends the shift.
            """)
    @OptionGroup var daemon: DaemonOptions
    @Option(
        help: ArgumentHelp(
            "The practitioner's certificate (PEM); with --pkcs11, only when the card does not hold it.",
            valueName: "FILE"))
    var certificate: String?
    @Option(
        help: ArgumentHelp("Its P-256 private key (PEM; encrypted PKCS#8 asks for the passphrase).", valueName: "FILE"))
    var key: String?
    @Option(
        name: .customLong("passphrase-file"),
        help: ArgumentHelp("Read the key's passphrase from this file (mode 0600) instead of asking.", valueName: "FILE")
    )
    var passphraseFile: String?
    @Option(
        help: ArgumentHelp(
            "The key on the practitioner's card, as a PKCS#11 URI (pkcs11:token=…;object=…); the PIN is asked.",
            valueName: "URI"))
    var pkcs11: String?
    @Option(
        help: ArgumentHelp(
            "The card's PKCS#11 module (the daemon loads only cloud.card_module and p11-kit's proxy).",
            valueName: "PATH"))
    var module: String?
    @Option(
        name: .customLong("pin-file"),
        help: ArgumentHelp("Read the card's PIN from this file (mode 0600) instead of asking.", valueName: "FILE"))
    var pinFile: String?
    @Option(name: .customLong("shift-hours"), help: ArgumentHelp("How long the login lasts.", valueName: "HOURS"))
    var shiftHours: Double?

    func validate() throws {
        guard (key == nil) != (pkcs11 == nil) else {
            throw ValidationError("give either --key (with --certificate) or --pkcs11")
        }
        if key != nil, certificate == nil { throw ValidationError("--key needs --certificate") }
        if pkcs11 == nil, module != nil || pinFile != nil {
            throw ValidationError("--module and --pin-file go with --pkcs11")
        }
    }

    func run() async throws {
        let request = try pkcs11.map(cardRequest) ?? fileRequest()
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

    /// A key file's login: the key decrypted here when it is encrypted.
    func fileRequest() throws -> LoginRequest {
        let path = key ?? ""
        var keyPEM = try Inputs.readText(path, what: "key")
        if EncryptedKey.isEncrypted(keyPEM) {
            let passphrase =
                try passphraseFile.map {
                    try Inputs.readText($0, what: "passphrase file").trimmingCharacters(in: .newlines)
                } ?? EncryptedKey.askPassphrase(for: path)
            do { keyPEM = try EncryptedKey.decrypt(keyPEM, passphrase: passphrase) } catch {
                throw UsageError("\(path): \(error)")
            }
        }
        return LoginRequest(
            certificate: try Inputs.readText(certificate ?? "", what: "certificate"), key: keyPEM,
            shiftHours: shiftHours)
    }

    /// A card's login: the URI and the PIN (asked without echo, or from a 0600 file) for the daemon,
    /// which sends the PIN to the card once and keeps nothing of it.
    func cardRequest(_ uri: String) throws -> LoginRequest {
        let pin = try Terminal.secret(
            file: pinFile, option: "--pin-file", prompt: "PIN for \(uri): ",
            otherwise: "the card's PIN: give --pin-file, or run vhc login in a terminal")
        return LoginRequest(
            pkcs11: uri, module: module, pin: pin,
            certificate: try certificate.map { try Inputs.readText($0, what: "certificate") }, shiftHours: shiftHours)
    }
}
