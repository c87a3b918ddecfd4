import CloudProtocol
import Crypto
import Foundation
import SafeFiles
import VirtualCard
import X509

/// The sandbox directory (cloud-protocol.md §8): where each file lives, and reading them back.
///
///     DIR/ca.pem  DIR/ca-key.pem         the sandbox CA (its key only for enrolling more)
///     DIR/trust-root.pub                 the token profile's root package key (what a station pins)
///     DIR/sandbox.json                   who the sandbox holds
///     DIR/server/cert.pem, key.pem       the cloud's TLS server certificate
///     DIR/institutions/CODE/cert.pem, key.pem
///     DIR/practitioners/ID/cert.pem, key.pem
///     DIR/issuer/token-key.pem, revocation-key.pem, root-key.pem
///     DIR/cloud.sqlite                   the cloud's own database
package struct SandboxDirectory: Sendable {
    package let path: String

    package init(path: String) { self.path = path }

    package func file(_ relative: String) -> String { path + "/" + relative }

    package var caCertificate: String { file("ca.pem") }
    package var caKey: String { file("ca-key.pem") }
    package var trustRoot: String { file("trust-root.pub") }
    package var manifest: String { file("sandbox.json") }
    package var serverCertificate: String { file("server/cert.pem") }
    package var serverKey: String { file("server/key.pem") }
    package var database: String { file("cloud.sqlite") }
    package var rootKey: String { file("issuer/root-key.pem") }
    package var tokenKey: String { file("issuer/token-key.pem") }
    package var revocationKey: String { file("issuer/revocation-key.pem") }
    package func institutionCertificate(_ code: String) -> String { file("institutions/\(code)/cert.pem") }
    package func institutionKey(_ code: String) -> String { file("institutions/\(code)/key.pem") }
    package func practitionerCertificate(_ id: String) -> String { file("practitioners/\(id)/cert.pem") }
    package func practitionerKey(_ id: String) -> String { file("practitioners/\(id)/key.pem") }
    /// The patient's app secret (mode 0600): what `vhc app` sends as the app's login.
    package func appSecret(_ patientID: String) -> String { file("patients/\(patientID)/app-secret") }

    /// A file of the sandbox that is missing or unreadable.
    package struct LoadError: Error, CustomStringConvertible {
        package let path: String
        package let reason: String
        package var description: String { "\(path): \(reason)" }
    }

    package func read(_ path: String) throws(LoadError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LoadError(path: path, reason: "missing or unreadable (run `vhc-cloud init --dir \(self.path)` first)")
        }
        return String(decoding: data, as: UTF8.self)
    }

    package func loadManifest() throws(LoadError) -> SandboxManifest {
        let text = try read(manifest)
        do { return try JSONDecoder().decode(SandboxManifest.self, from: Data(text.utf8)) } catch {
            throw LoadError(path: manifest, reason: "not a sandbox manifest: \(error)")
        }
    }

    package func loadKey(_ path: String) throws(LoadError) -> P256.Signing.PrivateKey {
        let text = try read(path)
        do { return try P256.Signing.PrivateKey(pemRepresentation: text) } catch {
            throw LoadError(path: path, reason: "not a P-256 private key in PEM")
        }
    }

    package func loadCertificate(_ path: String) throws(LoadError) -> Certificate {
        let text = try read(path)
        do { return try Certificate(pemEncoded: text) } catch {
            throw LoadError(path: path, reason: "not a certificate in PEM")
        }
    }

    package func loadIssuerKeys() throws(LoadError) -> ListPublisher.Keys {
        ListPublisher.Keys(
            root: try loadKey(rootKey), token: try loadKey(tokenKey), revocation: try loadKey(revocationKey))
    }

    package func loadPKI() throws(LoadError) -> SandboxPKI {
        SandboxPKI(caKey: try loadKey(caKey), caCertificate: try loadCertificate(caCertificate))
    }

    /// Writes a key (0600, never replacing one) and its certificate.
    func writeCredential(
        key: P256.Signing.PrivateKey, certificate: Certificate, keyPath: String, certificatePath: String
    ) throws(SafeFile.WriteError) {
        try SafeFile.makeDirectory((certificatePath as NSString).deletingLastPathComponent)
        try SafeFile.writeSecret(Array((key.pemRepresentation + "\n").utf8), to: keyPath)
        try SafeFile.write(Array(certificate.pemText.utf8), to: certificatePath)
    }

    /// A certificate alone, for a key that lives elsewhere (a token).
    func writeCertificate(_ certificate: Certificate, to certificatePath: String) throws(SafeFile.WriteError) {
        try SafeFile.makeDirectory((certificatePath as NSString).deletingLastPathComponent)
        try SafeFile.write(Array(certificate.pemText.utf8), to: certificatePath)
    }

    func writeManifest(_ manifest: SandboxManifest) throws {
        try SafeFile.write(Array(try manifest.encoded()) + [0x0A], to: self.manifest)
    }
}
