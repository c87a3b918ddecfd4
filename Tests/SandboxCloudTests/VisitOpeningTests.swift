import CloudProtocol
import Crypto
import Foundation
import SandboxCloud
import Testing
import VirtualCard
import X509

/// Visit openings over mutual TLS on loopback: every refusal of cloud-protocol.md §3 in its order,
/// idempotency (§5), one-time use across institutions, deferred openings and grants.
@Suite(.serialized) struct VisitOpeningTests {
    @Test func aValidOpeningAnswersTheGrantAndRepeatsItForTheSameRequest() async throws {
        let cloud = try await CloudHarness()
        let institution = cloud.everySetting
        let practitioner = cloud.practitioner(at: institution.code)
        let patient = cloud.patient()
        try await withClient(try cloud.client(identity: try cloud.credential(institution: institution.code))) {
            client in
            let (opening, body) = try cloud.opening(
                token: try cloud.token(for: patient), institution: institution.code, practitioner: practitioner.id)
            let first = try await cloud.request(client, .POST, "/v1/visits", body: body)
            #expect(first.status == 201)
            let grant = try first.decode(VisitGrant.self)
            #expect(grant.grant.count >= 32)
            #expect(grant.visitSequence == "0001")
            #expect(grant.deferred == false)
            #expect(grant.openedAt == UTCTimestamp.iso8601(opening.scannedAt))
            #expect(grant.expiresAt == UTCTimestamp.iso8601(opening.scannedAt + 3600))
            #expect(grant.patient.id == patient.id && grant.patient.name == patient.name)
            #expect(grant.patient.birthDate == patient.birthDate && grant.patient.cardNumber == patient.cardNumber)
            #expect(grant.delegation == nil && grant.idCheckRequired == false)
            // The sandbox's 就醫識別碼 (an extension): the institution, the Taipei day, the sequence.
            let day = CalendarDate(taipeiDateAt: opening.scannedAt).iso.replacingOccurrences(of: "-", with: "").dropFirst(2)
            #expect(grant.treatmentNumber == institution.code + day + "0001")
            // null members are written, not left out.
            let text = String(decoding: first.body, as: UTF8.self)
            #expect(text.contains("\"delegation\":null"))

            // The same request again: 200, the same answer, nothing consumed again.
            let again = try await cloud.request(client, .POST, "/v1/visits", body: body)
            #expect(again.status == 200)
            #expect(try again.decode(VisitGrant.self) == grant)

            // The same request id with another payload.
            let (_, other) = try cloud.opening(
                token: try cloud.token(for: patient), institution: institution.code, practitioner: practitioner.id,
                requestID: opening.requestID)
            let reused = try await cloud.request(client, .POST, "/v1/visits", body: other)
            #expect(reused.status == 409 && reused.code == "idempotency_key_reused")

            // The same nonce in a new request.
            let (_, sameNonce) = try cloud.opening(
                token: try cloud.token(for: patient), institution: institution.code, practitioner: practitioner.id,
                nonce: opening.nonce)
            let nonce = try await cloud.request(client, .POST, "/v1/visits", body: sameNonce)
            #expect(nonce.status == 409 && nonce.code == "nonce_reused")

            // The same token in a new request.
            let (_, replay) = try cloud.opening(
                token: opening.token, institution: institution.code, practitioner: practitioner.id)
            let replayed = try await cloud.request(client, .POST, "/v1/visits", body: replay)
            #expect(replayed.status == 409 && replayed.code == "token_replayed")

            // The next visit of the day is 0002; a photo-less card needs the ID check.
            let (_, next) = try cloud.opening(
                token: try cloud.token(for: cloud.patient(photo: .none)), institution: institution.code,
                practitioner: practitioner.id)
            let second = try await cloud.request(client, .POST, "/v1/visits", body: next)
            #expect(second.status == 201)
            let secondGrant = try second.decode(VisitGrant.self)
            #expect(
                secondGrant.visitSequence == "0002" && secondGrant.idCheckRequired && secondGrant.patient.photo == .none
            )
        }
        try await cloud.stop()
    }

    @Test func aTokenUsedAtOneInstitutionIsRefusedAtAnother() async throws {
        let cloud = try await CloudHarness()
        let token = try cloud.token(for: cloud.patient())
        let first = cloud.everySetting, second = cloud.homeCareOnly
        try await withClient(try cloud.client(identity: try cloud.credential(institution: first.code))) { client in
            let (_, body) = try cloud.opening(
                token: token, institution: first.code, practitioner: cloud.practitioner(at: first.code).id)
            #expect(try await cloud.request(client, .POST, "/v1/visits", body: body).status == 201)
        }
        try await withClient(try cloud.client(identity: try cloud.credential(institution: second.code))) { client in
            let (_, body) = try cloud.opening(
                token: token, institution: second.code, practitioner: cloud.practitioner(at: second.code).id,
                setting: .homeCare)
            let reply = try await cloud.request(client, .POST, "/v1/visits", body: body)
            #expect(reply.status == 409 && reply.code == "token_replayed")
            // A new sequence per institution: this institution's first visit is still to come.
            let (_, fresh) = try cloud.opening(
                token: try cloud.token(for: cloud.patient()), institution: second.code,
                practitioner: cloud.practitioner(at: second.code).id, setting: .homeCare)
            let opened = try await cloud.request(client, .POST, "/v1/visits", body: fresh)
            #expect(try opened.decode(VisitGrant.self).visitSequence == "0001")
        }
        try await cloud.stop()
    }

    @Test func everyRefusalHasItsCodeAndStatus() async throws {
        let cloud = try await CloudHarness()
        let institution = cloud.everySetting
        let practitioner = cloud.practitioner(at: institution.code)
        let patient = cloud.patient()
        let now = cloud.clock.now
        func opening(
            token: String? = nil, institution code: String = institution.code, by id: String = practitioner.id,
            setting: CareSetting = .outpatient, signedAt: Int64? = nil, scannedAt: Int64? = nil
        ) throws -> [UInt8] {
            try cloud.opening(
                token: try token ?? cloud.token(for: patient), institution: code, practitioner: id, setting: setting,
                signedAt: signedAt, scannedAt: scannedAt
            ).body
        }
        let validPayload = try cloud.opening(
            token: try cloud.token(for: patient), institution: institution.code, practitioner: practitioner.id
        ).opening.payload
        let practitionerKey = try cloud.practitionerKey(practitioner.id)
        let practitionerCertificate = try cloud.practitionerCertificate(practitioner.id)

        // Another CA's practitioner certificate with the same subject.
        let otherCA = try SandboxPKI.makeCA(now: Date())
        let strangerKey = P256.Signing.PrivateKey()
        let strangerCertificate = try otherCA.issue(
            .practitioner(id: practitioner.id, name: practitioner.name, profession: practitioner.profession),
            key: strangerKey.publicKey, validity: Date().addingTimeInterval(-60)...Date().addingTimeInterval(3600)
        ).derBytes
        // An expired one from the sandbox CA.
        let pki = try cloud.directory.loadPKI()
        let expiredKey = P256.Signing.PrivateKey()
        let expiredCertificate = try pki.issue(
            .practitioner(id: practitioner.id, name: practitioner.name, profession: practitioner.profession),
            key: expiredKey.publicKey, validity: Date().addingTimeInterval(-7200)...Date().addingTimeInterval(-3600)
        ).derBytes

        let cases: [(String, [UInt8], Int, String, String?)] = [
            ("garbage", Array("not cbor at all".utf8), 400, "request_malformed", nil),
            ("truncated", Array(try opening().dropLast(7)), 400, "request_malformed", nil),
            ("oversized", [UInt8](repeating: 0x41, count: 9000), 413, "request_malformed", nil),
            (
                "a kid in the header",
                try COSESign1.sign(
                    payload: validPayload, with: practitionerKey,
                    protectedHeader: [
                        1: -7, 4: .bytes([1, 2, 3, 4, 5, 6, 7, 8]), 33: .bytes(practitionerCertificate),
                    ],
                    unprotectedHeader: [:], tagged: true), 400, "request_malformed", nil
            ),
            (
                "untagged",
                try COSESign1.sign(
                    payload: validPayload, with: practitionerKey,
                    protectedHeader: [1: -7, 33: .bytes(practitionerCertificate)], unprotectedHeader: [:],
                    tagged: false), 400, "request_malformed", nil
            ),
            (
                "no certificate",
                try COSESign1.sign(
                    payload: validPayload, with: practitionerKey, protectedHeader: [1: -7], unprotectedHeader: [:],
                    tagged: true), 400, "request_malformed", nil
            ),
            (
                "a payload key missing",
                try COSESign1.sign(
                    payload: CBOREncoder.encode(.map([1: "VHC1:X", 2: .text(institution.code)])), with: practitionerKey,
                    certificate: practitionerCertificate), 400, "request_malformed", nil
            ),
            (
                "another CA's practitioner",
                try cloud.opening(
                    token: try cloud.token(for: patient), institution: institution.code, practitioner: practitioner.id
                ).opening.signed(by: strangerKey, certificate: strangerCertificate), 401,
                "practitioner_certificate_invalid", nil
            ),
            (
                "an expired practitioner certificate",
                try cloud.opening(
                    token: try cloud.token(for: patient), institution: institution.code, practitioner: practitioner.id
                ).opening.signed(by: expiredKey, certificate: expiredCertificate), 401,
                "practitioner_certificate_invalid", nil
            ),
            (
                "signed by another key",
                try cloud.opening(
                    token: try cloud.token(for: patient), institution: institution.code, practitioner: practitioner.id
                ).opening.signed(by: P256.Signing.PrivateKey(), certificate: practitionerCertificate), 401,
                "request_signature_invalid", nil
            ),
            (
                "another institution named", try opening(institution: cloud.homeCareOnly.code), 403,
                "institution_mismatch", nil
            ),
            (
                "an unaffiliated practitioner", try opening(by: cloud.unaffiliated.id), 403,
                "practitioner_not_affiliated", nil
            ),
            ("signed in the future", try opening(signedAt: now + 120), 400, "request_stale", nil),
            ("signed too long ago", try opening(signedAt: now - 73 * 3600), 400, "request_stale", nil),
            (
                "scanned after signing", try opening(signedAt: now - 600, scannedAt: now - 400), 400, "request_stale",
                nil
            ),
            (
                "an expired token", try opening(token: try cloud.token(for: patient, at: now - 900)), 422,
                "token_invalid", "expired"
            ),
            (
                "an unknown holder",
                try opening(
                    token: try cloud.token(
                        for: .init(
                            id: "A123456789", name: "無名氏", birthDate: "1970-01-01", sex: .male, cardNumber: nil,
                            photo: .verified, insuranceStatus: .active, cardIssuedAt: "2020-01-01"))), 422,
                "token_invalid",
                "holder_unknown"
            ),
            (
                "another name", try opening(token: try cloud.token(for: patient, name: "冒名者")), 422, "token_invalid",
                "holder_mismatch"
            ),
            ("not a token", try opening(token: "VHC1:A"), 422, "token_invalid", "base45_invalid"),
            ("damaged CBOR", try opening(token: "VHC1:NOTATOKEN"), 422, "token_invalid", "cbor_invalid"),
        ]
        try await withClient(try cloud.client(identity: try cloud.credential(institution: institution.code))) {
            client in
            for (name, body, status, code, tokenCode) in cases {
                let reply = try await cloud.request(client, .POST, "/v1/visits", body: body)
                #expect(reply.status == status, "\(name)")
                #expect(reply.code == code, "\(name)")
                #expect(reply.problem?.tokenCode?.rawValue == tokenCode, "\(name)")
                #expect(reply.headers["Content-Type"].first == CloudProblem.mediaType, "\(name)")
            }
        }
        // Enrolment: the home-care institution opening a telemedicine visit.
        let homeCare = cloud.homeCareOnly
        try await withClient(try cloud.client(identity: try cloud.credential(institution: homeCare.code))) { client in
            let body = try opening(
                institution: homeCare.code, by: cloud.practitioner(at: homeCare.code).id, setting: .telemedicine)
            let reply = try await cloud.request(client, .POST, "/v1/visits", body: body)
            #expect(reply.status == 403 && reply.code == "institution_not_enrolled")
        }
        try await cloud.stop()
    }

    @Test func refusalsAfterTheNonceCheckAreKeptAndTheTokenIsReadAsTheProfileSays() async throws {
        let cloud = try await CloudHarness()
        let institution = cloud.everySetting
        let practitioner = cloud.practitioner(at: institution.code)
        let patient = cloud.patient()
        try await withClient(try cloud.client(identity: try cloud.credential(institution: institution.code))) {
            client in
            func open(
                _ token: String, nonce: [UInt8] = VisitOpening.random(), requestID: [UInt8] = VisitOpening.random()
            )
                async throws -> CloudHarness.Reply
            {
                let (_, body) = try cloud.opening(
                    token: token, institution: institution.code, practitioner: practitioner.id, nonce: nonce,
                    requestID: requestID)
                return try await cloud.request(client, .POST, "/v1/visits", body: body)
            }
            // An expired token, refused at step 7: the refusal is the request id's answer, and the nonce
            // counts as seen.
            let stale = try cloud.token(for: patient, at: cloud.clock.now - 3600)
            let nonce = VisitOpening.random(), requestID = VisitOpening.random()
            let (_, body) = try cloud.opening(
                token: stale, institution: institution.code, practitioner: practitioner.id, nonce: nonce,
                requestID: requestID)
            let refused = try await cloud.request(client, .POST, "/v1/visits", body: body)
            #expect(refused.status == 422 && refused.problem?.tokenCode?.rawValue == "expired")
            let repeated = try await cloud.request(client, .POST, "/v1/visits", body: body)
            #expect(repeated.status == 422 && repeated.problem == refused.problem)
            let fresh = try cloud.token(for: patient)
            #expect(try await open(fresh, nonce: nonce).code == "nonce_reused")
            #expect(try await open(fresh, requestID: requestID).code == "idempotency_key_reused")

            // The token as carried: one trailing newline is the profile's to remove, two are not.
            #expect(try await open(try cloud.token(for: patient) + "\n").status == 201)
            let twice = try await open(try cloud.token(for: patient) + "\n\n")
            #expect(twice.status == 422 && twice.problem?.tokenCode?.rawValue == "base45_invalid")

            // The card as presented: a token without a verified photo needs the ID check, whatever the record.
            let photoless = try await open(try cloud.token(for: patient, photo: TokenClaims.Photo.none))
            #expect(photoless.status == 201)
            let grant = try photoless.decode(VisitGrant.self)
            #expect(grant.patient.photo == PhotoStatus.none && grant.idCheckRequired)

            // A name spelled with other code points (decomposed) is another name.
            let decomposed = patient.name.decomposedStringWithCanonicalMapping
            if Array(decomposed.utf8) != Array(patient.name.utf8) {
                let mismatch = try await open(try cloud.token(for: patient, name: decomposed))
                #expect(mismatch.problem?.tokenCode?.rawValue == "holder_mismatch")
            }
            let compatibility = try await open(try cloud.token(for: patient, name: "金" + patient.name.dropFirst()))
            #expect(compatibility.problem?.tokenCode?.rawValue == "holder_mismatch" || patient.name.hasPrefix("金"))
        }
        try await cloud.stop()
    }

    @Test func theInstitutionCertificateIsCheckedFirst() async throws {
        let cloud = try await CloudHarness()
        let institution = cloud.everySetting
        let body = try cloud.opening(
            token: try cloud.token(for: cloud.patient()), institution: institution.code,
            practitioner: cloud.practitioner(at: institution.code).id
        ).body

        // No certificate: refused with its code (or at the TLS layer, which §6 allows).
        try await withClient(try cloud.client(identity: nil)) { client in
            let reply = try await cloud.request(client, .POST, "/v1/visits", body: body)
            #expect(reply.status == 401 && reply.code == "client_certificate_missing")
            // The lists need no certificate.
            #expect(try await cloud.request(client, .GET, "/v1/trust-list").status == 200)
        }
        // A certificate from another CA, for a real institution code.
        let other = try SandboxPKI.makeCA(now: Date())
        let key = P256.Signing.PrivateKey()
        let stranger = try other.issue(
            .institution(code: institution.code, name: institution.name), key: key.publicKey,
            validity: Date().addingTimeInterval(-60)...Date().addingTimeInterval(3600))
        try await withClient(try cloud.client(identity: (stranger.pemText, key.pemRepresentation))) { client in
            let reply = try await cloud.request(client, .POST, "/v1/visits", body: body)
            #expect(reply.status == 401 && reply.code == "institution_certificate_invalid")
        }
        // A practitioner's signing certificate is not an institution's.
        let practitioner = cloud.practitioner(at: institution.code)
        let signing = (
            try cloud.directory.read(cloud.directory.practitionerCertificate(practitioner.id)),
            try cloud.directory.read(cloud.directory.practitionerKey(practitioner.id))
        )
        try await withClient(try cloud.client(identity: signing)) { client in
            let reply = try await cloud.request(client, .POST, "/v1/visits", body: body)
            #expect(reply.status == 401 && reply.code == "institution_certificate_invalid")
        }
        // A valid sandbox certificate for an institution the cloud does not know.
        let pki = try cloud.directory.loadPKI()
        let unknownKey = P256.Signing.PrivateKey()
        let unknown = try pki.issue(
            .institution(code: "9999999999", name: "unknown"), key: unknownKey.publicKey,
            validity: Date().addingTimeInterval(-60)...Date().addingTimeInterval(3600))
        try await withClient(try cloud.client(identity: (unknown.pemText, unknownKey.pemRepresentation))) { client in
            let reply = try await cloud.request(client, .POST, "/v1/visits", body: body)
            #expect(reply.status == 401 && reply.code == "institution_unknown")
            // Unknown routes are problems too.
            let missing = try await cloud.request(client, .GET, "/v1/nothing-here")
            #expect(missing.status == 404 && missing.code == "route_not_found")
        }
        try await cloud.stop()
    }

    @Test func deferredOpeningsAndGrantsOverTheirLife() async throws {
        let cloud = try await CloudHarness()
        let institution = cloud.homeCareOnly
        let practitioner = cloud.practitioner(at: institution.code)
        let now = cloud.clock.now
        // A home-care visit scanned offline five hours ago, forwarded now.
        let scanned = now - 5 * 3600
        let (_, body) = try cloud.opening(
            token: try cloud.token(for: cloud.patient(), at: scanned - 30), institution: institution.code,
            practitioner: practitioner.id, setting: .homeCare, signedAt: scanned, scannedAt: scanned)
        let grant: VisitGrant = try await withClient(
            try cloud.client(identity: try cloud.credential(institution: institution.code))
        ) { client in
            let reply = try await cloud.request(client, .POST, "/v1/visits", body: body)
            #expect(reply.status == 201)
            let grant = try reply.decode(VisitGrant.self)
            #expect(grant.deferred)
            #expect(grant.openedAt == UTCTimestamp.iso8601(scanned))
            return grant
        }
        // A fresh one, to follow over its life.
        let (_, freshBody) = try cloud.opening(
            token: try cloud.token(for: cloud.patient(photo: .none)), institution: institution.code,
            practitioner: practitioner.id, setting: .homeCare)
        try await withClient(try cloud.client(identity: try cloud.credential(institution: institution.code))) {
            client in
            let fresh = try await cloud.request(client, .POST, "/v1/visits", body: freshBody).decode(VisitGrant.self)
            #expect(fresh.deferred == false)
            let status = try await cloud.request(client, .GET, "/v1/visits/\(fresh.grant)")
            #expect(status.status == 200)
            #expect(try status.decode(GrantStatus.self).institution == institution.code)
            // The deferred one's hour is long over.
            let old = try await cloud.request(client, .GET, "/v1/visits/\(grant.grant)")
            #expect(old.status == 410 && old.code == "grant_expired")
            let unknown = try await cloud.request(client, .GET, "/v1/visits/\(String(repeating: "ab", count: 32))")
            #expect(unknown.status == 404 && unknown.code == "grant_unknown")
            // Another institution may not use it.
            let other = cloud.everySetting
            try await withClient(try cloud.client(identity: try cloud.credential(institution: other.code))) { client in
                let reply = try await cloud.request(client, .GET, "/v1/visits/\(fresh.grant)")
                #expect(reply.status == 403 && reply.code == "grant_not_yours")
            }
            // An hour later it has expired.
            cloud.clock.advance(by: 3601)
            let expired = try await cloud.request(client, .GET, "/v1/visits/\(fresh.grant)")
            #expect(expired.status == 410 && expired.code == "grant_expired")
        }
        try await cloud.stop()
    }
}
