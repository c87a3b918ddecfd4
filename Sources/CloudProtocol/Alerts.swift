/// `POST /v1/visits/{grant}/alerts`: what the clinician proposes to prescribe.
package struct AlertRequest: Sendable, Codable, Equatable {
    package var prescriptions: [ProposedPrescription]
    package init(prescriptions: [ProposedPrescription]) { self.prescriptions = prescriptions }

    package struct ProposedPrescription: Sendable, Codable, Equatable {
        package var atcCode: String
        package var name: String?
        package init(atcCode: String, name: String? = nil) {
            self.atcCode = atcCode
            self.name = name
        }
    }
    package static let maximumCount = 50

    /// Why the proposal is not one the cloud reads, or nil: 1 to `maximumCount` prescriptions, each a
    /// WHO ATC code. The cloud refuses such a proposal and the station does not forward it.
    package var malformation: String? {
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
package struct AlertAnswer: Sendable, Codable, Equatable {
    package var alerts: [Alert]
    package init(alerts: [Alert]) { self.alerts = alerts }

    package struct Alert: Sendable, Codable, Equatable {
        package var kind: AlertKind
        package var proposedAtcCode: String
        /// The medication on record it concerns.
        package var existing: MedicationRecord
        package var severity: String
        package var message: String
        /// Where the interaction is documented; for a duplicate, the record itself.
        package var source: String
        package init(
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

    package enum AlertKind: String, Sendable, Codable, Equatable {
        case duplicateMedication = "duplicate_medication"
        case interaction
    }
}
