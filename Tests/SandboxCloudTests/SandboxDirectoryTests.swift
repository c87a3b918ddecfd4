import CloudProtocol
import Crypto
import Foundation
import SandboxCloud
import TestSupport
import Testing
import VirtualCard
import X509

/// `vhc-cloud init` makes what cloud-protocol.md §8 asks for, with the identities of §1.
@Suite struct SandboxDirectoryTests {
    @Test func theSandboxHoldsThePeopleTheProtocolAsksFor() async throws {
        let folder = try TemporaryFolder(prefix: "vhc-sandbox")
        let directory = SandboxDirectory(path: folder.path("dir"))
        let now = Int64(Date().timeIntervalSince1970)
        let manifest = try await SandboxMaker.make(in: directory, now: now)

        let settings = manifest.institutions.map { Set($0.settings) }
        #expect(settings.contains(Set(CareSetting.allCases)))
        #expect(settings.contains([.homeCare]))
        #expect(settings.contains([.telemedicine, .videoConsultation]))
        #expect(manifest.institutions.allSatisfy { VisitOpening.isInstitutionCode($0.code) })
        #expect(Set(manifest.practitioners.map(\.profession)) == Set(Profession.allCases))
        for institution in manifest.institutions {
            #expect(manifest.practitioners.contains { $0.institutions.contains(institution.code) })
        }
        #expect(manifest.practitioners.contains { $0.institutions.count >= 2 })
        #expect(manifest.practitioners.contains { $0.institutions.isEmpty })
        #expect(manifest.patients.count >= 20)
        #expect(Set(manifest.patients.map(\.id)).count == manifest.patients.count)
        #expect(manifest.patients.allSatisfy { TaiwanID.isValid($0.id) })
        #expect(manifest.patients.contains { $0.photo == .none })
        #expect(manifest.patients.contains { $0.cardNumber != nil })
        #expect(manifest.patients.contains { $0.cardNumber == nil })
        #expect(manifest.patients.filter { $0.insuranceStatus == .suspended }.count == 1)
        #expect(manifest.practitioners.allSatisfy { TaiwanID.isValid($0.id) })

        // sandbox.json on disk says the same, with null card numbers written out.
        let json = try directory.read(directory.manifest)
        #expect(json.contains("\"cardNumber\" : null"))
        #expect(try directory.loadManifest() == manifest)

        // Private keys are readable by their owner alone.
        var keyPaths = [
            directory.caKey, directory.serverKey, directory.rootKey, directory.tokenKey, directory.revocationKey,
        ]
        keyPaths += manifest.institutions.map { directory.institutionKey($0.code) }
        keyPaths += manifest.practitioners.map { directory.practitionerKey($0.id) }
        for path in keyPaths {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? Int) == 0o600, "\(path)")
        }
    }

    @Test func certificatesCarryTheProtocolsIdentities() async throws {
        let folder = try TemporaryFolder(prefix: "vhc-sandbox")
        let directory = SandboxDirectory(path: folder.path("dir"))
        let now = Int64(Date().timeIntervalSince1970)
        let manifest = try await SandboxMaker.make(in: directory, now: now)
        let authority = CertificateAuthority(certificate: try directory.loadCertificate(directory.caCertificate))

        for institution in manifest.institutions {
            let certificate = try directory.loadCertificate(directory.institutionCertificate(institution.code))
            #expect(SubjectAttribute.value(SubjectAttribute.serialNumber, in: certificate.subject) == institution.code)
            #expect(SubjectAttribute.value(SubjectAttribute.commonName, in: certificate.subject) == institution.name)
            #expect(try certificate.extensions.extendedKeyUsage?.contains(.clientAuth) == true)
            let identity = try await authority.institution(der: certificate.derBytes, at: now)
            #expect(identity.code == institution.code)
            // An institution certificate is not a practitioner's: no ID number, no profession.
            await #expect(throws: CertificateAuthority.Refusal.self) {
                _ = try await authority.practitioner(der: certificate.derBytes, at: now)
            }
        }
        for practitioner in manifest.practitioners {
            let certificate = try directory.loadCertificate(directory.practitionerCertificate(practitioner.id))
            #expect(SubjectAttribute.value(SubjectAttribute.serialNumber, in: certificate.subject) == practitioner.id)
            #expect(
                SubjectAttribute.value(SubjectAttribute.title, in: certificate.subject)
                    == practitioner.profession.rawValue)
            #expect(try certificate.extensions.keyUsage?.digitalSignature == true)
            let identity = try await authority.practitioner(der: certificate.derBytes, at: now)
            #expect(identity.id == practitioner.id && identity.profession == practitioner.profession)
            // Not yet valid, and expired.
            await #expect(throws: CertificateAuthority.Refusal.self) {
                _ = try await authority.practitioner(der: certificate.derBytes, at: now - 3 * 86_400)
            }
            await #expect(throws: CertificateAuthority.Refusal.self) {
                _ = try await authority.practitioner(der: certificate.derBytes, at: now + 3 * 365 * 86_400)
            }
        }
        let server = try directory.loadCertificate(directory.serverCertificate)
        #expect(try server.extensions.extendedKeyUsage?.contains(.serverAuth) == true)
        let names = try #require(try server.extensions.subjectAlternativeNames)
        #expect(names.contains(.dnsName("localhost")))

        // The CA itself, and a certificate from another CA, are refused.
        await #expect(throws: CertificateAuthority.Refusal.self) {
            _ = try await authority.validate(der: authority.certificate.derBytes, at: now)
        }
        let other = try SandboxPKI.makeCA(now: Date())
        let key = P256.Signing.PrivateKey()
        let stranger = try other.issue(
            .institution(code: manifest.institutions[0].code, name: "stranger"), key: key.publicKey,
            validity: Date().addingTimeInterval(-60)...Date().addingTimeInterval(3600))
        await #expect(throws: CertificateAuthority.Refusal.self) {
            _ = try await authority.institution(der: stranger.derBytes, at: now)
        }
    }

    @Test func theTrustRootSignsTheFirstLists() async throws {
        let folder = try TemporaryFolder(prefix: "vhc-sandbox")
        let directory = SandboxDirectory(path: folder.path("dir"))
        let now = Int64(Date().timeIntervalSince1970)
        let manifest = try await SandboxMaker.make(in: directory, now: now)
        let root = try P256.Signing.PublicKey(pemRepresentation: try directory.read(directory.trustRoot))
        let store = try SQLiteCloudStore(path: directory.database)
        let trust = try #require(try await store.currentList(.trust))
        let revocation = try #require(try await store.currentList(.revocation))
        let list = try TrustList(cose: trust.cose, root: root)
        #expect(list.issuer == manifest.issuer && list.sequence == 1)
        #expect(list.problem(at: now, heldSequence: nil) == nil)
        _ = try RevocationList(cose: revocation.cose, trustList: list)
        // A second init in the same directory is refused rather than overwriting keys.
        await #expect(throws: (any Error).self) { _ = try await SandboxMaker.make(in: directory, now: now) }
    }
}
