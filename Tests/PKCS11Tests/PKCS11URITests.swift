import PKCS11
import Testing

@Suite("PKCS#11 URIs (RFC 7512)")
struct PKCS11URITests {
    @Test("the RFC's examples and the station's own: path and query attributes, percent-encoding, id as bytes")
    func parses() throws {
        let key = try PKCS11URI("pkcs11:token=Clinic;object=institution;type=private")
        #expect(key.token == "Clinic" && key.object == "institution" && key.type == .private)
        #expect(key.id == nil && key.modulePath == nil && key.pinSource == nil)

        let rfc = try PKCS11URI(
            "pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;manufacturer=Snake%20Oil,%20Inc.;model=1.0;"
                + "object=my-certificate;type=cert;id=%69%95%3E%5C%F4%BD%EC%91;serial=")
        #expect(rfc.token == "The Software PKCS#11 Softtoken")
        #expect(rfc.manufacturer == "Snake Oil, Inc." && rfc.model == "1.0" && rfc.serial == "")
        #expect(rfc.type == .cert && rfc.id == [0x69, 0x95, 0x3E, 0x5C, 0xF4, 0xBD, 0xEC, 0x91])

        let query = try PKCS11URI(
            "pkcs11:object=practitioner;slot-id=3?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin")
        #expect(query.slotID == 3 && query.object == "practitioner")
        #expect(query.modulePath == "/usr/lib/softhsm/libsofthsm2.so" && query.pinSource == "/run/pin")

        // Vendor attributes are ignored, as the RFC allows; attribute names are case-insensitive.
        let vendor = try PKCS11URI("PKCS11:Token=A;x-vendor=1?x-other=2")
        #expect(vendor.token == "A")
        #expect(try PKCS11URI("pkcs11:").token == nil)
    }

    @Test(
        "what the station would have to ignore is refused, with the reason",
        arguments: [
            ("file:/etc/key.pem", "does not start with pkcs11:"),
            ("pkcs11:token=A;token=B", "token is given twice"),
            ("pkcs11:object=x?pin-value=1234", "pin-value puts the PIN in the URI"),
            ("pkcs11:object=x?pin-source=|/bin/echo", "absolute file path"),
            ("pkcs11:object=x?module-name=softhsm2", "module-name is not supported"),
            ("pkcs11:library-version=1", "not supported"),
            ("pkcs11:colour=red", "not a PKCS#11 URI path attribute"),
            ("pkcs11:object?x=1", "has no value"),
            ("pkcs11:object=%4", "not percent-encoded properly"),
            ("pkcs11:id=%zz", "not percent-encoded properly"),
            ("pkcs11:type=secret", "is not a type"),
            ("pkcs11:slot-id=-1", "not a number"),
        ])
    func refuses(uri: String, reason: String) {
        let error = #expect(throws: PKCS11URI.ParseError.self) { try PKCS11URI(uri) }
        #expect(error?.reason.contains(reason) == true, "\(String(describing: error))")
        #expect(error?.description.contains(uri) == true)
    }

    @Test("a token matches when every token attribute the URI gives matches")
    func matching() throws {
        let info = TokenInfo(label: "Clinic", manufacturer: "SoftHSM project", model: "SoftHSM v2", serial: "abc", flags: 0)
        #expect(try PKCS11URI("pkcs11:token=Clinic").matches(token: info))
        #expect(try PKCS11URI("pkcs11:object=key").matches(token: info))
        #expect(try PKCS11URI("pkcs11:token=Clinic;serial=abc;model=SoftHSM%20v2").matches(token: info))
        #expect(try !PKCS11URI("pkcs11:token=Clinic;serial=abd").matches(token: info))
        #expect(try !PKCS11URI("pkcs11:token=clinic").matches(token: info))
    }
}
