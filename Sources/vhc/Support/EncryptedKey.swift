import Crypto
import Foundation
import SwiftASN1
import _CryptoExtras

#if canImport(Glibc)
    import Glibc
#endif

/// A PKCS#8 private key encrypted with a passphrase (`-----BEGIN ENCRYPTED PRIVATE KEY-----`, RFC 8018
/// PBES2: PBKDF2 with HMAC-SHA-256 or -SHA-1, then AES-CBC), as `openssl pkcs8 -topk8 -v2 aes-256-cbc` and
/// `openssl genpkey -aes256` write it. The ASN.1 is read with swift-asn1 and the cipher and the KDF are
/// swift-crypto's; only the PBES2 structure (no package here reads it) is walked by hand.
enum EncryptedKey {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static let pbes2: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 5, 13]
    static let pbkdf2: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 5, 12]
    static let hmacSHA1: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 2, 7]
    static let hmacSHA256: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 2, 9]
    static let aesCBC: [ASN1ObjectIdentifier: Int] = [
        [2, 16, 840, 1, 101, 3, 4, 1, 2]: 16, [2, 16, 840, 1, 101, 3, 4, 1, 22]: 24,
        [2, 16, 840, 1, 101, 3, 4, 1, 42]: 32,
    ]
    /// More rounds than any real key file uses: a hostile file cannot make the command spin for long.
    static let maximumRounds = 10_000_000

    static func isEncrypted(_ pem: String) -> Bool {
        pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") || pem.contains("Proc-Type: 4,ENCRYPTED")
    }

    /// The key as an unencrypted PEM (PKCS#8), for the daemon. A wrong passphrase is a clear error.
    static func decrypt(_ pem: String, passphrase: String) throws -> String {
        if pem.contains("Proc-Type: 4,ENCRYPTED") {
            throw Failure(
                description: "this is OpenSSL's legacy encrypted key format; convert it with "
                    + "'openssl pkcs8 -topk8 -v2 aes-256-cbc -in OLD -out NEW'")
        }
        let document: PEMDocument
        do { document = try PEMDocument(pemString: pem) } catch { throw Failure(description: "the key is not PEM") }
        guard document.discriminator == "ENCRYPTED PRIVATE KEY" else {
            throw Failure(description: "expected an ENCRYPTED PRIVATE KEY, found \(document.discriminator)")
        }
        let scheme: Scheme
        do { scheme = try Scheme(der: document.derBytes) } catch let failure as Failure { throw failure } catch {
            throw Failure(description: "the encrypted key's structure cannot be read: \(error)")
        }
        let key = try KDF.Insecure.PBKDF2.deriveKey(
            from: Array(passphrase.utf8), salt: scheme.salt, using: scheme.prf, outputByteCount: scheme.keyLength,
            unsafeUncheckedRounds: scheme.rounds)
        let plain: Data
        do {
            plain = try AES._CBC.decrypt(scheme.ciphertext, using: key, iv: try AES._CBC.IV(ivBytes: scheme.iv))
        } catch {
            throw Failure(description: "the passphrase is wrong (or the key file is damaged)")
        }
        guard let decrypted = try? P256.Signing.PrivateKey(derRepresentation: plain) else {
            throw Failure(description: "the passphrase is wrong, or the key is not ECDSA P-256")
        }
        return decrypted.pemRepresentation
    }

    /// What EncryptedPrivateKeyInfo says: PBES2 with PBKDF2 and AES-CBC, and the ciphertext.
    struct Scheme {
        var salt: [UInt8] = []
        var rounds = 0
        var keyLength = 0
        var prf = KDF.Insecure.PBKDF2.HashFunction.insecureSHA1
        var iv: [UInt8] = []
        var ciphertext: [UInt8] = []

        init(der: [UInt8]) throws {
            let root = try DER.parse(der)
            self = try DER.sequence(root, identifier: .sequence) { nodes in
                var scheme = Scheme()
                try scheme.readAlgorithm(&nodes)
                scheme.ciphertext = Array(try ASN1OctetString(derEncoded: &nodes).bytes)
                return scheme
            }
        }

        private init() {}

        mutating func readAlgorithm(_ nodes: inout ASN1NodeCollection.Iterator) throws {
            guard let algorithm = nodes.next() else { throw Failure(description: "no encryption algorithm") }
            try DER.sequence(algorithm, identifier: .sequence) { fields in
                guard try ASN1ObjectIdentifier(derEncoded: &fields) == EncryptedKey.pbes2 else {
                    throw Failure(description: "only PBES2 encryption is read (openssl pkcs8 -topk8 -v2 aes-256-cbc)")
                }
                guard let parameters = fields.next() else { throw Failure(description: "no PBES2 parameters") }
                try DER.sequence(parameters, identifier: .sequence) { parts in
                    guard let derivation = parts.next(), let encryption = parts.next() else {
                        throw Failure(description: "incomplete PBES2 parameters")
                    }
                    try readDerivation(derivation)
                    try readEncryption(encryption)
                }
            }
        }

        mutating func readDerivation(_ node: ASN1Node) throws {
            try DER.sequence(node, identifier: .sequence) { fields in
                guard try ASN1ObjectIdentifier(derEncoded: &fields) == EncryptedKey.pbkdf2 else {
                    throw Failure(description: "only PBKDF2 key derivation is read")
                }
                guard let parameters = fields.next() else { throw Failure(description: "no PBKDF2 parameters") }
                try DER.sequence(parameters, identifier: .sequence) { values in
                    salt = Array(try ASN1OctetString(derEncoded: &values).bytes)
                    rounds = try Int(derEncoded: &values)
                    guard (1...EncryptedKey.maximumRounds).contains(rounds) else {
                        throw Failure(description: "the key file asks for \(rounds) PBKDF2 rounds")
                    }
                    while let next = values.next() {
                        if next.identifier == .integer {
                            keyLength = try Int(derEncoded: next)
                        } else {
                            try DER.sequence(next, identifier: .sequence) { prfFields in
                                switch try ASN1ObjectIdentifier(derEncoded: &prfFields) {
                                case EncryptedKey.hmacSHA256: prf = .sha256
                                case EncryptedKey.hmacSHA1: prf = .insecureSHA1
                                default: throw Failure(description: "PBKDF2's hash must be HMAC-SHA-256 or HMAC-SHA-1")
                                }
                                _ = prfFields.next()  // NULL parameters
                            }
                        }
                    }
                }
            }
        }

        mutating func readEncryption(_ node: ASN1Node) throws {
            try DER.sequence(node, identifier: .sequence) { fields in
                let cipher = try ASN1ObjectIdentifier(derEncoded: &fields)
                guard let length = EncryptedKey.aesCBC[cipher] else {
                    throw Failure(description: "only AES-CBC encryption is read (aes-256-cbc)")
                }
                if keyLength != 0, keyLength != length { throw Failure(description: "the key lengths disagree") }
                keyLength = length
                iv = Array(try ASN1OctetString(derEncoded: &fields).bytes)
                guard iv.count == 16 else { throw Failure(description: "the AES-CBC IV is not 16 bytes") }
            }
        }
    }

    /// Asks for the passphrase on the terminal, without echo.
    static func askPassphrase(for path: String) throws -> String {
        try Terminal.askSecret(
            "Passphrase for \(path): ",
            otherwise: "the key is encrypted: give --passphrase-file, or run vhc login in a terminal")
    }
}
