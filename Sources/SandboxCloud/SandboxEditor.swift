import CloudProtocol
import Crypto
import Foundation
import VirtualCard

/// `vhc-cloud enrol`, `affiliate` and `patient add`: grow a sandbox after `init`. Each rewrites
/// `sandbox.json` atomically and makes what the new party needs (a certificate and key, or an app
/// secret and records). A running `vhc-cloud serve` reads `sandbox.json` at start: restart it.
package struct SandboxEditor {
    package let directory: SandboxDirectory
    package let now: Int64

    package init(directory: SandboxDirectory, now: Int64) {
        self.directory = directory
        self.now = now
    }

    package struct EditError: Error, CustomStringConvertible {
        package let description: String
        init(_ description: String) { self.description = description }
    }

    var validity: ClosedRange<Date> {
        let date = Date(timeIntervalSince1970: TimeInterval(now))
        return date.addingTimeInterval(
            -86_400)...date.addingTimeInterval(
                Double(SandboxMaker.certificateYears) * 365 * 86_400)
    }

    package static func syntheticID(sex: Sex, using generator: inout some RandomNumberGenerator) -> String {
        SyntheticPeople.nationalID(sex: sex, using: &generator)
    }

    package static func syntheticName(using generator: inout some RandomNumberGenerator) -> String {
        SyntheticPeople.name(using: &generator)
    }

    static func checkName(_ name: String) throws {
        guard (1...64).contains(name.count),
            !name.contains(where: { $0.isNewline || $0.asciiValue.map { $0 < 0x20 } == true })
        else { throw EditError("a name must be 1 to 64 characters on one line") }
    }

    /// Enrols a new institution in `settings` with a new certificate, or changes the settings (and
    /// name) of one already enrolled. With `requestPEM` (a PKCS#10 request made on the institution's
    /// token), the certificate is issued for the request's key, new or known institution alike, and no
    /// key is written: the key stays on the token (a key file left from before is removed).
    @discardableResult
    package func enrol(
        code: String, name: String, settings: [CareSetting], requestPEM: String? = nil
    ) throws -> SandboxManifest.Institution {
        guard code.utf8.count == 10, code.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw EditError("an institution code is 10 digits")
        }
        try Self.checkName(name)
        guard !settings.isEmpty else { throw EditError("enrol in at least one care setting") }
        var manifest = try directory.loadManifest()
        let institution = SandboxManifest.Institution(code: code, name: name, settings: settings)
        let known = manifest.institutions.firstIndex(where: { $0.code == code })
        if known == nil || requestPEM != nil {
            try issue(
                .institution(code: code, name: name), serialNumber: code, requestPEM: requestPEM,
                keyPath: directory.institutionKey(code), certificatePath: directory.institutionCertificate(code))
        }
        if let known {
            manifest.institutions[known] = institution
        } else {
            manifest.institutions.append(institution)
        }
        try directory.writeManifest(manifest)
        return institution
    }

    /// A new practitioner with a signing certificate, affiliated with no institution yet: for a new key
    /// written beside it, or, with `requestPEM`, for the key of a request made on their card (the ID
    /// number is then required: the request's subject must name it).
    package func addPractitioner(
        id: String?, name: String?, profession: Profession, sex: Sex = .female, requestPEM: String? = nil
    ) throws
        -> SandboxManifest.Practitioner
    {
        var generator = SystemRandomNumberGenerator()
        var manifest = try directory.loadManifest()
        if requestPEM != nil, id == nil { throw EditError("with a certificate request, give the practitioner's --id") }
        let id = id ?? SyntheticPeople.nationalID(sex: sex, using: &generator)
        guard TaiwanID.isValid(id) else { throw EditError("'\(id)' is not a valid ID number") }
        guard !manifest.practitioners.contains(where: { $0.id == id }) else {
            throw EditError("practitioner \(TaiwanID.masked(id)) is already in the sandbox")
        }
        let name = name ?? SyntheticPeople.name(using: &generator)
        try Self.checkName(name)
        let practitioner = SandboxManifest.Practitioner(id: id, name: name, profession: profession, institutions: [])
        try issue(
            .practitioner(id: id, name: name, profession: profession), serialNumber: id, requestPEM: requestPEM,
            keyPath: directory.practitionerKey(id), certificatePath: directory.practitionerCertificate(id))
        manifest.practitioners.append(practitioner)
        try directory.writeManifest(manifest)
        return practitioner
    }

    /// Issues the certificate for `role`: for a new key written at `keyPath`, or for the key of a checked
    /// request (its subject's serialNumber must be `serialNumber`), with no key file left behind.
    private func issue(
        _ role: SandboxPKI.Role, serialNumber: String, requestPEM: String?, keyPath: String, certificatePath: String
    ) throws {
        let pki = try directory.loadPKI()
        guard let requestPEM else {
            let key = P256.Signing.PrivateKey()
            try directory.writeCredential(
                key: key, certificate: try pki.issue(role, key: key.publicKey, validity: validity), keyPath: keyPath,
                certificatePath: certificatePath)
            return
        }
        let key = try CertificateRequests.key(fromPEM: requestPEM, serialNumber: serialNumber)
        try directory.writeCertificate(try pki.issue(role, key: key, validity: validity), to: certificatePath)
        try? FileManager.default.removeItem(atPath: keyPath)
    }

    /// Affiliates a practitioner with an institution, or ends the affiliation.
    @discardableResult
    package func affiliate(
        practitioner id: String, institution code: String, remove: Bool = false
    ) throws
        -> SandboxManifest.Practitioner
    {
        var manifest = try directory.loadManifest()
        guard manifest.institutions.contains(where: { $0.code == code }) else {
            throw EditError("no institution \(code) in the sandbox; enrol it first")
        }
        guard let index = manifest.practitioners.firstIndex(where: { $0.id == id }) else {
            throw EditError("no practitioner \(TaiwanID.masked(id)) in the sandbox")
        }
        var affiliations = manifest.practitioners[index].institutions.filter { $0 != code }
        if !remove { affiliations.append(code) }
        manifest.practitioners[index].institutions = affiliations
        try directory.writeManifest(manifest)
        return manifest.practitioners[index]
    }

    /// A new patient with an app secret and MediCloud-like records.
    package func addPatient(_ patient: SandboxManifest.Patient) async throws {
        guard TaiwanID.isValid(patient.id) else { throw EditError("'\(patient.id)' is not a valid ID number") }
        try Self.checkName(patient.name)
        guard let birth = CalendarDate(iso: patient.birthDate), birth <= CalendarDate(taipeiDateAt: now),
            CalendarDate(iso: patient.cardIssuedAt) != nil
        else { throw EditError("dates are YYYY-MM-DD, and a birth date is not in the future") }
        if let number = patient.cardNumber, number.utf8.count != 12 || !number.allSatisfy({ $0.isASCII && $0.isNumber })
        {
            throw EditError("a card number is 12 digits")
        }
        var manifest = try directory.loadManifest()
        guard !manifest.patients.contains(where: { $0.id == patient.id }) else {
            throw EditError("patient \(TaiwanID.masked(patient.id)) is already in the sandbox")
        }
        var generator = SystemRandomNumberGenerator()
        let store = try SQLiteCloudStore(path: directory.database)
        try await SandboxMaker.provision(patient, in: directory, store: store, now: now, using: &generator)
        manifest.patients.append(patient)
        try directory.writeManifest(manifest)
    }
}
