import CloudClient
import CloudProtocol
import Crypto
import Foundation
import PKCS11
import StationConfiguration
import SwiftASN1
import TestSupport
import Testing
import X509

/// `cloud.key` as a PKCS#11 URI: the daemon's and `vhc audit`'s way to the institution's key on a token.
@Suite("The institution's key on a token, from the configuration")
struct InstitutionTokenTests {
    /// A sandbox, a fresh SoftHSM token holding the institution's key (id 01, label `institution`), a
    /// PIN file, and the configuration's cloud section naming them, through pkcs11-spy so that a test
    /// can count the module's calls.
    struct Setup {
        let cloud: CloudHarness
        let folder: TemporaryFolder
        let token: SoftHSM.Token
        let code: String
        var certificatePath: String { cloud.directory.institutionCertificate(code) }

        init() async throws {
            cloud = try await CloudHarness()
            folder = try TemporaryFolder(prefix: "vhc-institution-token")
            token = try SoftHSM.freshToken()
            code = cloud.everySetting.code
            let key = try P256.Signing.PrivateKey(
                pemRepresentation: try cloud.directory.read(cloud.directory.institutionKey(code)))
            try key.pemRepresentation.write(toFile: folder.path("key.pem"), atomically: true, encoding: .utf8)
            try SoftHSM.importKey(folder.path("key.pem"), into: token, label: "institution", id: "01")
            try pinFile(token.userPIN)
        }

        func pinFile(_ pin: String, mode: Int = 0o600) throws {
            let path = folder.path("pin")
            try? FileManager.default.removeItem(atPath: path)
            try (pin + "\n").write(toFile: path, atomically: false, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        }

        /// The cloud section with the key on the token; `certificate` nil: the token's own.
        func files(certificate: String?, object: String = "institution") throws -> CloudFiles {
            var yaml = """
                institution: "\(code)"
                trust:
                  root: /etc/vhc-station/root.pub
                cloud:
                  url: \(cloud.url)
                  ca: \(cloud.directory.caCertificate)
                  key: "\(token.uri);object=\(object);type=private"
                  pin_file: \(folder.path("pin"))
                  pkcs11_module: \(SoftHSM.spyPath)

                """
            if let certificate { yaml += "  certificate: \(certificate)\n" }
            try yaml.write(toFile: folder.path("station.yaml"), atomically: true, encoding: .utf8)
            let config = try StationConfig.load(path: folder.path("station.yaml"))
            return try CloudFiles(try #require(config.cloud), institution: code)
        }
    }

    @Test("the key stays on the token: one login, the handshake signed there, the status says pkcs11")
    func keyOnToken() async throws {
        let setup = try await Setup()
        let files = try setup.files(certificate: setup.certificatePath)
        #expect(files.keyKind == "pkcs11")
        #expect(SoftHSM.spiedLogins(pin: setup.token.userPIN) == 1)
        let status = try await withClient(try files.client(url: setup.cloud.url)) {
            try await TokenKeyTLSTests.uploadNothing(setup.cloud, $0)
        }
        #expect(status == 200)
        try await setup.cloud.stop()
    }

    @Test("without cloud.certificate the certificate is read from the token, beside the key")
    func certificateOnToken() async throws {
        let setup = try await Setup()
        let pem = try setup.cloud.directory.read(setup.certificatePath)
        let certificate = try Certificate(pemEncoded: pem)
        var subject = DER.Serializer()
        try subject.serialize(certificate.subject)
        let uri = try PKCS11URI(setup.token.uri)
        let session = try PKCS11Session(uri: uri, module: try PKCS11Module.load(SoftHSM.modulePath), readWrite: true)
        try session.login(pin: Array(setup.token.userPIN.utf8))
        try session.storeCertificate(
            try PEMDocument(pemString: pem).derBytes, subject: subject.serializedBytes, label: "institution", id: [0x01])
        let files = try setup.files(certificate: nil)
        #expect(try Certificate(pemEncoded: files.certificatePEM) == certificate)
        let status = try await withClient(try files.client(url: setup.cloud.url)) {
            try await TokenKeyTLSTests.uploadNothing(setup.cloud, $0)
        }
        #expect(status == 200)
        try await setup.cloud.stop()
    }

    @Test("a PIN file others can read, a wrong PIN (sent once), a key that is not the certificate's: each names its key")
    func refusals() async throws {
        let setup = try await Setup()
        try setup.pinFile(setup.token.userPIN, mode: 0o644)
        let readable = #expect(throws: ConfigError.self) { try setup.files(certificate: setup.certificatePath) }
        #expect(readable?.key == "cloud.pin_file" && readable?.message.contains("chmod 600") == true)

        try setup.pinFile(setup.token.wrongPIN)
        let wrong = #expect(throws: ConfigError.self) { try setup.files(certificate: setup.certificatePath) }
        #expect(wrong?.key == "cloud.pin_file", "\(String(describing: wrong))")
        #expect(wrong?.message.contains("pin_incorrect") == true && wrong?.message.contains("not sent again") == true)
        #expect(SoftHSM.spiedLogins(pin: setup.token.wrongPIN) == 1)

        // The right PIN, and a key on the token of its own: not the institution certificate's.
        try setup.pinFile(setup.token.userPIN)
        let uri = try PKCS11URI(setup.token.uri)
        let session = try PKCS11Session(uri: uri, module: try PKCS11Module.load(SoftHSM.modulePath), readWrite: true)
        try session.login(pin: Array(setup.token.userPIN.utf8))
        _ = try TokenSigningKey.generate(on: session, uri: uri, label: "other", id: [0x09])
        let stranger = #expect(throws: ConfigError.self) {
            try setup.files(certificate: setup.certificatePath, object: "other")
        }
        #expect(stranger?.key == "cloud.key" && stranger?.message.contains("not the certificate's") == true)
        let missing = #expect(throws: ConfigError.self) {
            try setup.files(certificate: setup.certificatePath, object: "nobody")
        }
        #expect(missing?.key == "cloud.key" && missing?.message.contains("no private key matches") == true)
        try await setup.cloud.stop()
    }
}
