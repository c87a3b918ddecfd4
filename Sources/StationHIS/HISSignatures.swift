import Crypto
import Foundation
import SwiftASN1
import VirtualCard

/// The console's signature bundles (`Signature/Hc`, `/api/sam/v1/Signature`), made by the station with the
/// institution's own credential (its TLS key to the cloud: a file, or a card through PKCS#11). Plainly the
/// station's signature, not NHIA's SAM's: HIS code passes the bundle on to `SequelNumber/Next`, which the
/// station answers too and checks it with, so no one else needs to verify it.
///
/// The signed text is the bundle's fields, one a line, after a version line (docs/his-compatibility.md);
/// the signature is ECDSA P-256 over its SHA-256, `r‖s` in Base64.
package struct HISInstitutionSigner: Sendable {
    /// The institution code (醫事機構代碼).
    package let hospitalId: String
    /// The station's stand-in for a SAM's id: the first 12 hex digits of the institution certificate's
    /// SHA-256, upper case.
    package let samId: String
    let signer: any ES256Signer

    /// `certificatePEM`: the institution's certificate, whose key `signer` holds.
    package init(hospitalId: String, certificatePEM: String, signer: any ES256Signer) throws {
        self.hospitalId = hospitalId
        let der = try PEMDocument(pemString: certificatePEM).derBytes
        samId = String(SHA256.hash(data: der).map { String(format: "%02X", $0) }.joined().prefix(12))
        self.signer = signer
    }

    /// A fresh client random: 16 bytes, hex.
    static func clientRandom() -> String {
        (0..<16).map { _ in String(format: "%02X", UInt8.random(in: 0...255)) }.joined()
    }

    func sign(_ lines: [String]) throws -> String {
        Data(try signer.signature(for: Array(Self.text(lines).utf8)).rawRepresentation).base64EncodedString()
    }

    /// Whether `signature` is this station's over `lines`.
    func verifies(_ signature: String, over lines: [String]) -> Bool {
        guard let raw = Data(base64Encoded: signature),
            let parsed = try? P256.Signing.ECDSASignature(rawRepresentation: raw)
        else { return false }
        return signer.publicKey.isValidSignature(parsed, for: SHA256.hash(data: Data(Self.text(lines).utf8)))
    }

    static func text(_ lines: [String]) -> String { (["vhc-station HIS signature v1"] + lines).joined(separator: "\n") }
}
