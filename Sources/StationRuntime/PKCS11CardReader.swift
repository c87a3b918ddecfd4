import Crypto
import PKCS11
import Station
import VirtualCard
import X509

/// Practitioners' cards through PKCS#11. Only the modules the configuration names are loaded: a socket
/// client naming any library would otherwise make the daemon load and run it. The key is found by its
/// URI, the PIN sent to the card once, and the certificate read from beside the key when the card holds
/// one.
package struct PKCS11CardReader: PractitionerCardReader {
    /// The modules a login may name; the first is used when it names none.
    package let allowedModules: [String]

    package init(allowedModules: [String]) {
        self.allowedModules = allowedModules
    }

    package func open(uri text: String, module: String?, pin: [UInt8]) throws(CardError) -> any PractitionerCard {
        let uri: PKCS11URI
        do { uri = try PKCS11URI(text) } catch { throw CardError(code: "uri_invalid", detail: error.description) }
        let path = module ?? uri.modulePath ?? allowedModules.first ?? PKCS11Module.defaultPath
        guard allowedModules.contains(path) else {
            throw CardError(
                code: "module_not_allowed",
                detail: "\(path) is not a module this station loads (cloud.card_module, or p11-kit's proxy)")
        }
        do {
            let session = try PKCS11Session.loggedIn(uri: uri, modulePath: path, pin: pin)
            let certificate = try? TokenSigningKey.certificate(for: uri, on: session)
            // The public half from the certificate beside the key, else from the card's public key object.
            let publicKey = certificate.flatMap { try? Certificate(derEncoded: $0) }.flatMap {
                P256.Signing.PublicKey($0.publicKey)
            }
            let key = try TokenSigningKey(uri: uri, session: session, publicKey: publicKey)
            return PKCS11Card(key: key, certificate: certificate, session: session)
        } catch {
            throw CardError(code: error.kind.rawValue, detail: error.description, pinTries: error.pinTries?.rawValue)
        }
    }
}

/// A practitioner's key on a card, with its session for the shift.
struct PKCS11Card: PractitionerCard {
    let key: TokenSigningKey
    let certificate: [UInt8]?
    let session: PKCS11Session

    var signer: any ES256Signer { key }
    func isPresent() -> Bool { key.isAvailable() }
    func close() { session.close() }
}
