import CloudClient
import CloudProtocol
import Crypto
import Foundation
import PKCS11
import TestSupport
import Testing
import VirtualCard

/// The institution's TLS key on a card: mutual TLS with the cloud signed by a key that only signs.
@Suite("Mutual TLS with the institution's key on a token")
struct TokenKeyTLSTests {
    /// An idempotent call that needs the institution's certificate: an empty consumed-id upload.
    static func uploadNothing(_ cloud: CloudHarness, _ client: CloudClient) async throws -> Int {
        try await cloud.post(client, "/v1/consumed", json: ConsumedUpload(tokenIds: [], consumedAt: [])).status
    }

    @Test("a key behind a signer (no PEM given to TLS) completes the handshake; the cloud knows the institution")
    func signerKey() async throws {
        let cloud = try await CloudHarness()
        let (certificate, keyPEM) = try cloud.credential(institution: cloud.everySetting.code)
        let key = try P256.Signing.PrivateKey(pemRepresentation: keyPEM)
        let client = try CloudClient(
            baseURL: cloud.url, caPEM: try cloud.directory.read(cloud.directory.caCertificate),
            identity: .init(certificatePEM: certificate, signer: key))
        #expect(try await withClient(client) { try await Self.uploadNothing(cloud, $0) } == 200)
        // Another key than the certificate's: the cloud's TLS refuses the handshake.
        let stranger = try CloudClient(
            baseURL: cloud.url, caPEM: try cloud.directory.read(cloud.directory.caCertificate),
            identity: .init(certificatePEM: certificate, signer: P256.Signing.PrivateKey()))
        await #expect(throws: (any Error).self) { try await withClient(stranger) { try await Self.uploadNothing(cloud, $0) } }
        try await cloud.stop()
    }

    @Test("the institution's key imported into a SoftHSM token signs the handshake there")
    func softHSMKey() async throws {
        let cloud = try await CloudHarness()
        let (certificate, keyPEM) = try cloud.credential(institution: cloud.everySetting.code)
        let token = try SoftHSM.freshToken()
        let folder = try TemporaryFolder(prefix: "vhc-token-tls")
        // As a security officer moves an existing key onto a module (keygen on the token is `vhc card`'s).
        let keyFile = folder.path("key.pem")
        try P256.Signing.PrivateKey(pemRepresentation: keyPEM).pemRepresentation.write(
            toFile: keyFile, atomically: true, encoding: .utf8)
        try SoftHSM.importKey(keyFile, into: token, label: "institution", id: "01")
        let uri = try PKCS11URI("\(token.uri);object=institution;type=private")
        let session = try PKCS11Session(uri: uri, module: try PKCS11Module.load(SoftHSM.modulePath))
        try session.login(pin: Array(token.userPIN.utf8))
        let tokenKey = try TokenSigningKey(uri: uri, session: session)
        let client = try CloudClient(
            baseURL: cloud.url, caPEM: try cloud.directory.read(cloud.directory.caCertificate),
            identity: .init(certificatePEM: certificate, signer: tokenKey))
        #expect(try await withClient(client) { try await Self.uploadNothing(cloud, $0) } == 200)
        try await cloud.stop()
    }
}
