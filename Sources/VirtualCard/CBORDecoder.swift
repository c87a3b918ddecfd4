/// Strict decoder for the profile's CBOR subset (§3). It accepts an encoding only if it is the one
/// `CBOREncoder` would produce, so "decodes" implies "is canonical".
public struct CBORDecoder {
    /// Containers nested deeper than this are rejected (the top-level array or map is depth 1).
    public static let maximumDepth = 8

    /// Decodes exactly one item that fills `bytes`.
    /// - Parameter allowingTopLevelTag: the only tag permitted, and only around the top item
    ///   (18 for a COSE_Sign1); `nil` permits no tag at all.
    public static func decode(
        _ bytes: [UInt8], allowingTopLevelTag: UInt64? = nil, maximumSize: Int = .max
    ) throws(CBORError) -> CBOR {
        guard bytes.count <= maximumSize else { throw .tooLarge }
        var decoder = CBORDecoder(bytes: bytes, allowedTopLevelTag: allowingTopLevelTag)
        let item = try decoder.decodeItem(depth: 0)
        guard decoder.position == bytes.count else { throw .trailingBytes }
        return item
    }

    private let bytes: [UInt8]
    private var position = 0
    private let allowedTopLevelTag: UInt64?

    private init(bytes: [UInt8], allowedTopLevelTag: UInt64?) {
        self.bytes = bytes
        self.allowedTopLevelTag = allowedTopLevelTag
    }

    private mutating func readByte() throws(CBORError) -> UInt8 {
        guard position < bytes.count else { throw .truncated }
        defer { position += 1 }
        return bytes[position]
    }

    /// Reads the argument of a head, insisting on the shortest form.
    private mutating func readArgument(_ info: UInt8) throws(CBORError) -> UInt64 {
        switch info {
        case 0..<24:
            return UInt64(info)
        case 24, 25, 26, 27:
            let width = 1 << Int(info - 24)
            guard bytes.count - position >= width else { throw .truncated }
            var value: UInt64 = 0
            for _ in 0..<width { value = value << 8 | UInt64(bytes[position]); position += 1 }
            let shortestMinimum: UInt64 = [24, 0x100, 0x1_0000, 0x1_0000_0000][Int(info - 24)]
            guard value >= shortestMinimum else { throw .notShortestForm }
            return value
        case 31:
            throw .indefiniteLength
        default:
            throw .reservedAdditionalInformation
        }
    }

    /// A length that must also fit in what remains of the input (no huge allocations on lies).
    private mutating func readLength(_ info: UInt8, minimumBytesPerElement: Int) throws(CBORError) -> Int {
        let length = try readArgument(info)
        guard length <= UInt64(bytes.count - position) / UInt64(minimumBytesPerElement) else { throw .truncated }
        return Int(length)
    }

    private mutating func decodeItem(depth: Int) throws(CBORError) -> CBOR {
        let isFirstHead = position == 0
        let initial = try readByte()
        let major = initial >> 5
        let info = initial & 0x1F
        switch major {
        case 0:
            let value = try readArgument(info)
            guard value <= UInt64(Int64.max) else { throw .integerOutOfRange }
            return .integer(Int64(value))
        case 1:
            let value = try readArgument(info)
            guard value <= UInt64(Int64.max) else { throw .integerOutOfRange }
            return .integer(-1 - Int64(value))
        case 2:
            let length = try readLength(info, minimumBytesPerElement: 1)
            defer { position += length }
            return .bytes(Array(bytes[position..<position + length]))
        case 3:
            let length = try readLength(info, minimumBytesPerElement: 1)
            defer { position += length }
            guard let text = String(validating: bytes[position..<position + length], as: UTF8.self) else {
                throw .invalidUTF8
            }
            return .text(text)
        case 4:
            let count = try readLength(info, minimumBytesPerElement: 1)
            guard depth < Self.maximumDepth else { throw .tooDeep }
            var items: [CBOR] = []
            items.reserveCapacity(count)
            for _ in 0..<count { items.append(try decodeItem(depth: depth + 1)) }
            return .array(items)
        case 5:
            let count = try readLength(info, minimumBytesPerElement: 2)
            guard depth < Self.maximumDepth else { throw .tooDeep }
            var entries: [CBOR: CBOR] = [:]
            entries.reserveCapacity(count)
            var previousKey: ArraySlice<UInt8>? = nil
            for _ in 0..<count {
                let keyStart = position
                let key = try decodeItem(depth: depth + 1)
                let keyBytes = bytes[keyStart..<position]
                // Keys must ascend strictly by their encodings: this rejects both disorder and duplicates.
                if let previousKey {
                    if previousKey == keyBytes { throw .duplicateMapKey }
                    guard previousKey.lexicographicallyPrecedes(keyBytes) else { throw .mapKeysOutOfOrder }
                }
                previousKey = keyBytes
                entries[key] = try decodeItem(depth: depth + 1)
            }
            return .map(entries)
        case 6:
            let tag = try readArgument(info)
            // One tag at most, and only as the very first head of the input: a tag nested inside
            // the tagged item (or anywhere else) is not at position 0 and is rejected.
            guard isFirstHead, let allowed = allowedTopLevelTag, allowed == tag else { throw .tagNotAllowed(tag) }
            return .tagged(tag, try decodeItem(depth: depth))
        default:
            switch info {
            case 20: return .bool(false)
            case 21: return .bool(true)
            case 22: return .null
            case 25, 26, 27: throw .floatingPoint
            case 31: throw .indefiniteLength
            default: throw .unsupportedSimpleValue
            }
        }
    }
}
