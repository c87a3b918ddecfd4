import ArgumentParser
import CloudProtocol
import Crypto
import Foundation
import PKCS11
import SafeFiles
import SwiftASN1
import X509

/// `vhc card`: a clinic credential made on a card or token, as a real card is issued: `keygen` makes the
/// key pair on the token and writes a certificate request; the cloud (`vhc-cloud enrol --csr`,
/// `practitioner add --csr`) issues the certificate; `store-certificate` puts it beside the key.
struct CardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "card", abstract: "Make a clinic credential on a PKCS#11 card or token (docs/cards.md).",
        subcommands: [Keygen.self, StoreCertificate.self])

    /// The token, its module and its PIN, as every card command takes them.
    struct TokenOptions: ParsableArguments {
        @Option(
            help: ArgumentHelp(
                "The key's place: a PKCS#11 URI naming the token and the key's label (pkcs11:token=…;object=…).",
                valueName: "URI"))
        var pkcs11: String
        @Option(help: ArgumentHelp("The PKCS#11 module (default: p11-kit's proxy).", valueName: "PATH"))
        var module: String?
        @Option(
            name: .customLong("pin-file"),
            help: ArgumentHelp("Read the token's PIN from this file (mode 0600) instead of asking.", valueName: "FILE"))
        var pinFile: String?

        /// A read-write session with the token, logged in (the PIN sent once).
        func session() throws -> (PKCS11URI, PKCS11Session) {
            let uri: PKCS11URI
            do { uri = try PKCS11URI(pkcs11) } catch { throw UsageError("\(error)") }
            guard uri.object != nil else { throw UsageError("the URI must name the key's label (object=…)") }
            let pin = try Terminal.secret(
                file: pinFile, option: "--pin-file", prompt: "PIN for \(pkcs11): ",
                otherwise: "the token's PIN: give --pin-file, or run vhc card in a terminal")
            do {
                let session = try PKCS11Session.loggedIn(
                    uri: uri, modulePath: module ?? uri.modulePath ?? PKCS11Module.defaultPath, pin: Array(pin.utf8),
                    readWrite: true)
                return (uri, session)
            } catch {
                throw UsageError("\(error.kind.rawValue): \(error)")
            }
        }
    }

    struct Keygen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate a P-256 key pair on the token (never extractable) and write a certificate request.",
            discussion: """
                The request names the identity the cloud enrols: --institution CODE (the station's TLS key) \
                or --practitioner ID (a practitioner's signing key). A key with the same label already on \
                the token is refused, so that the URI keeps naming exactly one key.
                """)
        @OptionGroup var token: TokenOptions
        @Option(help: ArgumentHelp("The 10-digit institution code the key is for.", valueName: "CODE"))
        var institution: String?
        @Option(help: ArgumentHelp("The practitioner's ID number the key is for.", valueName: "ID"))
        var practitioner: String?
        @Option(help: ArgumentHelp("The name in the request's subject.", valueName: "NAME")) var name: String?
        @Option(help: ArgumentHelp("Where to write the request (PEM).", valueName: "FILE")) var out: String

        func validate() throws {
            guard (institution == nil) != (practitioner == nil) else {
                throw ValidationError("give either --institution CODE or --practitioner ID")
            }
        }

        func run() async throws {
            let (uri, session) = try token.session()
            let label = uri.object ?? ""
            let existing: [UInt]
            do { existing = try session.findObjects(class: 3, label: label) } catch { throw UsageError("\(error)") }  // CKO_PRIVATE_KEY
            guard existing.isEmpty else { throw UsageError("the token already holds a private key labelled '\(label)'") }
            let key: TokenSigningKey
            do {
                key = try TokenSigningKey.generate(
                    on: session, uri: uri, label: label, id: uri.id ?? (0..<8).map { _ in UInt8.random(in: 0...255) })
            } catch { throw UsageError("\(error)") }
            var subject: [RelativeDistinguishedName.Attribute] = []
            if let name { subject.append(.init(type: SubjectAttribute.commonName, utf8String: name)) }
            subject.append(
                try .init(type: SubjectAttribute.serialNumber, printableString: institution ?? practitioner ?? ""))
            let request = try CertificateSigningRequest(
                version: .v1, subject: DistinguishedName(subject.map { RelativeDistinguishedName($0) }),
                privateKey: Certificate.PrivateKey(TokenRequestKey(key: key)), attributes: .init(),
                signatureAlgorithm: .ecdsaWithSHA256)
            do { try SafeFile.write(Array(try request.serializeAsPEM().pemString.utf8) + [0x0A], to: out) } catch {
                throw UsageError("\(error)")
            }
            print("key pair generated on the token as '\(label)' (not extractable); certificate request in \(out)")
        }
    }

    struct StoreCertificate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "store-certificate",
            abstract: "Store the certificate the cloud issued beside its key on the token (same label and id).")
        @OptionGroup var token: TokenOptions
        @Option(help: ArgumentHelp("The certificate (PEM).", valueName: "FILE")) var certificate: String

        func run() async throws {
            let (uri, session) = try token.session()
            let pem = try Inputs.readText(certificate, what: "certificate")
            guard let parsed = try? Certificate(pemEncoded: pem) else { throw UsageError("\(certificate) is not a PEM certificate") }
            do {
                let key = try TokenSigningKey(uri: uri, session: session)
                guard P256.Signing.PublicKey(parsed.publicKey)?.rawRepresentation == key.publicKey.rawRepresentation else {
                    throw UsageError("the certificate is not for the key '\(uri.object ?? "")' on the token")
                }
                var subject = DER.Serializer()
                try subject.serialize(parsed.subject)
                try session.storeCertificate(
                    try PEMDocument(pemString: pem).derBytes, subject: subject.serializedBytes,
                    label: uri.object ?? "", id: try key.id())
            } catch let error as UsageError {
                throw error
            } catch {
                throw UsageError("\(error)")
            }
            print("certificate stored beside '\(uri.object ?? "")' on the token")
        }
    }
}

/// A key on a token, as swift-certificates signs a certificate request with it: the signature is made
/// on the token; the key cannot be serialised.
struct TokenRequestKey: CustomPrivateKey {
    let key: TokenSigningKey

    var publicKey: Certificate.PublicKey { Certificate.PublicKey(key.publicKey) }
    var defaultSignatureAlgorithm: Certificate.SignatureAlgorithm { .ecdsaWithSHA256 }
    var supportedSignatureAlgorithms: [Certificate.SignatureAlgorithm] { [.ecdsaWithSHA256] }
    static var defaultPEMDiscriminator: String { "PRIVATE KEY" }

    func signSynchronously(
        bytes: some DataProtocol, signatureAlgorithm: Certificate.SignatureAlgorithm
    ) throws -> Certificate.Signature {
        let signature = try key.signature(for: Array(bytes))
        return try Certificate.Signature(
            signatureAlgorithm: .ecdsaWithSHA256, signatureBytes: ASN1BitString(bytes: ArraySlice(signature.derRepresentation)))
    }

    struct NotExportable: Error, CustomStringConvertible {
        var description: String { "a key on a token cannot be exported" }
    }

    func serialize(into coder: inout DER.Serializer) throws { throw NotExportable() }

    static func == (lhs: TokenRequestKey, rhs: TokenRequestKey) -> Bool {
        lhs.key.publicKey.rawRepresentation == rhs.key.publicKey.rawRepresentation
    }
    func hash(into hasher: inout Hasher) { hasher.combine(key.publicKey.rawRepresentation) }
}
