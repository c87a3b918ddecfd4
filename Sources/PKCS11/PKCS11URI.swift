/// A PKCS#11 URI (RFC 7512): which token, which object on it, and optionally which module, e.g.
/// `pkcs11:token=Clinic;object=institution;type=private`. Parsed by hand: no listed package reads them.
///
/// What the station acts on: the token's label, manufacturer, model and serial, a slot id; the object's
/// label (`object`), `id` and `type`; the query's `module-path` and `pin-source` (a file). Anything the
/// RFC defines that the station would silently ignore is refused instead (`pin-value`: a PIN in a config
/// file or a command line is a leak), as is an attribute given twice; vendor attributes (`x-…`) are
/// ignored, as the RFC allows.
package struct PKCS11URI: Sendable, Hashable, CustomStringConvertible {
    package enum ObjectType: String, Sendable, Hashable {
        case `private`, `public`, cert, data
        case secretKey = "secret-key"
    }

    package var token: String?
    package var manufacturer: String?
    package var model: String?
    package var serial: String?
    package var slotID: UInt?
    package var object: String?
    package var id: [UInt8]?
    package var type: ObjectType?
    package var modulePath: String?
    package var pinSource: String?

    /// The URI as given, for messages (it holds no secret: a `pin-value` is refused).
    package let text: String
    package var description: String { text }

    package struct ParseError: Error, Equatable, CustomStringConvertible {
        package let uri: String
        package let reason: String
        package var description: String { "not a PKCS#11 URI the station can use (\(uri)): \(reason)" }
    }

    package init(_ text: String) throws(ParseError) {
        self.text = text
        func fail(_ reason: String) -> ParseError { ParseError(uri: text, reason: reason) }
        guard text.lowercased().hasPrefix("pkcs11:") else { throw fail("it does not start with pkcs11:") }
        let rest = text.dropFirst("pkcs11:".count)
        let parts = rest.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = parts[0], query = parts.count > 1 ? parts[1] : ""
        var seen: Set<String> = []
        func attributes(_ part: Substring, separator: Character) throws(ParseError) -> [(String, [UInt8])] {
            var found: [(String, [UInt8])] = []
            for attribute in part.split(separator: separator, omittingEmptySubsequences: true) {
                guard let equals = attribute.firstIndex(of: "=") else {
                    throw fail("\(attribute) has no value")
                }
                let name = String(attribute[..<equals]).lowercased()
                guard let value = Self.percentDecoded(attribute[attribute.index(after: equals)...]) else {
                    throw fail("the value of \(name) is not percent-encoded properly")
                }
                guard seen.insert(name).inserted else { throw fail("\(name) is given twice") }
                found.append((name, value))
            }
            return found
        }
        for (name, value) in try attributes(path, separator: ";") {
            let string = String(decoding: value, as: UTF8.self)
            switch name {
            case "token": token = string
            case "manufacturer": manufacturer = string
            case "model": model = string
            case "serial": serial = string
            case "object": object = string
            case "id": id = value
            case "type":
                guard let type = ObjectType(rawValue: string) else { throw fail("type=\(string) is not a type") }
                self.type = type
            case "slot-id":
                guard let slot = UInt(string) else { throw fail("slot-id=\(string) is not a number") }
                slotID = slot
            case let vendor where vendor.hasPrefix("x-"): continue
            case "library-manufacturer", "library-description", "library-version", "slot-manufacturer",
                "slot-description":
                throw fail("\(name) is not supported: name the module with module-path")
            default: throw fail("\(name) is not a PKCS#11 URI path attribute")
            }
        }
        for (name, value) in try attributes(query, separator: "&") {
            let string = String(decoding: value, as: UTF8.self)
            switch name {
            case "module-path": modulePath = string
            case "pin-source":
                // A file, as a path or a file: URI; nothing else (a command to run) is read.
                let path = string.hasPrefix("file:") ? String(string.dropFirst("file:".count)) : string
                guard path.hasPrefix("/") else { throw fail("pin-source must be an absolute file path") }
                pinSource = path
            case "pin-value": throw fail("pin-value puts the PIN in the URI: use a PIN file (pin-source)")
            case "module-name": throw fail("module-name is not supported: name the module with module-path")
            case let vendor where vendor.hasPrefix("x-"): continue
            default: throw fail("\(name) is not a PKCS#11 URI query attribute")
            }
        }
    }

    /// RFC 3986 percent-decoding of one attribute value; nil for a stray `%`.
    static func percentDecoded(_ text: Substring) -> [UInt8]? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(Self.hexValue), let low = iterator.next().flatMap(Self.hexValue)
            else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Whether a token with this information is the one the URI names (every token attribute given
    /// must match; the labels are compared as the token pads them, without trailing spaces).
    package func matches(token info: TokenInfo) -> Bool {
        (token.map { $0 == info.label } ?? true) && (manufacturer.map { $0 == info.manufacturer } ?? true)
            && (model.map { $0 == info.model } ?? true) && (serial.map { $0 == info.serial } ?? true)
    }
}

/// What a token says of itself (`C_GetTokenInfo`), its fixed-width fields without their padding.
package struct TokenInfo: Sendable, Equatable {
    package var label: String
    package var manufacturer: String
    package var model: String
    package var serial: String
    package var flags: UInt

    /// What the token says of its user PIN's remaining tries (the CKF_USER_PIN_* flags).
    package enum PINTries: String, Sendable {
        /// No wrong try counted, or a token that does not say.
        case notLow = "not_low"
        /// A wrong PIN was entered since the last right one.
        case countLow = "count_low"
        /// One more wrong PIN locks it.
        case finalTry = "final_try"
        case locked
    }

    package var pinTries: PINTries {
        if flags & (1 << 18) != 0 { return .locked }  // CKF_USER_PIN_LOCKED
        if flags & (1 << 17) != 0 { return .finalTry }  // CKF_USER_PIN_FINAL_TRY
        if flags & (1 << 16) != 0 { return .countLow }  // CKF_USER_PIN_COUNT_LOW
        return .notLow
    }

    package init(label: String, manufacturer: String, model: String, serial: String, flags: UInt) {
        self.label = label
        self.manufacturer = manufacturer
        self.model = model
        self.serial = serial
        self.flags = flags
    }
}
