import CPKCS11
import Synchronization

/// One session with one token. PKCS#11 keeps an operation's state in its session (`C_SignInit` then
/// `C_Sign`; `C_FindObjectsInit`…`Final`), so each operation holds the session's lock from its first call
/// to its last. The login is the token's (all of the application's sessions with it share it).
package final class PKCS11Session: Sendable {
    package let module: PKCS11Module
    package let slot: CK_SLOT_ID
    private let handle: CK_SESSION_HANDLE
    private let operation = Mutex(())
    private let closed = Mutex(false)

    /// Opens a session with the token `uri` names, on `module` (or the URI's `module-path`).
    package init(uri: PKCS11URI, module: PKCS11Module, readWrite: Bool = false) throws(PKCS11Error) {
        self.module = module
        slot = try module.slot(for: uri)
        var flags = CK_FLAGS(CKF_SERIAL_SESSION)
        if readWrite { flags |= CK_FLAGS(CKF_RW_SESSION) }
        var handle: CK_SESSION_HANDLE = 0
        let slot = slot
        try module.call("C_OpenSession") { $0.C_OpenSession?(slot, flags, nil, nil, &handle) }
        self.handle = handle
    }

    deinit { close() }

    /// Closes the session (once). When it was the application's last with the token, the token's login
    /// ends with it, as PKCS#11 says.
    package func close() {
        let first = closed.withLock { closed in
            defer { closed = true }
            return !closed
        }
        if first { _ = module.functions.pointee.C_CloseSession?(handle) }
    }

    /// Whether the session is still there: false once closed, or once the token is gone
    /// (`C_GetSessionInfo` answers `CKR_SESSION_HANDLE_INVALID`, `CKR_DEVICE_REMOVED`…).
    package func isAlive() -> Bool {
        guard !closed.withLock({ $0 }) else { return false }
        var info = CK_SESSION_INFO()
        return module.functions.pointee.C_GetSessionInfo?(handle, &info) == CKR_OK
    }

    /// What the token says of itself now (its PIN flags change with each wrong try).
    package func tokenInfo() throws(PKCS11Error) -> TokenInfo { try module.tokenInfo(slot: slot) }

    /// Logs the user in with `pin`, once: a wrong PIN is never sent again by this code, since the token
    /// counts each try. Already logged in (another session of this process) is a success.
    package func login(pin: [UInt8]) throws(PKCS11Error) {
        var pin = pin
        defer { for index in pin.indices { pin[index] = 0 } }
        let handle = handle
        let value = pin.withUnsafeMutableBufferPointer { pin in
            module.functions.pointee.C_Login?(handle, CK_USER_TYPE(CKU_USER), pin.baseAddress, CK_ULONG(pin.count))
        } ?? UInt(CKR_FUNCTION_NOT_SUPPORTED)
        guard value == CKR_OK || value == CKR_USER_ALREADY_LOGGED_IN else {
            var error = PKCS11Error(function: "C_Login", returnValue: value)
            if error.kind == .pinIncorrect || error.kind == .pinLocked { error.pinTries = try? tokenInfo().pinTries }
            throw error
        }
    }

    /// A session with the token `uri` names, on the module at `modulePath` (loaded once per process),
    /// logged in with `pin` (sent once): what every user of a key on a token starts with.
    package static func loggedIn(
        uri: PKCS11URI, modulePath: String, pin: [UInt8], readWrite: Bool = false
    ) throws(PKCS11Error) -> PKCS11Session {
        let session = try PKCS11Session(uri: uri, module: try PKCS11Module.load(modulePath), readWrite: readWrite)
        try session.login(pin: pin)
        return session
    }

    package func logout() {
        _ = module.functions.pointee.C_Logout?(handle)
    }

    /// The objects that match every given attribute (class, label, id), in the token's order.
    package func findObjects(
        class objectClass: CK_OBJECT_CLASS? = nil, label: String? = nil, id: [UInt8]? = nil
    ) throws(PKCS11Error) -> [CK_OBJECT_HANDLE] {
        var template = AttributeTemplate()
        if let objectClass { template.add(CK_ATTRIBUTE_TYPE(CKA_CLASS), value: objectClass) }
        if let label { template.add(CK_ATTRIBUTE_TYPE(CKA_LABEL), bytes: Array(label.utf8)) }
        if let id { template.add(CK_ATTRIBUTE_TYPE(CKA_ID), bytes: id) }
        return try operation.withLock { _ throws(PKCS11Error) -> [CK_OBJECT_HANDLE] in
            let handle = handle
            try template.withAttributes { attributes, count throws(PKCS11Error) in
                try module.call("C_FindObjectsInit") { $0.C_FindObjectsInit?(handle, attributes, count) }
            }
            defer { _ = module.functions.pointee.C_FindObjectsFinal?(handle) }
            var found: [CK_OBJECT_HANDLE] = []
            while true {
                var batch = [CK_OBJECT_HANDLE](repeating: 0, count: 16)
                var count: CK_ULONG = 0
                try module.call("C_FindObjects") { list in
                    batch.withUnsafeMutableBufferPointer { list.C_FindObjects?(handle, $0.baseAddress, 16, &count) }
                }
                found += batch.prefix(Int(count))
                if count < 16 { return found }
            }
        }
    }

    /// One attribute's value. A sensitive one (a private key's `CKA_VALUE`) is refused by the token:
    /// `CKR_ATTRIBUTE_SENSITIVE`, kind `.refused`.
    package func attribute(_ type: CK_ATTRIBUTE_TYPE, of object: CK_OBJECT_HANDLE) throws(PKCS11Error) -> [UInt8] {
        let handle = handle
        var attribute = CK_ATTRIBUTE(type: type, pValue: nil, ulValueLen: 0)
        try module.call("C_GetAttributeValue") { $0.C_GetAttributeValue?(handle, object, &attribute, 1) }
        // CK_UNAVAILABLE_INFORMATION (all ones) with CKR_OK never happens for a single attribute, but a
        // module that says so gets a clear error rather than a huge allocation.
        guard attribute.ulValueLen < 1 << 20 else {
            throw PKCS11Error(kind: .refused, function: "C_GetAttributeValue", detail: "no value")
        }
        var value = [UInt8](repeating: 0, count: Int(attribute.ulValueLen))
        let returned = value.withUnsafeMutableBytes { buffer in
            attribute.pValue = buffer.baseAddress
            return module.functions.pointee.C_GetAttributeValue?(handle, object, &attribute, 1)
        }
        try module.call("C_GetAttributeValue") { _ in returned }
        return Array(value.prefix(Int(attribute.ulValueLen)))
    }

    /// Signs `data` with `key` by `mechanism` (for ECDSA: the digest in, raw r‖s out).
    package func sign(
        _ data: [UInt8], key: CK_OBJECT_HANDLE, mechanism: CK_MECHANISM_TYPE
    ) throws(PKCS11Error) -> [UInt8] {
        try operation.withLock { _ throws(PKCS11Error) -> [UInt8] in
            let handle = handle
            var mechanism = CK_MECHANISM(mechanism: mechanism, pParameter: nil, ulParameterLen: 0)
            try module.call("C_SignInit") { $0.C_SignInit?(handle, &mechanism, key) }
            var data = data
            var signature = [UInt8](repeating: 0, count: 512)
            var length = CK_ULONG(signature.count)
            // One call with a buffer large enough for any ECDSA or RSA-4096 signature ends the operation.
            try module.call("C_Sign") { list in
                data.withUnsafeMutableBufferPointer { data in
                    signature.withUnsafeMutableBufferPointer { out in
                        list.C_Sign?(handle, data.baseAddress, CK_ULONG(data.count), out.baseAddress, &length)
                    }
                }
            }
            return Array(signature.prefix(Int(length)))
        }
    }

    /// Generates a key pair on the token with `mechanism` and the two templates; returns the public and
    /// the private key's handles.
    func generateKeyPair(
        mechanism: CK_MECHANISM_TYPE, publicTemplate: AttributeTemplate, privateTemplate: AttributeTemplate
    ) throws(PKCS11Error) -> (public: CK_OBJECT_HANDLE, private: CK_OBJECT_HANDLE) {
        try operation.withLock { _ throws(PKCS11Error) -> (CK_OBJECT_HANDLE, CK_OBJECT_HANDLE) in
            let handle = handle
            var mechanism = CK_MECHANISM(mechanism: mechanism, pParameter: nil, ulParameterLen: 0)
            var publicKey: CK_OBJECT_HANDLE = 0, privateKey: CK_OBJECT_HANDLE = 0
            try publicTemplate.withAttributes { publicAttributes, publicCount throws(PKCS11Error) in
                try privateTemplate.withAttributes { privateAttributes, privateCount throws(PKCS11Error) in
                    try module.call("C_GenerateKeyPair") {
                        $0.C_GenerateKeyPair?(
                            handle, &mechanism, publicAttributes, publicCount, privateAttributes, privateCount,
                            &publicKey, &privateKey)
                    }
                }
            }
            return (publicKey, privateKey)
        }
    }

    /// Stores an X.509 certificate (`der`, its `subject` DER) on the token beside its key: the same
    /// label and id, so the key's URI finds it. Needs a read-write, logged-in session.
    package func storeCertificate(_ der: [UInt8], subject: [UInt8], label: String, id: [UInt8]) throws(PKCS11Error) {
        var template = AttributeTemplate()
        template.add(CK_ATTRIBUTE_TYPE(CKA_CLASS), value: CK_ULONG(CKO_CERTIFICATE))
        template.add(CK_ATTRIBUTE_TYPE(CKA_CERTIFICATE_TYPE), value: CK_ULONG(CKC_X_509))
        template.add(CK_ATTRIBUTE_TYPE(CKA_TOKEN), bool: true)
        template.add(CK_ATTRIBUTE_TYPE(CKA_PRIVATE), bool: false)
        template.add(CK_ATTRIBUTE_TYPE(CKA_LABEL), bytes: Array(label.utf8))
        template.add(CK_ATTRIBUTE_TYPE(CKA_ID), bytes: id)
        template.add(CK_ATTRIBUTE_TYPE(CKA_SUBJECT), bytes: subject)
        template.add(CK_ATTRIBUTE_TYPE(CKA_VALUE), bytes: der)
        _ = try createObject(template)
    }

    /// Creates an object from `template`.
    func createObject(_ template: AttributeTemplate) throws(PKCS11Error) -> CK_OBJECT_HANDLE {
        let handle = handle
        var object: CK_OBJECT_HANDLE = 0
        try template.withAttributes { attributes, count throws(PKCS11Error) in
            try module.call("C_CreateObject") { $0.C_CreateObject?(handle, attributes, count, &object) }
        }
        return object
    }
}

