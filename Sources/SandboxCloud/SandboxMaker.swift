import AuditChain
import CloudProtocol
import Crypto
import Foundation
import SafeFiles
import VirtualCard
import X509

/// `vhc-cloud init`: makes a complete sandbox in an empty directory (cloud-protocol.md §8), with at
/// least what the protocol asks for: three institutions (every setting; home care only; telemedicine
/// and video consultation only), practitioners of each profession (every institution with one, one
/// affiliated with two institutions, one with none), and patients with and without a photo or a card
/// number, one whose insurance is suspended. Keys and people are new every time.
package enum SandboxMaker {
    package static let issuer = "TW-NHIA"
    package static let certificateYears = 2

    /// The window the sandbox's token and revocation keys are published with, from its creation time.
    package static func keyValidity(createdAt: Int64) -> ClosedRange<Int64> {
        (createdAt - 30 * 86_400)...(createdAt + 5 * 365 * 86_400)
    }

    package static func make(
        in directory: SandboxDirectory, now: Int64, patientCount: Int = 24
    ) async throws
        -> SandboxManifest
    {
        if FileManager.default.fileExists(atPath: directory.manifest) {
            throw SandboxDirectory.LoadError(
                path: directory.path, reason: "already holds a sandbox (sandbox.json); choose an empty directory")
        }
        try SafeFile.makeDirectory(directory.path, mode: 0o755)
        var generator = SystemRandomNumberGenerator()
        let date = Date(timeIntervalSince1970: TimeInterval(now))

        // The CA and the cloud's server certificate.
        let pki = try SandboxPKI.makeCA(now: date)
        try SafeFile.writeSecret(Array((pki.caKey.pemRepresentation + "\n").utf8), to: directory.caKey)
        try SafeFile.write(Array(pki.caCertificate.pemText.utf8), to: directory.caCertificate)
        let validity =
            date.addingTimeInterval(
                -86_400)...date.addingTimeInterval(
                Double(certificateYears) * 365 * 86_400)
        let serverKey = P256.Signing.PrivateKey()
        try directory.writeCredential(
            key: serverKey, certificate: try pki.issue(.server, key: serverKey.publicKey, validity: validity),
            keyPath: directory.serverKey, certificatePath: directory.serverCertificate)

        // The token profile's issuer keys; a station pins the root's package key.
        try SafeFile.makeDirectory(directory.file("issuer"), mode: 0o700)
        let keys = ListPublisher.Keys(
            root: P256.Signing.PrivateKey(), token: P256.Signing.PrivateKey(), revocation: P256.Signing.PrivateKey())
        for (key, path) in [
            (keys.root, directory.rootKey), (keys.token, directory.tokenKey),
            (keys.revocation, directory.revocationKey),
        ] {
            try SafeFile.writeSecret(Array((key.pemRepresentation + "\n").utf8), to: path)
        }
        try SafeFile.write(Array((keys.root.publicKey.pemRepresentation + "\n").utf8), to: directory.trustRoot)

        // Institutions, practitioners and patients.
        let institutions: [SandboxManifest.Institution] = [
            .init(code: "3501200000", name: "沙盒聯合醫院 Sandbox General Hospital", settings: CareSetting.allCases),
            .init(code: "2301010001", name: "沙盒居家護理所 Sandbox Home Care", settings: [.homeCare]),
            .init(
                code: "5901020002", name: "沙盒遠距診所 Sandbox Telehealth Clinic",
                settings: [.telemedicine, .videoConsultation]),
        ]
        let plan: [(Profession, Sex, [Int])] = [
            (.physician, .male, [0, 2]), (.nurse, .female, [1]), (.nurse, .female, [0]), (.pharmacist, .male, [0]),
            (.physician, .female, [2]), (.other, .male, [1]), (.physician, .male, []),
        ]
        let practitioners = plan.map { profession, sex, affiliations in
            SandboxManifest.Practitioner(
                id: SyntheticPeople.nationalID(sex: sex, using: &generator),
                name: SyntheticPeople.name(using: &generator), profession: profession,
                institutions: affiliations.map { institutions[$0].code })
        }
        let manifest = SandboxManifest(
            issuer: issuer, createdAt: now, institutions: institutions, practitioners: practitioners,
            patients: makePatients(patientCount, now: now, using: &generator))

        for institution in institutions {
            let key = P256.Signing.PrivateKey()
            try directory.writeCredential(
                key: key,
                certificate: try pki.issue(
                    .institution(code: institution.code, name: institution.name), key: key.publicKey,
                    validity: validity),
                keyPath: directory.institutionKey(institution.code),
                certificatePath: directory.institutionCertificate(institution.code))
        }
        for practitioner in practitioners {
            let key = P256.Signing.PrivateKey()
            try directory.writeCredential(
                key: key,
                certificate: try pki.issue(
                    .practitioner(id: practitioner.id, name: practitioner.name, profession: practitioner.profession),
                    key: key.publicKey, validity: validity),
                keyPath: directory.practitionerKey(practitioner.id),
                certificatePath: directory.practitionerCertificate(practitioner.id))
        }
        try directory.writeManifest(manifest)

        // The database and the first signed lists.
        let store = try SQLiteCloudStore(path: directory.database)
        try await store.audit(
            at: now, kind: .sandboxCreated, subject: "",
            detail: [
                "institutions": String(institutions.count), "practitioners": String(practitioners.count),
                "patients": String(manifest.patients.count),
            ])
        for patient in manifest.patients {
            try await provision(patient, in: directory, store: store, now: now, using: &generator)
        }
        let publisher = ListPublisher(
            keys: keys, issuer: issuer, keyValidity: keyValidity(createdAt: now), store: store, revocations: { [] })
        try await publisher.refresh(now: now)
        return manifest
    }

    /// What a patient needs beyond the manifest: an app secret (the file for `vhc app`, its hash in
    /// the database) and MediCloud-like records. Audited.
    package static func provision(
        _ patient: SandboxManifest.Patient, in directory: SandboxDirectory, store: any CloudStore, now: Int64,
        using generator: inout some RandomNumberGenerator
    ) async throws {
        let secret = AppSecret()
        try SafeFile.makeDirectory(directory.file("patients/\(patient.id)"), mode: 0o700)
        try SafeFile.writeSecret(Array((secret.text + "\n").utf8), to: directory.appSecret(patient.id))
        try await store.registerAppCredential(secretHash: secret.hash, patientID: patient.id)
        let records = SyntheticRecords.make(for: patient, today: CalendarDate(taipeiDateAt: now), using: &generator)
        try await store.storeRecords(records, patientID: patient.id)
        try await store.audit(
            at: now, kind: .patientAdded, subject: "",
            detail: ["patient": TaiwanID.masked(patient.id), "records": String(records.count)])
    }

    /// Patients: a quarter without a photo, half with a card number, one suspended, two residents.
    static func makePatients(
        _ count: Int, now: Int64, using generator: inout some RandomNumberGenerator
    )
        -> [SandboxManifest.Patient]
    {
        let today = CalendarDate(taipeiDateAt: now)
        var seen = Set<String>()
        var patients: [SandboxManifest.Patient] = []
        for index in 0..<max(count, 20) {
            let sex: Sex = index % 2 == 0 ? .female : .male
            var id = ""
            repeat {
                id =
                    index % 12 == 11
                    ? SyntheticPeople.residentID(sex: sex, using: &generator)
                    : SyntheticPeople.nationalID(sex: sex, using: &generator)
            } while !seen.insert(id).inserted
            let age = [3, 8, 17, 25, 34, 41, 52, 63, 70, 76, 82, 91][index % 12]
            let birth =
                CalendarDate(
                    year: today.year - age, month: Int.random(in: 1...12, using: &generator),
                    day: Int.random(in: 1...28, using: &generator))!
            let issued = CalendarDate(
                year: max(birth.year, today.year - 6), month: Int.random(in: 1...12, using: &generator),
                day: Int.random(in: 1...28, using: &generator))!
            patients.append(
                .init(
                    id: id, name: SyntheticPeople.name(using: &generator), birthDate: birth.iso, sex: sex,
                    cardNumber: index % 2 == 0 ? "0000" + SyntheticPeople.digits(8, using: &generator) : nil,
                    photo: index % 4 == 3 ? .none : .verified,
                    insuranceStatus: index == 5 ? .suspended : .active,
                    cardIssuedAt: min(issued, today).iso))
        }
        return patients
    }
}
