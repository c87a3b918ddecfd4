import Crypto
import Foundation
import PKCS11
import TestSupport
import Testing

/// Keys on real SoftHSM2 tokens, through the module as a card's would be loaded: generated on the
/// token, signing there, never read out.
@Suite("PKCS#11 tokens (SoftHSM2)")
struct TokenTests {
    /// A fresh token of its own label for each test, and a read-write session with it.
    func token() throws -> (SoftHSM.Token, PKCS11URI, PKCS11Session) {
        let token = try SoftHSM.freshToken()
        let uri = try PKCS11URI(token.uri)
        let module = try PKCS11Module.load(SoftHSM.modulePath)
        return (token, uri, try PKCS11Session(uri: uri, module: module, readWrite: true))
    }

    @Test("a P-256 key generated on the token signs there; the signature verifies with its public key")
    func generateAndSign() throws {
        let (token, uri, session) = try token()
        try session.login(pin: Array(token.userPIN.utf8))
        let key = try TokenSigningKey.generate(on: session, uri: uri, label: "practitioner", id: [0x01, 0x02])
        let message = Array("a visit opening".utf8)
        let signature = try key.signature(for: message)
        #expect(key.publicKey.isValidSignature(signature, for: message))
        #expect(!key.publicKey.isValidSignature(signature, for: Array("another".utf8)))

        // Found again by its URI alone, in another session: the same key.
        let again = try TokenSigningKey(
            uri: try PKCS11URI("\(token.uri);object=practitioner;type=private"),
            session: try PKCS11Session(uri: uri, module: session.module))
        #expect(again.publicKey.rawRepresentation == key.publicKey.rawRepresentation)
        #expect(key.publicKey.isValidSignature(try again.signature(for: message), for: message))
    }

    @Test("the private key cannot be read off the token: CKA_VALUE is refused as sensitive")
    func notExtractable() throws {
        let (token, uri, session) = try token()
        try session.login(pin: Array(token.userPIN.utf8))
        _ = try TokenSigningKey.generate(on: session, uri: uri, label: "institution", id: [0x07])
        let privateKeys = try session.findObjects(class: 3, label: "institution")  // CKO_PRIVATE_KEY
        #expect(privateKeys.count == 1)
        let refusal = #expect(throws: PKCS11Error.self) {
            try session.attribute(0x11, of: privateKeys[0])  // CKA_VALUE
        }
        #expect(refusal?.kind == .refused && refusal?.name == "CKR_ATTRIBUTE_SENSITIVE")
        #expect(try session.attribute(0x162, of: privateKeys[0]) == [0])  // CKA_EXTRACTABLE: false
        #expect(try session.attribute(0x103, of: privateKeys[0]) == [1])  // CKA_SENSITIVE: true
    }

    @Test("a wrong PIN is pin_incorrect, sent once: the module sees one C_Login")
    func wrongPINOnce() throws {
        let token = try SoftHSM.freshToken()
        // Through OpenSC's spy, which logs every call it passes to SoftHSM.
        let spy = try PKCS11Module.load(SoftHSM.spyPath)
        let session = try PKCS11Session(uri: try PKCS11URI(token.uri), module: spy)
        let error = #expect(throws: PKCS11Error.self) { try session.login(pin: Array(token.wrongPIN.utf8)) }
        #expect(error?.kind == .pinIncorrect && error?.name == "CKR_PIN_INCORRECT" && error?.function == "C_Login")
        #expect(SoftHSM.spiedLogins(pin: token.wrongPIN) == 1, "\(SoftHSM.spyLog.suffix(2000))")
        // The token is not locked by one wrong try, and the right PIN then works.
        #expect(try session.tokenInfo().pinTries != .locked)
        try session.login(pin: Array(token.userPIN.utf8))
        #expect(SoftHSM.spiedLogins(pin: token.userPIN) == 1)
        #expect(SoftHSM.spiedLogins(pin: token.wrongPIN) == 1)
    }

    @Test("URIs that name no token, no key, or two keys are told apart")
    func lookups() throws {
        let module = try PKCS11Module.load(SoftHSM.modulePath)
        let missing = #expect(throws: PKCS11Error.self) {
            try PKCS11Session(uri: try PKCS11URI("pkcs11:token=no-such-token"), module: module)
        }
        #expect(missing?.kind == .notFound)

        let (token, uri, session) = try token()
        try session.login(pin: Array(token.userPIN.utf8))
        _ = try TokenSigningKey.generate(on: session, uri: uri, label: "twin", id: [0x01])
        _ = try TokenSigningKey.generate(on: session, uri: uri, label: "twin", id: [0x02])
        let ambiguous = #expect(throws: PKCS11Error.self) {
            try TokenSigningKey(uri: try PKCS11URI("\(token.uri);object=twin"), session: session)
        }
        #expect(ambiguous?.kind == .ambiguous)
        // The id tells them apart.
        #expect(throws: Never.self) { try TokenSigningKey(uri: try PKCS11URI("\(token.uri);object=twin;id=%02"), session: session) }
        let none = #expect(throws: PKCS11Error.self) {
            try TokenSigningKey(uri: try PKCS11URI("\(token.uri);object=nobody"), session: session)
        }
        #expect(none?.kind == .notFound)
        let noObject = #expect(throws: PKCS11Error.self) { try TokenSigningKey(uri: uri, session: session) }
        #expect(noObject?.kind == .notFound && noObject?.detail.contains("names no object") == true)
    }

    @Test("a module that does not load, or is not PKCS#11, is module_unavailable with the loader's reason")
    func badModules() {
        let missing = #expect(throws: PKCS11Error.self) { try PKCS11Module.load("/nonexistent/module.so") }
        #expect(missing?.kind == .moduleUnavailable && missing?.function == "dlopen")
        #expect(missing?.detail.contains("/nonexistent/module.so") == true)
        let notPKCS11 = #expect(throws: PKCS11Error.self) {
            try PKCS11Module.load("/usr/lib/x86_64-linux-gnu/libz.so.1")
        }
        #expect(notPKCS11?.kind == .moduleUnavailable && notPKCS11?.function == "dlsym")
        let relative = #expect(throws: PKCS11Error.self) { try PKCS11Module.load("libsofthsm2.so") }
        #expect(relative?.kind == .moduleUnavailable)
    }

    @Test("every return value has its name; unknown ones their number")
    func errorNames() {
        #expect(PKCS11Error(function: "C_Login", returnValue: 0xA4).kind == .pinLocked)
        #expect(PKCS11Error(function: "C_Sign", returnValue: 0x32).kind == .tokenRemoved)
        #expect(PKCS11Error(function: "C_Sign", returnValue: 0xB3).name == "CKR_SESSION_HANDLE_INVALID")
        #expect(PKCS11Error(function: "C_Sign", returnValue: 0x8000_0001).name == "CKR_0x80000001")
        #expect(PKCS11Error(function: "C_Sign", returnValue: 0x8000_0001).kind == .failed)
        #expect("\(PKCS11Error(function: "C_Login", returnValue: 0xA0))" == "C_Login failed: CKR_PIN_INCORRECT")
    }
}
