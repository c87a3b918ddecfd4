/// A PKCS#11 call that failed: which function, its `CKR_*` value and name, and what it means for the
/// station (the kind). Every return value of a module becomes one of these; none ends the process.
package struct PKCS11Error: Error, Equatable, CustomStringConvertible {
    /// What the failure means to the caller, whatever the module's exact value.
    package enum Kind: String, Sendable, Equatable {
        /// The PIN is wrong; the token counts it.
        case pinIncorrect = "pin_incorrect"
        /// The PIN is locked (too many wrong tries): only the security officer can unlock it.
        case pinLocked = "pin_locked"
        /// The token is gone: pulled out, or its device or session no longer exists.
        case tokenRemoved = "token_removed"
        /// The module could not be loaded, or is not a PKCS#11 module.
        case moduleUnavailable = "module_unavailable"
        /// The URI names no token or object, or more than one.
        case notFound = "not_found"
        case ambiguous = "ambiguous"
        /// The token refuses what was asked (a sensitive attribute read, a mechanism it lacks…).
        case refused = "refused"
        /// Anything else the module reported.
        case failed = "failed"
    }

    package let kind: Kind
    /// The PKCS#11 function that failed (`C_Login`), or the station's step (`dlopen`, `find`).
    package let function: String
    /// The module's return value (`CKR_*`), when it gave one.
    package let returnValue: UInt?
    package let detail: String
    /// After a refused PIN: what the token then says of the tries left.
    package var pinTries: TokenInfo.PINTries?

    package init(kind: Kind, function: String, returnValue: UInt? = nil, detail: String = "") {
        self.kind = kind
        self.function = function
        self.returnValue = returnValue
        self.detail = detail
    }

    /// The error for `value`, returned by `function`.
    package init(function: String, returnValue value: UInt) {
        self.init(kind: Self.kind(of: value), function: function, returnValue: value)
    }

    /// The return value's name (`CKR_PIN_INCORRECT`), or its number for one this table lacks.
    package var name: String? {
        returnValue.map { Self.names[$0] ?? "CKR_0x" + String($0, radix: 16) }
    }

    package var description: String {
        var text = "\(function) failed"
        if let name { text += ": \(name)" }
        if !detail.isEmpty { text += " (\(detail))" }
        return text
    }

    static func kind(of value: UInt) -> Kind {
        switch value {
        case 0xA0, 0xA1, 0xA2: .pinIncorrect  // PIN_INCORRECT, PIN_INVALID, PIN_LEN_RANGE
        case 0xA4: .pinLocked
        case 0x32, 0xB3, 0xE0, 0xE1, 0x30: .tokenRemoved  // DEVICE_REMOVED, SESSION_HANDLE_INVALID, TOKEN_NOT_PRESENT, TOKEN_NOT_RECOGNIZED, DEVICE_ERROR
        case 0x11, 0x12, 0x70, 0x68, 0x63, 0x101: .refused  // ATTRIBUTE_SENSITIVE, ATTRIBUTE_TYPE_INVALID, MECHANISM_INVALID, KEY_FUNCTION_NOT_PERMITTED, KEY_TYPE_INCONSISTENT, USER_NOT_LOGGED_IN
        default: .failed
        }
    }

    /// The names of the return values a station meets (PKCS#11 v2.40 §11.1).
    static let names: [UInt: String] = [
        0x00: "CKR_OK", 0x01: "CKR_CANCEL", 0x02: "CKR_HOST_MEMORY", 0x03: "CKR_SLOT_ID_INVALID",
        0x05: "CKR_GENERAL_ERROR", 0x06: "CKR_FUNCTION_FAILED", 0x07: "CKR_ARGUMENTS_BAD", 0x10: "CKR_ATTRIBUTE_READ_ONLY",
        0x11: "CKR_ATTRIBUTE_SENSITIVE", 0x12: "CKR_ATTRIBUTE_TYPE_INVALID", 0x13: "CKR_ATTRIBUTE_VALUE_INVALID",
        0x20: "CKR_DATA_INVALID", 0x21: "CKR_DATA_LEN_RANGE", 0x30: "CKR_DEVICE_ERROR", 0x31: "CKR_DEVICE_MEMORY",
        0x32: "CKR_DEVICE_REMOVED", 0x50: "CKR_FUNCTION_CANCELED", 0x54: "CKR_FUNCTION_NOT_SUPPORTED",
        0x60: "CKR_KEY_HANDLE_INVALID", 0x63: "CKR_KEY_TYPE_INCONSISTENT", 0x68: "CKR_KEY_FUNCTION_NOT_PERMITTED",
        0x70: "CKR_MECHANISM_INVALID", 0x71: "CKR_MECHANISM_PARAM_INVALID", 0x82: "CKR_OBJECT_HANDLE_INVALID",
        0x90: "CKR_OPERATION_ACTIVE", 0x91: "CKR_OPERATION_NOT_INITIALIZED", 0xA0: "CKR_PIN_INCORRECT",
        0xA1: "CKR_PIN_INVALID", 0xA2: "CKR_PIN_LEN_RANGE", 0xA3: "CKR_PIN_EXPIRED", 0xA4: "CKR_PIN_LOCKED",
        0xB0: "CKR_SESSION_CLOSED", 0xB1: "CKR_SESSION_COUNT", 0xB3: "CKR_SESSION_HANDLE_INVALID",
        0xB5: "CKR_SESSION_READ_ONLY", 0xB6: "CKR_SESSION_EXISTS", 0xC0: "CKR_SIGNATURE_INVALID",
        0xC1: "CKR_SIGNATURE_LEN_RANGE", 0xD0: "CKR_TEMPLATE_INCOMPLETE", 0xD1: "CKR_TEMPLATE_INCONSISTENT",
        0xE0: "CKR_TOKEN_NOT_PRESENT", 0xE1: "CKR_TOKEN_NOT_RECOGNIZED", 0xE2: "CKR_TOKEN_WRITE_PROTECTED",
        0x100: "CKR_USER_ALREADY_LOGGED_IN", 0x101: "CKR_USER_NOT_LOGGED_IN", 0x102: "CKR_USER_PIN_NOT_INITIALIZED",
        0x103: "CKR_USER_TYPE_INVALID", 0x150: "CKR_BUFFER_TOO_SMALL", 0x190: "CKR_CRYPTOKI_NOT_INITIALIZED",
        0x191: "CKR_CRYPTOKI_ALREADY_INITIALIZED",
    ]
}
