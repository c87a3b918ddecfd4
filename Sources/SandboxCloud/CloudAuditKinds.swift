import AuditChain

/// The kinds of row the cloud writes to its audit chain.
extension AuditKind {
    public static let sandboxCreated = AuditKind("sandbox.created")
    public static let visitOpened = AuditKind("visit.opened")
    public static let consumedUploaded = AuditKind("consumed.uploaded")
    public static let listPublished = AuditKind("list.published")
    public static let recordsRead = AuditKind("records.read")
    public static let alertsChecked = AuditKind("alerts.checked")
    public static let patientAdded = AuditKind("patient.added")
    public static let appTokenIssued = AuditKind("app.token_issued")
    public static let delegationCreated = AuditKind("delegation.created")
    public static let delegationCancelled = AuditKind("delegation.cancelled")
    public static let consentRequested = AuditKind("consent.requested")
    public static let consentAnswered = AuditKind("consent.answered")
    public static let consentCollected = AuditKind("consent.collected")
    /// A station asked whether a practitioner may sign its openings (`POST /v1/affiliations`).
    public static let affiliationChecked = AuditKind("affiliation.checked")
}
