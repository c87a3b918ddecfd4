import Crypto

// COSE_Sign1 (RFC 9052) with ES256 only, written by hand over the strict CBOR subset: the profile
// fixes the header labels and the algorithm, and a general COSE library would accept more than it.

/// Header labels and values the profile uses.
enum COSELabel {
    static let algorithm: CBOR = 1
    static let keyID: CBOR = 4
    static let es256: CBOR = -7
    static let sign1Tag: UInt64 = 18
    /// `x5chain` (RFC 9360): the signer's certificate, used by the cloud protocol's visit opening.
    static let x5chain: CBOR = 33
}

/// Which header labels a COSE_Sign1 may carry. The token profile allows `alg` and `kid` (§4); the cloud
/// protocol's visit opening allows `alg` and `x5chain` protected and nothing unprotected. One decoder
/// serves both, so neither message is looser than its document.
public struct COSEHeaderRules: Sendable, Hashable {
    public var protectedLabels: Set<CBOR>
    public var unprotectedLabels: Set<CBOR>
    public init(protectedLabels: Set<CBOR>, unprotectedLabels: Set<CBOR>) {
        self.protectedLabels = protectedLabels
        self.unprotectedLabels = unprotectedLabels
    }
    /// Token profile §4: protected `alg` and `kid`, unprotected `kid`.
    public static let tokenProfile = COSEHeaderRules(
        protectedLabels: [COSELabel.algorithm, COSELabel.keyID], unprotectedLabels: [COSELabel.keyID])
    /// Cloud protocol §3: protected `alg` and `x5chain`, an empty unprotected map.
    public static let certificateSigned = COSEHeaderRules(
        protectedLabels: [COSELabel.algorithm, COSELabel.x5chain], unprotectedLabels: [])
}

/// Why bytes are not a COSE_Sign1 of the profile, split by the stage the profile assigns.
public enum COSEDecodingError: Error, Equatable, Sendable {
    /// Not CBOR of the subset (outer item, protected header content or payload content): `cbor_invalid`.
    case cbor(CBORError)
    /// CBOR, but not a COSE_Sign1 of the profile's shape: `cose_invalid`.
    case structure(String)
}

public struct COSESign1: Sendable {
    /// The protected header exactly as received: the signature covers these bytes, not a re-encoding.
    public let protectedBytes: [UInt8]
    public let protectedHeader: [CBOR: CBOR]
    public let unprotectedHeader: [CBOR: CBOR]
    public let payloadBytes: [UInt8]
    /// The payload decoded in the CBOR stage. Read claims from it only after the signature verifies.
    public let payload: CBOR
    public let signature: [UInt8]

    /// The profile's CBOR stage, then its COSE stage (§3, §4). Algorithm and kid are judged later.
    public static func decode(
        _ bytes: [UInt8], maximumSize: Int, headerRules: COSEHeaderRules = .tokenProfile
    ) throws(COSEDecodingError) -> COSESign1 {
        // CBOR stage: the whole message, and the content of the protected and payload strings.
        let outer: CBOR
        do {
            outer = try CBORDecoder.decode(bytes, allowingTopLevelTag: COSELabel.sign1Tag, maximumSize: maximumSize)
        } catch { throw .cbor(error) }
        var untagged = outer
        if case .tagged(_, let content) = outer { untagged = content }
        let elements = untagged.array ?? []
        var decodedProtected: CBOR? = nil
        var decodedPayload: CBOR? = nil
        do {
            if elements.count > 0, let protected = elements[0].bytes, !protected.isEmpty {
                decodedProtected = try CBORDecoder.decode(protected)
            }
            if elements.count > 2, let payload = elements[2].bytes {
                decodedPayload = try CBORDecoder.decode(payload)
            }
        } catch { throw .cbor(error) }

        // COSE stage.
        guard elements.count == 4 else { throw .structure("not an array of four items") }
        guard let protectedBytes = elements[0].bytes, let unprotected = elements[1].map,
            let payloadBytes = elements[2].bytes, let signature = elements[3].bytes
        else { throw .structure("items are not [bstr, map, bstr, bstr]") }
        guard !protectedBytes.isEmpty, let protectedHeader = decodedProtected?.map else {
            throw .structure("protected header is not a non-empty map")
        }
        guard protectedHeader.keys.allSatisfy(headerRules.protectedLabels.contains) else {
            throw .structure("protected header has a label the profile does not allow")
        }
        guard unprotected.keys.allSatisfy(headerRules.unprotectedLabels.contains) else {
            throw .structure("unprotected header has a label the profile does not allow")
        }
        guard protectedHeader[COSELabel.algorithm] != nil else { throw .structure("alg is missing") }
        return COSESign1(
            protectedBytes: protectedBytes, protectedHeader: protectedHeader, unprotectedHeader: unprotected,
            payloadBytes: payloadBytes, payload: decodedPayload!, signature: signature)
    }

