/// Core deterministic encoding (RFC 8949 §4.2.1): shortest arguments, definite lengths, map keys
/// sorted bytewise by their encodings.
public enum CBOREncoder {
    public static func encode(_ item: CBOR) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        append(item, to: &out)
        return out
    }

    static func append(_ item: CBOR, to out: inout [UInt8]) {
        switch item {
        case .integer(let value):
            if value >= 0 {
                appendHead(major: 0, argument: UInt64(value), to: &out)
            } else {
                // -1 - value, computed without overflow for Int64.min.
                appendHead(major: 1, argument: UInt64(bitPattern: ~value), to: &out)
            }
        case .bytes(let bytes):
            appendHead(major: 2, argument: UInt64(bytes.count), to: &out)
            out.append(contentsOf: bytes)
        case .text(let text):
            let utf8 = Array(text.utf8)
            appendHead(major: 3, argument: UInt64(utf8.count), to: &out)
            out.append(contentsOf: utf8)
        case .array(let items):
            appendHead(major: 4, argument: UInt64(items.count), to: &out)
            for element in items { append(element, to: &out) }
        case .map(let entries):
            appendHead(major: 5, argument: UInt64(entries.count), to: &out)
            let encoded = entries.map { (key: encode($0.key), value: $0.value) }
            for entry in encoded.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
                out.append(contentsOf: entry.key)
                append(entry.value, to: &out)
            }
        case .tagged(let tag, let content):
            appendHead(major: 6, argument: tag, to: &out)
            append(content, to: &out)
        case .bool(let value):
            out.append(value ? 0xF5 : 0xF4)
        case .null:
            out.append(0xF6)
        }
    }

    static func appendHead(major: UInt8, argument: UInt64, to out: inout [UInt8]) {
        let type = major << 5
        switch argument {
        case 0..<24:
            out.append(type | UInt8(argument))
        case 24...0xFF:
            out.append(type | 24)
            out.append(UInt8(argument))
        case 0x100...0xFFFF:
            out.append(type | 25)
            out.append(UInt8(argument >> 8))
            out.append(UInt8(argument & 0xFF))
        case 0x1_0000...0xFFFF_FFFF:
            out.append(type | 26)
            for shift in stride(from: 24, through: 0, by: -8) { out.append(UInt8((argument >> UInt64(shift)) & 0xFF)) }
        default:
            out.append(type | 27)
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8((argument >> UInt64(shift)) & 0xFF)) }
        }
    }
}
