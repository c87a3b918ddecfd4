import Foundation

/// The name an operator gives for an audited act (an ID-document check, a clock reset), read by one rule
/// that docs/openapi.yaml states as JSON Schema can: 1 to 64 Unicode scalars (JSON Schema's `maxLength`
/// counts code points, not characters), no control character or line or paragraph separator, and something
/// besides spaces. Returns the name without its surrounding spaces, or nil.
package enum OperatorName {
    package static func validated(_ name: String) -> String? {
        let scalars = name.unicodeScalars
        guard (1...64).contains(scalars.count),
            !scalars.contains(where: { $0.properties.generalCategory == .control || $0 == "\u{2028}" || $0 == "\u{2029}" })
        else { return nil }
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty ? nil : trimmed
    }
}