/// A PKCS#11 attribute template: each value kept as bytes, so the pointers handed to the module stay
/// valid for the call.
struct AttributeTemplate {
    private var entries: [(CK_ATTRIBUTE_TYPE, [UInt8])] = []

    mutating func add(_ type: CK_ATTRIBUTE_TYPE, bytes: [UInt8]) { entries.append((type, bytes)) }

    mutating func add(_ type: CK_ATTRIBUTE_TYPE, value: CK_ULONG) {
        add(type, bytes: withUnsafeBytes(of: value) { Array($0) })
    }

    mutating func add(_ type: CK_ATTRIBUTE_TYPE, bool: Bool) {
        add(type, bytes: [bool ? UInt8(CK_TRUE) : UInt8(CK_FALSE)])
    }

    /// Calls `body` with the template as C attributes, their values copied into one buffer that lives
    /// for the call.
    func withAttributes<T>(
        _ body: (UnsafeMutablePointer<CK_ATTRIBUTE>?, CK_ULONG) throws(PKCS11Error) -> T
    ) throws(PKCS11Error) -> T {
        let values = UnsafeMutableRawBufferPointer.allocate(
            byteCount: max(1, entries.reduce(0) { $0 + $1.1.count }), alignment: 8)
        defer { values.deallocate() }
        var attributes: [CK_ATTRIBUTE] = []
        var offset = 0
        for (type, bytes) in entries {
            let slice = UnsafeMutableRawBufferPointer(rebasing: values[offset..<(offset + bytes.count)])
            slice.copyBytes(from: bytes)
            attributes.append(CK_ATTRIBUTE(type: type, pValue: slice.baseAddress, ulValueLen: CK_ULONG(bytes.count)))
            offset += bytes.count
        }
        return try attributes.withUnsafeMutableBufferPointer { buffer throws(PKCS11Error) in
            try body(buffer.baseAddress, CK_ULONG(buffer.count))
        }
    }
}
