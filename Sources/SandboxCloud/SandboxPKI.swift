import CloudProtocol
import Crypto
import Foundation
import SwiftASN1
import X509

/// Issues the sandbox's certificates with swift-certificates (cloud-protocol.md §1): one CA, the
/// cloud's server certificate, institution client certificates and practitioner signing
/// certificates. All keys are P-256.
package struct SandboxPKI: Sendable {
    package let caKey: P256.Signing.PrivateKey
    package let caCertificate: Certificate

    /// A new CA, valid from a day before `now` for `years`.
    package static func makeCA(now: Date, years: Int = 10) throws -> SandboxPKI {
        let key = P256.Signing.PrivateKey()
        let name = DistinguishedName([
            RelativeDistinguishedName(.init(type: SubjectAttribute.commonName, utf8String: "vhc-cloud sandbox CA"))
        ])
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-86_400),
            notValidAfter: now.addingTimeInterval(Double(years) * 365 * 86_400), issuer: name, subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: Certificate.PublicKey(key.publicKey))
            }, issuerPrivateKey: .init(key))
        return SandboxPKI(caKey: key, caCertificate: certificate)
    }

    package init(caKey: P256.Signing.PrivateKey, caCertificate: Certificate) {
        self.caKey = caKey
        self.caCertificate = caCertificate
    }

    /// What a leaf certificate is for.
    package enum Role: Sendable {
        /// The cloud's TLS server: EKU serverAuth, SAN `localhost` and `127.0.0.1`.
        case server
        /// An institution's TLS client certificate: EKU clientAuth; subject serialNumber = code.
        case institution(code: String, name: String)
        /// A practitioner's signing certificate: key usage digitalSignature; serialNumber = ID number,
        /// title = profession.
        case practitioner(id: String, name: String, profession: Profession)
    }

    /// Issues a certificate for `key` in `role`, valid over `validity`.
    package func issue(_ role: Role, key: P256.Signing.PublicKey, validity: ClosedRange<Date>) throws -> Certificate {
        var attributes: [RelativeDistinguishedName.Attribute] = []
        let extensions: Certificate.Extensions
        switch role {
        case .server:
            attributes.append(.init(type: SubjectAttribute.commonName, utf8String: "vhc-cloud sandbox"))
            extensions = try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames([
                    .dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])),
                ])
                AuthorityKeyIdentifier(keyIdentifier: authorityKeyIdentifier)
            }
        case .institution(let code, let name):
            attributes.append(.init(type: SubjectAttribute.commonName, utf8String: name))
            attributes.append(try .init(type: SubjectAttribute.serialNumber, printableString: code))
            extensions = try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.clientAuth])
                AuthorityKeyIdentifier(keyIdentifier: authorityKeyIdentifier)
            }
        case .practitioner(let id, let name, let profession):
            attributes.append(.init(type: SubjectAttribute.commonName, utf8String: name))
            attributes.append(try .init(type: SubjectAttribute.serialNumber, printableString: id))
            attributes.append(try .init(type: SubjectAttribute.title, printableString: profession.rawValue))
            extensions = try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, nonRepudiation: true))
                AuthorityKeyIdentifier(keyIdentifier: authorityKeyIdentifier)
            }
        }
        return try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key), notValidBefore: validity.lowerBound,
            notValidAfter: validity.upperBound, issuer: caCertificate.subject,
            subject: DistinguishedName(attributes.map { RelativeDistinguishedName($0) }),
            signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions, issuerPrivateKey: .init(caKey))
    }

    var authorityKeyIdentifier: ArraySlice<UInt8> {
        (try? caCertificate.extensions.subjectKeyIdentifier)?.keyIdentifier
            ?? SubjectKeyIdentifier(hash: caCertificate.publicKey).keyIdentifier
    }
}

extension Certificate {
    /// DER bytes.
    package var derBytes: [UInt8] {
        var serializer = DER.Serializer()
        try? serializer.serialize(self)
        return serializer.serializedBytes
    }

    /// PEM text.
    package var pemText: String { (try? serializeAsPEM().pemString) ?? "" }
}
