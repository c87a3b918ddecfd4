/// Token texts are printable ASCII; anything else read from a QR code is not ours and is dropped.
/// One trailing `\n` or `\r\n` is allowed and removed, as the token profile says a verifier removes it
/// (§1; `TokenVerifier.withoutTrailingNewline`, not called here: the scanner knows nothing of tokens): a
/// phone app or a handheld scanner may end the text with one.
package enum PrintableASCII {
    /// Why a payload is not text the station reads; counted, never logged (it may be anything).
    package enum Refusal: String, Error, Sendable, Hashable, CaseIterable, Codable {
        /// Nothing left once a trailing newline is removed.
        case empty
        /// A byte outside printable ASCII: binary data, UTF-8 text, a control character.
        case notPrintableASCII = "not_printable_ascii"
    }

    package static func read(_ bytes: [UInt8]) -> Result<String, Refusal> {
        var body = bytes[...]
        if body.last == 0x0A {
            body = body.dropLast()
            if body.last == 0x0D { body = body.dropLast() }
        }
        guard !body.isEmpty else { return .failure(.empty) }
        guard body.allSatisfy({ (0x20...0x7E).contains($0) }) else { return .failure(.notPrintableASCII) }
        return .success(String(decoding: body, as: UTF8.self))
    }

    package static func text(_ bytes: [UInt8]) -> String? {
        try? read(bytes).get()
    }
}
