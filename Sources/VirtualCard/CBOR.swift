// The CBOR subset of the VHC1 profile (§3), written by hand: the profile needs a decoder that
// *rejects* everything outside core deterministic encoding, which general CBOR libraries accept.

/// A CBOR data item within the profile's subset: integers within signed 64 bits, byte and text
/// strings, arrays, maps, tags, `false`, `true` and `null`. No floats, no other simple values.
public indirect enum CBOR: Hashable, Sendable {
    case integer(Int64)
    case bytes([UInt8])
    case text(String)
    case array([CBOR])
    case map([CBOR: CBOR])
    case tagged(UInt64, CBOR)
    case bool(Bool)
    case null

    public var integer: Int64? { if case .integer(let v) = self { v } else { nil } }
    public var bytes: [UInt8]? { if case .bytes(let v) = self { v } else { nil } }
    public var text: String? { if case .text(let v) = self { v } else { nil } }
    public var array: [CBOR]? { if case .array(let v) = self { v } else { nil } }
    public var map: [CBOR: CBOR]? { if case .map(let v) = self { v } else { nil } }
}

extension CBOR: ExpressibleByIntegerLiteral, ExpressibleByStringLiteral {
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(stringLiteral value: String) { self = .text(value) }
}

/// Why a byte sequence is not CBOR of the profile's subset. Every case maps to `cbor_invalid`;
/// the distinction is for tests and diagnostics.
public enum CBORError: Error, Equatable, Sendable {
    case truncated
    case trailingBytes
    case notShortestForm
    case indefiniteLength
    case reservedAdditionalInformation
    case integerOutOfRange
    case unsupportedSimpleValue
    case floatingPoint
    case tagNotAllowed(UInt64)
    case invalidUTF8
    case mapKeysOutOfOrder
    case duplicateMapKey
    case tooDeep
    case tooLarge
}
