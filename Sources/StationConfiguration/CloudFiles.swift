import CloudProtocol
import Foundation
import X509

/// The files `cloud.*` names, read and checked: the cloud's CA, and the institution's certificate and
/// key, whose certificate must be an institution's (cloud-protocol.md §1) for the station's own
/// `institution` code (the cloud refuses every opening otherwise, `institution_mismatch`). A mistake
/// names its key. Read once, by the daemon at start and by `vhc audit`.
package struct CloudFiles: Sendable {
    package var caPEM: String
    package var authority: CertificateAuthority
    package var certificatePEM: String
    package var keyPEM: String

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
        certificatePEM = try read(cloud.certificate, key: "cloud.certificate")
        guard let certificate = try? Certificate(pemEncoded: certificatePEM),
            let named = InstitutionIdentity(certificate: certificate)
        else {
            throw ConfigError(
                .invalidValue, key: "cloud.certificate",
                "'\(cloud.certificate)' is not an institution's certificate (a 10-digit serialNumber)")
        }
        guard named.code == institution else {
            throw ConfigError(
                .invalidValue, key: "cloud.certificate",
                "the certificate is institution \(named.code)'s, and this station is \(institution)'s")
        }
        keyPEM = try read(cloud.key, key: "cloud.key")
    }

    /// The cloud's client made from these files by `make(caPEM, certificatePEM, keyPEM)`: a certificate
    /// or key the TLS library cannot use is a mistake in `cloud.key`.
    package func client<Client>(
        _ make: (_ caPEM: String, _ certificatePEM: String, _ keyPEM: String) throws -> Client
    ) throws(ConfigError) -> Client {
        do { return try make(caPEM, certificatePEM, keyPEM) } catch {
            throw ConfigError(.invalidValue, key: "cloud.key", "the certificate or key is not usable PEM: \(error)")
        }
    }
}
