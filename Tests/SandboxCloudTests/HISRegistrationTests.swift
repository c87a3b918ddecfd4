import CloudProtocol
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import SandboxCloud
import StationHIS
import CloudClient
import Testing
import VirtualCard

/// The HIS's registration through the compatibility listener at a station forwarding to the sandbox cloud
/// (issue 24): the token verified, the card's bundle signed with the institution's key, the cloud's visit
/// sequence as `SequelNumber/Next` answers it, the same day's second visit marked.
@Suite("HIS registration through the compatibility listener, against the sandbox cloud", .serialized)
struct HISRegistrationTests {
    @Test("Verification → Signature/Hc → SequelNumber/Next gives the cloud's visit sequence; a second visit the same day is isSameDay")
    func registration() async throws {
        let (cloud, station) = try await Self.started()
        let app = try Self.listener(station, cloud)
        let patient = cloud.patient()
        try await app.test(.router) { client in
            var sequences: [String] = []
            for visit in 0..<2 {
                let token = try cloud.token(for: patient)
                #expect(try await Self.call(client, "/api/hc/v1/Verification/VirtualHc", ["token": token])["statusCode"] as? Int == 0)
                var bundle = try await Self.call(client, "/api/hc/v1/Signature/Hc", ["serviceType": "03"])
                #expect(bundle["statusCode"] as? Int == 0 && bundle["hcIdNo"] as? String == patient.id)
                bundle.removeValue(forKey: "statusCode")
                bundle["treatmentItem"] = "01"
                bundle["babyTreatment"] = " "
                bundle["afterCheck"] = "1"
                let answer = try await Self.call(client, "/api/v1/SequelNumber/Next", bundle)
                #expect(answer["statusCode"] as? Int == 0, "\(answer)")
                let sequence = try #require(answer["sequenceNumber"] as? String)
                #expect(sequence.count == 4 && (answer["treatmentDateTime"] as? String)?.count == 13)
                #expect(answer["isSameDay"] as? Bool == (visit == 1), "the second visit of the day")
                #expect(answer["hospitalId"] as? String == station.institution.code)
                #expect(answer["treatmentNumber"] as? String == (station.institution.code + String(
                    CalendarDate(taipeiDateAt: cloud.clock.now).iso.replacingOccurrences(of: "-", with: "").dropFirst(2)) + sequence),
                    "the cloud's 就醫識別碼 (the sandbox's extension), kept with the visit: \(answer)")
                sequences.append(sequence)
            }
            #expect(Set(sequences).count == 2, "each visit its own sequence: \(sequences)")
        }
        await station.shutdown()
        try await cloud.stop()
    }

    @Test("a suspended insurance is 3229 with the sequence; a code the cloud saw used already is 3244, with no number")
    func insuranceAndReplay() async throws {
        let (cloud, station) = try await Self.started()
        let app = try Self.listener(station, cloud)
        let suspended = try #require(cloud.manifest.patients.first { $0.insuranceStatus == .suspended })
        // Another station of the same institution used this code first: the cloud consumed it.
        let used = try cloud.token(for: cloud.patient())
        try await withClient(try cloud.client(identity: try cloud.credential(institution: station.institution.code))) { client in
            let (_, body) = try cloud.opening(
                token: used, institution: station.institution.code,
                practitioner: cloud.practitioner(at: station.institution.code).id)
            #expect(try await cloud.request(client, .POST, "/v1/visits", body: body).status == 201)
        }
        try await app.test(.router) { client in
            func register(_ token: String) async throws -> [String: Any] {
                #expect(try await Self.call(client, "/api/hc/v1/Verification/VirtualHc", ["token": token])["statusCode"] as? Int == 0)
                var bundle = try await Self.call(client, "/api/hc/v1/Signature/Hc", ["serviceType": "03"])
                // The cloud's refusal may be in before the bundle is asked for: then it is the bundle's answer.
                guard bundle["statusCode"] as? Int == 0 else { return bundle }
                bundle.removeValue(forKey: "statusCode")
                bundle.merge(["treatmentItem": "01", "babyTreatment": " ", "afterCheck": "1"]) { $1 }
                return try await Self.call(client, "/api/v1/SequelNumber/Next", bundle)
            }
            let numbered = try await register(try cloud.token(for: suspended))
            #expect(numbered["statusCode"] as? Int == 3229 && (numbered["sequenceNumber"] as? String)?.count == 4
                    && (numbered["message"] as? String)?.contains("suspended") == true, "\(numbered)")
            let replayed = try await register(used)
            #expect(replayed["statusCode"] as? Int == 3244 && replayed["sequenceNumber"] == nil, "\(replayed)")
            #expect((replayed["message"] as? String)?.contains("token_replayed") == true)
        }
        let refused = try #require(try station.service.sessions.list().first { $0.cloud?.refusal == "token_replayed" })
        #expect(!refused.state.isOpen)
        await station.shutdown()
        try await cloud.stop()
    }

    @Test("telemedicine: RequestToken asks the patient; ResponseToken says pending, then the visit's virtualCardToken, which registers")
    func telemedicine() async throws {
        let (cloud, station) = try await Self.started(setting: .telemedicine)
        let app = try Self.listener(station, cloud)
        let patient = cloud.patient()
        let patientApp = AppClient(
            cloud: try cloud.appClient(), secret: String(try cloud.appLogin(patient)[0].1.dropFirst(7)))
        try await app.test(.router) { client in
            let asked = try await Self.call(client, "/api/v1/TeleMedicine/RequestToken", ["patientId": patient.id])
            let access = try #require(asked["accessToken"] as? String, "\(asked)")
            let early = try await Self.call(client, "/api/v1/TeleMedicine/ResponseToken", ["accessToken": access])
            #expect(early["statusCode"] as? Int == 3239, "not yet authorised")
            _ = try await patientApp.answerConsent(access, approve: true)
            var answer: [String: Any] = [:]
            for _ in 0..<100 {
                answer = try await Self.call(client, "/api/v1/TeleMedicine/ResponseToken", ["accessToken": access])
                if answer["statusCode"] as? Int == 0 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            let reference = try #require(answer["virtualCardToken"] as? String, "\(answer)")
            let basic = try await Self.call(client, "/api/hc/v1/VirtualHc/ReadBasic", ["token": reference])
            #expect(basic["statusCode"] as? Int == 0 && basic["idNo"] as? String == patient.id)
            #expect(try await Self.call(client, "/api/hc/v1/Verification/VirtualHc", ["token": reference])["statusCode"] as? Int == 0)
            let bundle = try await Self.call(client, "/api/hc/v1/Signature/Hc", ["serviceType": "03"])
            #expect(bundle["hcIdNo"] as? String == patient.id)
            let unknown = try await Self.call(client, "/api/v1/TeleMedicine/ResponseToken", ["accessToken": "nope"])
            #expect(unknown["statusCode"] as? Int == 3237)
            // Refused in the app.
            let second = try #require(
                try await Self.call(client, "/api/v1/TeleMedicine/RequestToken", ["patientId": patient.id])["accessToken"] as? String)
            _ = try await patientApp.answerConsent(second, approve: false)
            var refused: [String: Any] = [:]
            for _ in 0..<100 {
                refused = try await Self.call(client, "/api/v1/TeleMedicine/ResponseToken", ["accessToken": second])
                if refused["statusCode"] as? Int != 3239 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(refused["statusCode"] as? Int == 3240, "\(refused)")
        }
        try await patientApp.cloud.shutdown()
        await station.shutdown()
        try await cloud.stop()
    }

    /// The sandbox cloud, and a station forwarding to it with its lists and an affiliated practitioner signed in.
    static func started(setting: CareSetting = .outpatient) async throws -> (CloudHarness, ForwardingStation) {
        let cloud = try await CloudHarness()
        let station = try await ForwardingStation(cloud, setting: setting)
        await station.services.syncLists()
        try await station.loginAffiliated()
        return (cloud, station)
    }

    /// The station's listener, signing with its institution's key from the sandbox, as the daemon assembles it.
    static func listener(_ station: ForwardingStation, _ cloud: CloudHarness) throws -> some ApplicationProtocol {
        let identity = try cloud.credential(institution: station.institution.code)
        let signer = try HISInstitutionSigner(
            hospitalId: station.institution.code, certificatePEM: identity.certificate,
            signer: try P256.Signing.PrivateKey(pemRepresentation: identity.key))
        return Application(
            router: HISRoutes.router(
                desk: HISDesk(service: station.service, presentSeconds: 120), signer: signer, bearerToken: nil,
                logger: Logger(label: "his-test")))
    }

    static func call(_ client: some TestClientProtocol, _ path: String, _ body: [String: Any]) async throws
        -> [String: Any]
    {
        try await client.execute(
            uri: path, method: .post, body: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body))
        ) { response in
            #expect(response.status == .ok)
            return try #require(JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
        }
    }
}
