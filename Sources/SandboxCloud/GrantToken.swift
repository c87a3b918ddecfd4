import Crypto
import VirtualCard

/// Grants: 32 random bytes as 64 hex digits (256 bits), and a short id for audit rows that does
/// not reveal the grant itself.
enum GrantToken {
    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        return Hex.encode((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    static func shortID(_ grant: String) -> String {
        String(Hex.encode(SHA256.hash(data: Array(grant.utf8))).prefix(16))
    }
}
