import CloudProtocol

/// Who the cloud knows, indexed from `sandbox.json`: enrolments, affiliations and patients.
package struct Registry: Sendable {
    package let manifest: SandboxManifest
    let institutions: [String: SandboxManifest.Institution]
    let practitioners: [String: SandboxManifest.Practitioner]
    let patients: [String: SandboxManifest.Patient]

    package init(_ manifest: SandboxManifest) {
        self.manifest = manifest
        institutions = Dictionary(manifest.institutions.map { ($0.code, $0) }, uniquingKeysWith: { first, _ in first })
        practitioners = Dictionary(manifest.practitioners.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        patients = Dictionary(manifest.patients.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    package func institution(_ code: String) -> SandboxManifest.Institution? { institutions[code] }
    package func practitioner(_ id: String) -> SandboxManifest.Practitioner? { practitioners[id] }
    package func patient(_ id: String) -> SandboxManifest.Patient? { patients[id] }
}
