/// Where care happens (cloud-protocol.md §1): an institution is enrolled in some of these, and every
/// visit opening names one.
package enum CareSetting: String, Sendable, Codable, CaseIterable, Hashable {
    case homeCare = "home_care"
    case telemedicine
    case videoConsultation = "video_consultation"
    case outpatient
}

/// A practitioner's profession, carried in the `title` attribute of their certificate (§1).
package enum Profession: String, Sendable, Codable, CaseIterable, Hashable {
    case physician, nurse, pharmacist, other
}
