import Crypto
import VirtualCard

/// The payload of a visit opening (cloud-protocol.md §3): a CBOR map with exactly keys 1–7, signed by
/// the practitioner as a COSE_Sign1 whose protected header carries their certificate.
package struct VisitOpening: Sendable, Hashable {
    /// The VHC1 token as scanned, at most one trailing newline removed.
    package var token: String
    /// The institution's 10-digit code; must equal its TLS certificate's.
    package var institution: String
    package var setting: CareSetting
    /// When the practitioner signed, epoch seconds.
    package var signedAt: Int64
    /// 16 random bytes, never reused by this practitioner within the deferral window.
    package var nonce: [UInt8]
    /// 16 bytes: the idempotency key (§5). The same opening sent again keeps it.
    package var requestID: [UInt8]
    /// When the station read and verified the token, epoch seconds.
    package var scannedAt: Int64

    package static let nonceLength = 16
    package static let requestIDLength = 16
    /// The largest signed opening the cloud reads (§3).
    package static let maximumSize = 8192
    package static let mediaType = "application/cose"

    package init(
        token: String, institution: String, setting: CareSetting, signedAt: Int64, nonce: [UInt8] = Self.random(),
        requestID: [UInt8] = Self.random(), scannedAt: Int64
    ) {
        self.token = token
        self.institution = institution
        self.setting = setting
        self.signedAt = signedAt
        self.nonce = nonce
        self.requestID = requestID
        self.scannedAt = scannedAt
    }

    /// Fresh random bytes: 16 for a nonce, a request id or a delegation id.
    package static func random(count: Int = 16) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    enum Key {
        static let token: CBOR = 1, institution: CBOR = 2, setting: CBOR = 3, signedAt: CBOR = 4
        static let nonce: CBOR = 5, requestID: CBOR = 6, scannedAt: CBOR = 7
        static let all: Set<CBOR> = [token, institution, setting, signedAt, nonce, requestID, scannedAt]
    }

    /// The payload map in deterministic encoding.
    package var payload: [UInt8] {
        CBOREncoder.encode(
            .map([
                Key.token: .text(token), Key.institution: .text(institution), Key.setting: .text(setting.rawValue),
                Key.signedAt: .integer(signedAt), Key.nonce: .bytes(nonce), Key.requestID: .bytes(requestID),
                Key.scannedAt: .integer(scannedAt),
            ]))
    }

    /// Signs the opening as the practitioner: a tagged COSE_Sign1, `{1: -7, 33: certificate}`.
    package func signed(by key: some ES256Signer, certificate: [UInt8]) throws -> [UInt8] {
        try COSESign1.sign(payload: payload, with: key, certificate: certificate)
    }

    /// Reads the payload's keys and types (§3, step 2). Every failure is `request_malformed`.
    package init(payload: CBOR) throws(CloudProblem) {
        func malformed(_ detail: String) -> CloudProblem { CloudProblem(.requestMalformed, detail) }
        guard let map = payload.map else { throw malformed("the payload is not a map") }
        guard Set(map.keys) == Key.all else { throw malformed("the payload must have exactly the keys 1 to 7") }
        // As carried: the verifier removes at most one trailing newline itself (token-profile §1), so
        // removing one here too would accept a token with two.
        guard let token = map[Key.token]?.text else { throw malformed("token (1) is not text") }
        guard let institution = map[Key.institution]?.text, Self.isInstitutionCode(institution) else {
            throw malformed("institution (2) is not text of 10 digits")
        }
        guard let settingText = map[Key.setting]?.text, let setting = CareSetting(rawValue: settingText) else {
            throw malformed(
                "setting (3) is not one of \(CareSetting.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let signedAt = map[Key.signedAt]?.integer, signedAt >= 0 else {
            throw malformed("signedAt (4) is not an unsigned integer")
        }
        guard let nonce = map[Key.nonce]?.bytes, nonce.count == Self.nonceLength else {
            throw malformed("nonce (5) is not a byte string of 16 bytes")
        }
        guard let requestID = map[Key.requestID]?.bytes, requestID.count == Self.requestIDLength else {
            throw malformed("requestId (6) is not a byte string of 16 bytes")
        }
        guard let scannedAt = map[Key.scannedAt]?.integer, scannedAt >= 0 else {
            throw malformed("scannedAt (7) is not an unsigned integer")
        }
        self.init(
            token: token, institution: institution, setting: setting, signedAt: signedAt, nonce: nonce,
            requestID: requestID, scannedAt: scannedAt)
    }

    /// An institution code: exactly 10 ASCII digits.
    package static func isInstitutionCode(_ text: String) -> Bool {
        text.utf8.count == 10 && text.utf8.allSatisfy { (0x30...0x39).contains($0) }
    }
}

/// A visit opening as received: the COSE message, the practitioner's certificate from `x5chain`, and
/// the payload read. The signature is checked later, once the certificate is (§3, step 3).
package struct SignedVisitOpening: Sendable {
    package let message: COSESign1
    /// The practitioner's certificate, DER, exactly as carried in the protected header.
    package let certificate: [UInt8]
    package let opening: VisitOpening

    /// §3 step 2: size, COSE structure, header, payload keys and types. Any failure is
    /// `request_malformed` (status 413 when the body is too large).
    package init(_ body: [UInt8]) throws(CloudProblem) {
        guard body.count <= VisitOpening.maximumSize else {
            throw CloudProblem(
                .requestMalformed, "the body is larger than \(VisitOpening.maximumSize) bytes", status: 413)
        }
        // §3: a tagged COSE_Sign1 (tag 18, the byte 0xD2), where the token profile also accepts untagged.
        guard body.first == 0xD2 else {
            throw CloudProblem(.requestMalformed, "the body is not a tagged COSE_Sign1 (CBOR tag 18)")
        }
        do {
            message = try COSESign1.decode(
                body, maximumSize: VisitOpening.maximumSize, headerRules: .certificateSigned)
        } catch {
            throw CloudProblem(.requestMalformed, "the body is not a COSE_Sign1 of the protocol: \(error)")
        }
        guard message.isES256 else { throw CloudProblem(.requestMalformed, "alg (1) is not -7 (ES256)") }
        guard let certificate = message.singleCertificate, !certificate.isEmpty else {
            throw CloudProblem(.requestMalformed, "x5chain (33) is not one certificate as a byte string")
        }
        self.certificate = certificate
        opening = try VisitOpening(payload: message.payload)
    }

    /// SHA-256 of the payload bytes: what the idempotency record compares (§5).
    package var payloadDigest: [UInt8] { Array(SHA256.hash(data: message.payloadBytes)) }

    /// Whether the practitioner's key signed it (§3 step 3, after the certificate was checked).
    package func isSigned(by key: P256.Signing.PublicKey) -> Bool {
        guard let signature = message.es256Signature else { return false }
        return message.isSignatureValid(signature, for: key)
    }
}