    public var algorithm: CBOR? { protectedHeader[COSELabel.algorithm] }

    /// The protected `x5chain` when it holds exactly one certificate (a byte string); `nil` otherwise.
    public var singleCertificate: [UInt8]? { protectedHeader[COSELabel.x5chain]?.bytes }
    public var isES256: Bool { algorithm == COSELabel.es256 }

    /// The kid the profile reads: the protected one if present, else the unprotected one;
    /// `nil` when missing or not a byte string of exactly 8 bytes.
    public var keyID: KeyID? {
        guard let value = protectedHeader[COSELabel.keyID] ?? unprotectedHeader[COSELabel.keyID],
            let bytes = value.bytes
        else { return nil }
        return KeyID(bytes: bytes)
    }

    /// The ES256 signature as swift-crypto's type; `nil` when it is not 64 bytes `r‖s`.
    public var es256Signature: P256.Signing.ECDSASignature? {
        guard signature.count == 64 else { return nil }
        return try? P256.Signing.ECDSASignature(rawRepresentation: signature)
    }

    public func isSignatureValid(_ signature: P256.Signing.ECDSASignature, for key: P256.Signing.PublicKey) -> Bool {
        key.isValidSignature(signature, for: Self.toBeSigned(protected: protectedBytes, payload: payloadBytes))
    }

    /// Sig_structure for COSE_Sign1: ["Signature1", protected, external_aad = h'', payload].
    static func toBeSigned(protected: [UInt8], payload: [UInt8]) -> [UInt8] {
        CBOREncoder.encode(.array(["Signature1", .bytes(protected), .bytes([]), .bytes(payload)]))
    }

    /// Where the signer puts its kid. The profile accepts either; issuers use the protected header.
    public enum KeyIDPlacement: Sendable { case protected, unprotected }

    /// Signs `payload` with ES256 and returns the tagged (or untagged) COSE_Sign1 bytes.
    public static func sign(
        payload: [UInt8], with key: some ES256Signer, keyIDPlacement: KeyIDPlacement = .protected,
        tagged: Bool = true
    ) throws -> [UInt8] {
        let kid = CBOR.bytes(KeyID(publicKey: key.publicKey).bytes)
        var protectedHeader: [CBOR: CBOR] = [COSELabel.algorithm: COSELabel.es256]
        var unprotectedHeader: [CBOR: CBOR] = [:]
        switch keyIDPlacement {
        case .protected: protectedHeader[COSELabel.keyID] = kid
        case .unprotected: unprotectedHeader[COSELabel.keyID] = kid
        }
        return try sign(
            payload: payload, with: key, protectedHeader: protectedHeader, unprotectedHeader: unprotectedHeader,
            tagged: tagged)
    }

    /// Signs `payload` with ES256 under a protected header of `alg` and the signer's certificate in
    /// `x5chain` (cloud protocol §3).
    public static func sign(payload: [UInt8], with key: some ES256Signer, certificate: [UInt8]) throws -> [UInt8]
    {
        try sign(
            payload: payload, with: key,
            protectedHeader: [COSELabel.algorithm: COSELabel.es256, COSELabel.x5chain: .bytes(certificate)],
            unprotectedHeader: [:], tagged: true)
    }

    /// Signs with exactly the headers given; `alg` must be among them. For tests that need odd headers too.
    public static func sign(
        payload: [UInt8], with key: some ES256Signer, protectedHeader: [CBOR: CBOR],
        unprotectedHeader: [CBOR: CBOR], tagged: Bool
    ) throws -> [UInt8] {
        let protectedBytes = CBOREncoder.encode(.map(protectedHeader))
        let signature = try key.signature(for: toBeSigned(protected: protectedBytes, payload: payload))
        let message = CBOR.array([
            .bytes(protectedBytes), .map(unprotectedHeader), .bytes(payload),
            .bytes(Array(signature.rawRepresentation)),
        ])
        return CBOREncoder.encode(tagged ? .tagged(COSELabel.sign1Tag, message) : message)
    }
}
