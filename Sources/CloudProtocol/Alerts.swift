/// `POST /v1/visits/{grant}/alerts`: what the clinician proposes to prescribe.
public struct AlertRequest: Sendable, Codable, Equatable {
    public var prescriptions: [ProposedPrescription]
    public init(prescriptions: [ProposedPrescription]) { self.prescriptions = prescriptions }

    public struct ProposedPrescription: Sendable, Codable, Equatable {
        public var atcCode: String
        public var name: String?
        public init(atcCode: String, name: String? = nil) {
            self.atcCode = atcCode
            self.name = name
        }
    }
    public static let maximumCount = 50

    /// Why the proposal is not one the cloud reads, or nil: 1 to `maximumCount` prescriptions, each a
    /// WHO ATC code. The cloud refuses such a proposal and the station does not forward it.
    public var malformation: String? {
        guard (1...Self.maximumCount).contains(prescriptions.count) else {
            return "propose 1 to \(Self.maximumCount) prescriptions"
        }
        guard prescriptions.allSatisfy({ ATCCode.isValid($0.atcCode) }) else {
            return "each atcCode must be a WHO ATC code such as M01AE01"
        }
        return nil
    }
}

/// The alerts for a proposed prescription: the same drug still in supply from any institution, and
/// interactions from the documented table (docs/drug-interactions.md).
public struct AlertAnswer: Sendable, Codable, Equatable {
    public var alerts: [Alert]
    public init(alerts: [Alert]) { self.alerts = alerts }

    public struct Alert: Sendable, Codable, Equatable {
        public var kind: AlertKind
        public var proposedAtcCode: String
        /// The medication on record it concerns.
        public var existing: MedicationRecord
        public var severity: String
        public var message: String
        /// Where the interaction is documented; for a duplicate, the record itself.
        public var source: String
        public init(
            kind: AlertKind, proposedAtcCode: String, existing: MedicationRecord, severity: String, message: String,
            source: String
        ) {
            self.kind = kind
            self.proposedAtcCode = proposedAtcCode
            self.existing = existing
            self.severity = severity
            self.message = message
            self.source = source
        }
    }

    public enum AlertKind: String, Sendable, Codable, Equatable {
        case duplicateMedication = "duplicate_medication"
        case interaction
    }
}
