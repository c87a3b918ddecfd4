import AuditChain

/// The kinds of row the cloud writes to its audit chain.
extension AuditKind {
    package static let sandboxCreated = AuditKind("sandbox.created")
    package static let visitOpened = AuditKind("visit.opened")
    package static let consumedUploaded = AuditKind("consumed.uploaded")
    package static let listPublished = AuditKind("list.published")
    package static let recordsRead = AuditKind("records.read")
    package static let alertsChecked = AuditKind("alerts.checked")
    package static let patientAdded = AuditKind("patient.added")
    package static let appTokenIssued = AuditKind("app.token_issued")
    package static let delegationCreated = AuditKind("delegation.created")
    package static let delegationCancelled = AuditKind("delegation.cancelled")
    package static let consentRequested = AuditKind("consent.requested")
    package static let consentAnswered = AuditKind("consent.answered")
    package static let consentCollected = AuditKind("consent.collected")
    package static let consentCancelled = AuditKind("consent.cancelled")
    /// A station asked whether a practitioner may sign its openings (`POST /v1/affiliations`).
    package static let affiliationChecked = AuditKind("affiliation.checked")
}
