import GRDB
import StationModels

/// A `visit_session` row: one stored property per column the station writes with a session, named
/// after the column by `CodingKeys`. `VisitSession` is the local API's wire type and knows nothing of
/// storage; this record converts it to and from its row.
///
/// States, documents and close reasons are kept as the raw text of their columns, so that a row the
/// code does not know reads the way it always did (see `session`) instead of failing to decode.
///
/// `cloud_grant` has no property on purpose: `Outbox.apply` writes it by itself, and a save of a
/// session must never overwrite or clear it. GRDB writes only the columns a record encodes.
struct VisitSessionRecord: Codable, Equatable, Identifiable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "visit_session"

    var id: String
    var holderID: String
    var holderName: String
    var holderBirthDate: String
    var photo: String
    var delegateID: String?
    var institution: String
    var source: String
    var openedAt: Int64
    var expiresAt: Int64
    var state: String
    var closedAt: Int64?
    var closeReason: String?
    var idCheckDocument: String?
    var idCheckLastFour: String?
    var idCheckOperator: String?
    var idCheckAt: Int64?
    var cloudState: String?
    var cloudPractitioner: String?
    var visitSequence: String?
    var cloudDeferred: Bool?
    var cloudRefusal: String?
    var cloudTokenCode: String?
    var cardNumber: String?
    var insuranceStatus: String?
    var patientSex: String?
    var grantExpiresAt: Int64?
    var setting: String?
    var treatmentNumber: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id
        case holderID = "holder_id"
        case holderName = "holder_name"
        case holderBirthDate = "holder_birth_date"
        case photo
        case delegateID = "delegate_id"
        case institution
        case source
        case openedAt = "opened_at"
        case expiresAt = "expires_at"
        case state
        case closedAt = "closed_at"
        case closeReason = "close_reason"
        case idCheckDocument = "id_check_document"
        case idCheckLastFour = "id_check_last_four"
        case idCheckOperator = "id_check_operator"
        case idCheckAt = "id_check_at"
        case cloudState = "cloud_state"
        case cloudPractitioner = "cloud_practitioner"
        case visitSequence = "visit_sequence"
        case cloudDeferred = "cloud_deferred"
        case cloudRefusal = "cloud_refusal"
        case cloudTokenCode = "cloud_token_code"
        case cardNumber = "card_number"
        case insuranceStatus = "insurance_status"
        case patientSex = "patient_sex"
        case grantExpiresAt = "grant_expires_at"
        case setting
        case treatmentNumber = "treatment_number"
    }

    /// The columns set when the session opens and never changed by a later save.
    static let fixedAtOpening: Set<CodingKeys> = [
        .id, .holderID, .holderName, .holderBirthDate, .photo, .delegateID, .institution, .source, .openedAt,
        .expiresAt, .setting,
    ]

    /// The columns a save of an existing session updates: every other column of the record (a column
    /// added to the record later is updated unless it is added to `fixedAtOpening`).
    static let changingColumns = CodingKeys.allCases.filter { !fixedAtOpening.contains($0) }.map(\.stringValue)

    init(_ session: VisitSession) {
        id = session.id
        holderID = session.holderID
        holderName = session.holderName
        holderBirthDate = session.holderBirthDate
        photo = session.photo
        delegateID = session.delegateID
        institution = session.institution
        source = session.source
        openedAt = session.openedAt
        expiresAt = session.expiresAt
        state = session.state.rawValue
        closedAt = session.closedAt
        closeReason = session.closeReason?.rawValue
        idCheckDocument = session.idCheck?.document.rawValue
        idCheckLastFour = session.idCheck?.lastFour
        idCheckOperator = session.idCheck?.operatorName
        idCheckAt = session.idCheck?.at
        cloudState = session.cloud?.state.rawValue
        cloudPractitioner = session.cloud?.practitioner
        visitSequence = session.cloud?.visitSequence
        cloudDeferred = session.cloud?.deferred
        cloudRefusal = session.cloud?.refusal
        cloudTokenCode = session.cloud?.tokenCode
        cardNumber = session.cloud?.cardNumber
        insuranceStatus = session.cloud?.insuranceStatus
        patientSex = session.cloud?.sex
        grantExpiresAt = session.cloud?.grantExpiresAt
        setting = session.setting
        treatmentNumber = session.cloud?.treatmentNumber
    }

    /// The session this row holds. An unknown state reads as `closed`; the ID check is there only with
    /// a known document (and its other three columns); the cloud visit only with a known cloud state.
    var session: VisitSession {
        var idCheck: VisitSession.IDCheck?
        if let document = idCheckDocument.flatMap(IDDocument.init(rawValue:)), let idCheckLastFour,
            let idCheckOperator, let idCheckAt
        {
            idCheck = .init(document: document, lastFour: idCheckLastFour, operatorName: idCheckOperator, at: idCheckAt)
        }
        let cloud = cloudState.flatMap(CloudVisit.State.init(rawValue:)).map { state in
            CloudVisit(
                state: state, practitioner: cloudPractitioner, visitSequence: visitSequence, deferred: cloudDeferred,
                refusal: cloudRefusal, tokenCode: cloudTokenCode, cardNumber: cardNumber,
                insuranceStatus: insuranceStatus, sex: patientSex, grantExpiresAt: grantExpiresAt,
                treatmentNumber: treatmentNumber)
        }
        return VisitSession(
            id: id, holderID: holderID, holderName: holderName, holderBirthDate: holderBirthDate, photo: photo,
            delegateID: delegateID, institution: institution, source: source, openedAt: openedAt,
            expiresAt: expiresAt, state: VisitSession.State(rawValue: state) ?? .closed, closedAt: closedAt,
            closeReason: closeReason.map(CloseReason.init(rawValue:)), idCheck: idCheck, cloud: cloud, setting: setting)
    }

    /// Inserts the session's row, or updates an existing row's `changingColumns` (never the columns fixed
    /// at opening, never `cloud_grant`), inside the caller's transaction.
    ///
    /// Not GRDB's `upsert`: without a conflict target it would also fire on the one-open-session-per-holder
    /// index and rewrite another session's row. Not `insert(onConflict: .replace)`: it deletes the row
    /// and so its `cloud_grant`.
    func insertOrUpdate(_ db: Database) throws {
        do {
            try update(db, columns: Self.changingColumns)
        } catch RecordError.recordNotFound {
            try insert(db)
        }
    }
}
