import Crypto
import Foundation
import SafeFiles
import SwiftASN1
import X509

/// The listener's HTTPS identity, as the console has one: a P-256 key and a self-signed certificate for
/// `localhost` and `127.0.0.1`, made on the first start and kept beside the station's database (the key
/// readable by the daemon alone), so an HIS that pinned or accepted it once keeps working. HIS code
/// connects with certificate verification off; nothing else trusts it, and nothing needs to.
package struct HISTLSIdentity: Sendable {
    package let certificatePEM: String
    package let keyPEM: String

    /// The identity kept in `folder` (`his-tls.crt`, `his-tls.key`), made there first when there is none.
    package static func kept(in folder: String, now: Date = Date()) throws -> HISTLSIdentity {
        let certificatePath = folder + "/his-tls.crt", keyPath = folder + "/his-tls.key"
        if let certificate = try? String(contentsOfFile: certificatePath, encoding: .utf8),
            let key = try? String(contentsOfFile: keyPath, encoding: .utf8)
        {
            return HISTLSIdentity(certificatePEM: certificate, keyPEM: key)
        }
        let made = try make(now: now)
        // The key first: a certificate without its key beside it would be taken for a kept identity.
        try SafeFile.writeSecret(Array(made.keyPEM.utf8), to: keyPath)
        try SafeFile.write(Array(made.certificatePEM.utf8), to: certificatePath)
        return made
    }

    /// A new key and its self-signed certificate, valid from a day before `now` for ten years.
    package static func make(now: Date) throws -> HISTLSIdentity {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName("vhc-station HIS listener") }
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-86_400), notValidAfter: now.addingTimeInterval(10 * 365 * 86_400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames([.dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))])
            }, issuerPrivateKey: .init(key))
        return HISTLSIdentity(certificatePEM: try certificate.serializeAsPEM().pemString, keyPEM: key.pemRepresentation)
    }
}
