import ArgumentParser
import Crypto
import Foundation
import Imaging
import QRRendering
import VirtualCard

/// `vhc issue` (§10): signs a token for a simulated phone app; prints its text as one line.
struct IssueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "issue",
        abstract: "Issue a VHC1 token (for tests, demonstrations and the sandbox cloud).")

    @Option(help: ArgumentHelp("Token-signing private key (PEM).", valueName: "KEY.pem")) var key: String
    @Option(help: ArgumentHelp("Issuer name, as in the trust list.", valueName: "ISS")) var issuer: String
    @Option(help: ArgumentHelp("Holder's Taiwan ID number.", valueName: "ID")) var id: String
    @Option(help: ArgumentHelp("Holder's name (1 to 40 characters).", valueName: "NAME")) var name: String
    @Option(help: ArgumentHelp("Holder's birth date.", valueName: "YYYY-MM-DD")) var birth: String
    @Flag(name: .customLong("no-photo"), help: "The card has no verified photo yet: clinics must check an ID document.")
    var noPhoto = false
    @Option(name: .customLong("card-number"), help: ArgumentHelp("12-digit NHI card number.", valueName: "DIGITS"))
    var cardNumber: String?
    @Option(help: ArgumentHelp("Delegate's Taiwan ID number (family member or caregiver).", valueName: "ID"))
    var delegate: String?
    @Option(name: .customLong("delegation-id"), help: ArgumentHelp("Delegation id, 8 to 16 bytes.", valueName: "HEX"))
    var delegationID: String?
    @Option(
        name: .customLong("valid-from"), help: ArgumentHelp("First day of the delegation.", valueName: "YYYY-MM-DD"))
    var validFrom: String?
    @Option(name: .customLong("valid-to"), help: ArgumentHelp("Last day of the delegation.", valueName: "YYYY-MM-DD"))
    var validTo: String?
    @Option(help: ArgumentHelp("Issue time (default: now).", valueName: "TIME")) var at: String?
    @Option(help: ArgumentHelp("Lifetime in seconds, 1 to 300.", valueName: "SECONDS"))
    var ttl: Int64 = TokenClaims.maximumLifetime
    @Option(help: ArgumentHelp("Also render the QR code (alphanumeric mode, ECC Q) to this PNG.", valueName: "FILE"))
    var png: String?

    func validate() throws {
        guard (1...TokenClaims.maximumLifetime).contains(ttl) else {
            throw UsageError("--ttl must be 1 to 300 seconds")
        }
        let delegationOptions = [delegate, delegationID, validFrom, validTo]
        guard delegationOptions.allSatisfy({ $0 == nil }) || delegationOptions.allSatisfy({ $0 != nil }) else {
            throw UsageError("--delegate, --delegation-id, --valid-from and --valid-to go together")
        }
    }

    func run() throws {
        let signingKey = try Inputs.privateKey(key)
        let issuedAt = try at.map { try Inputs.time($0, option: "--at") } ?? Inputs.now()
        var delegation: TokenClaims.Delegation? = nil
        if let delegate, let delegationID, let validFrom, let validTo {
            delegation = TokenClaims.Delegation(
                delegateID: delegate, delegationID: try Inputs.hex(delegationID, option: "--delegation-id"),
                validFrom: try Inputs.date(validFrom, option: "--valid-from"),
                validTo: try Inputs.date(validTo, option: "--valid-to"))
        }
        let claims = TokenClaims(
            issuer: issuer, issuedAt: issuedAt, expiresAt: issuedAt + ttl, tokenID: TokenIssuer.newTokenID(),
            holder: TokenClaims.Holder(
                id: id, name: name, birthDate: try Inputs.date(birth, option: "--birth"),
                photo: noPhoto ? .none : .verified),
            delegation: delegation, cardNumber: cardNumber)
        let text: String
        do { text = try TokenIssuer(signingKey: signingKey, issuer: issuer).issue(claims) } catch let violation
            as TokenClaims.Violation
        {
            throw UsageError("cannot issue: \(violation.reason)")
        }
        if let png {
            do { try QRCode.alphanumeric(text).image().writePNG(to: png) } catch { throw UsageError("--png: \(error)") }
        }
        print(text)
    }
}
