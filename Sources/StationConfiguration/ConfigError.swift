/// A configuration mistake: what kind, the dotted key it concerns, and what is wrong.
package struct ConfigError: Error, Equatable, CustomStringConvertible {
    package struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        package let rawValue: String
        package init(rawValue: String) { self.rawValue = rawValue }
        package var description: String { rawValue }

        package static let unreadable = Code(rawValue: "config_unreadable")
        package static let syntax = Code(rawValue: "config_syntax")
        package static let unknownKey = Code(rawValue: "config_unknown_key")
        package static let missingKey = Code(rawValue: "config_missing_key")
        package static let invalidValue = Code(rawValue: "config_invalid_value")
    }

    package let code: Code
    package let key: String?
    package let message: String

    package init(_ code: Code, key: String?, _ message: String) {
        self.code = code
        self.key = key
        self.message = message
    }

    package var description: String { key.map { "\($0): \(message)" } ?? message }
}

