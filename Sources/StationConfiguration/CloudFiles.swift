import CloudClient
import CloudProtocol
import Crypto
import Foundation
import NIOCore
import PKCS11
import SafeFiles
import SwiftASN1
import X509

/// What `cloud.*` names, read and checked: the cloud's CA, and the institution's certificate and key,
/// whose certificate must be an institution's (cloud-protocol.md §1) for the station's own `institution`
/// code (the cloud refuses every opening otherwise, `institution_mismatch`). The key is a PEM file, or a
/// PKCS#11 URI of a key on a card or token: then the token is logged in to once, here, with the PIN
/// from `cloud.pin_file`, and the key never leaves it. A mistake names its key. Read once, by the
/// daemon at start and by `vhc audit`.
package struct CloudFiles: Sendable {
    package var caPEM: String
    package var authority: CertificateAuthority
    package var certificatePEM: String
    /// The institution's TLS key, for the cloud client.
    package var key: CloudClient.Identity.Key
    /// Which kind of credential is in use, for the status (never its secret): `file` or `pkcs11`.
    package var keyKind: String

    package init(_ cloud: StationConfig.Cloud, institution: String) throws(ConfigError) {
        func read(_ path: String, key: String) throws(ConfigError) -> String {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ConfigError(.invalidValue, key: key, "cannot read '\(path)'")
            }
            return text
        }
        caPEM = try read(cloud.ca, key: "cloud.ca")
        guard let authority = try? CertificateAuthority(pem: caPEM) else {
            throw ConfigError(.invalidValue, key: "cloud.ca", "'\(cloud.ca)' is not a PEM certificate")
        }
        self.authority = authority
        var token: InstitutionToken?
        if cloud.key.lowercased().hasPrefix("pkcs11:") {
            let opened = try InstitutionToken(cloud)
            token = opened
            if let path = cloud.certificate {
                certificatePEM = try read(path, key: "cloud.certificate")
            } else {
                certificatePEM = try opened.certificatePEM()
            }
        } else {
            certificatePEM = try read(cloud.certificate ?? "", key: "cloud.certificate")
        }
        let certificateKey = cloud.certificate == nil ? "cloud.key" : "cloud.certificate"
        guard let certificate = try? Certificate(pemEncoded: certificatePEM),
            let named = InstitutionIdentity(certificate: certificate)
        else {
            throw ConfigError(
                .invalidValue, key: certificateKey,
                "'\(cloud.certificate ?? cloud.key)' is not an institution's certificate (a 10-digit serialNumber)")
        }
        guard named.code == institution else {
            throw ConfigError(
                .invalidValue, key: certificateKey,
                "the certificate is institution \(named.code)'s, and this station is \(institution)'s")
        }
        if let token {
            key = .signer(try token.signingKey(for: certificate))
            keyKind = "pkcs11"
        } else {
            key = .pem(try read(cloud.key, key: "cloud.key"))
            keyKind = "file"
        }
    }

    /// The cloud's client with these files: a certificate or key the TLS library cannot use is a
    /// mistake in `cloud.key`.
    package func client(url: String, timeout: TimeAmount = .seconds(10)) throws(ConfigError) -> CloudClient {
        do {
            return try CloudClient(
                baseURL: url, caPEM: caPEM, identity: .init(certificatePEM: certificatePEM, key: key),
                timeout: timeout)
        } catch {
            throw ConfigError(.invalidValue, key: "cloud.key", "the certificate or key is not usable: \(error)")
        }
    }
}

/// The institution's token, logged in to: the module `cloud.pkcs11_module` (or the URI's `module-path`,
/// or p11-kit's proxy) loaded, the token the URI names found, and its PIN from `cloud.pin_file` sent once.
struct InstitutionToken {
    let uri: PKCS11URI
    let session: PKCS11Session

    init(_ cloud: StationConfig.Cloud) throws(ConfigError) {
        do { uri = try PKCS11URI(cloud.key) } catch { throw ConfigError(.invalidValue, key: "cloud.key", "\(error)") }
        let pinKey = cloud.pinFile != nil ? "cloud.pin_file" : "cloud.key"
        guard let pinPath = cloud.pinFile ?? uri.pinSource else {
            throw ConfigError(.missingKey, key: "cloud.pin_file", "is required when cloud.key is a PKCS#11 URI")
        }
        let pin: String
        do { pin = try SecretFile.read(pinPath) } catch { throw ConfigError(.invalidValue, key: pinKey, "\(error)") }
        let moduleKey = uri.modulePath != nil ? "cloud.key" : "cloud.pkcs11_module"
        do {
            session = try PKCS11Session.loggedIn(
                uri: uri, modulePath: uri.modulePath ?? cloud.pkcs11Module ?? PKCS11Module.defaultPath,
                pin: Array(pin.utf8))
        } catch {
            switch error.kind {
            case .moduleUnavailable: throw ConfigError(.invalidValue, key: moduleKey, "\(error)")
            case .pinIncorrect, .pinLocked:
                // Sent once and not again: the token counts every try.
                let tries = error.pinTries.map { "; the token says: \($0.rawValue)" } ?? ""
                throw ConfigError(
                    .invalidValue, key: pinKey,
                    "the token refused the PIN (\(error.kind.rawValue)\(tries)); it is not sent again")
            default: throw ConfigError(.invalidValue, key: "cloud.key", "\(error)")
            }
        }
    }

    /// The certificate object beside the key on the token, as PEM.
    func certificatePEM() throws(ConfigError) -> String {
        do {
            return PEMDocument(type: "CERTIFICATE", derBytes: try TokenSigningKey.certificate(for: uri, on: session))
                .pemString
        } catch {
            throw ConfigError(
                .missingKey, key: "cloud.certificate",
                "is required: the token holds no single certificate beside the key (\(error))")
        }
    }

    /// The key, checked against the certificate's public key.
    func signingKey(for certificate: Certificate) throws(ConfigError) -> TokenSigningKey {
        guard let publicKey = P256.Signing.PublicKey(certificate.publicKey) else {
            throw ConfigError(.invalidValue, key: "cloud.certificate", "the certificate's key is not P-256")
        }
        let key: TokenSigningKey
        do { key = try TokenSigningKey(uri: uri, session: session, publicKey: publicKey) } catch {
            throw ConfigError(.invalidValue, key: "cloud.key", "\(error)")
        }
        // The token's own public key, where it has one, must be the certificate's.
        if let own = try? TokenSigningKey(uri: uri, session: session),
            own.publicKey.rawRepresentation != publicKey.rawRepresentation
        {
            throw ConfigError(.invalidValue, key: "cloud.key", "the key on the token is not the certificate's")
        }
        return key
    }
}
