import Foundation
import VirtualCard

/// The MediCloud-like record categories a grant reads (cloud-protocol.md §4). The protocol fixes the
/// categories; the shapes below are the project's (docs/cloud-openapi.yaml), shared by the cloud and
/// the station's client.
package enum RecordCategory: String, Sendable, Codable, CaseIterable, Hashable {
    case medications, tcm, allergies, labs, imaging, surgeries, discharges, preventive

    /// The item type a page of this category carries.
    package var recordType: any MedicalRecord.Type {
        switch self {
        case .medications: MedicationRecord.self
        case .tcm: TCMRecord.self
        case .allergies: AllergyRecord.self
        case .labs: LabRecord.self
        case .imaging: ImagingRecord.self
        case .surgeries: SurgeryRecord.self
        case .discharges: DischargeRecord.self
        case .preventive: PreventiveRecord.self
        }
    }
}

/// One item of a record category. `asOf` brings what depends on the day (days of supply left) to
/// `today`; the stored record keeps what was true when it was made.
package protocol MedicalRecord: Codable, Sendable, Equatable {
    static var category: RecordCategory { get }
    /// `YYYY-MM-DD`: the order of a category is newest first by this date.
    var date: String { get }
    func asOf(_ today: CalendarDate) -> Self
}

extension MedicalRecord {
    package func asOf(_ today: CalendarDate) -> Self { self }

    /// Days of a supply dispensed on `date` left on `today` (the day of dispensing counts as day one).
    static func daysRemaining(supply: Int, dispensed date: String, today: CalendarDate) -> Int {
        guard let dispensed = CalendarDate(iso: date) else { return 0 }
        let elapsed = Int((today.taipeiMidnight - dispensed.taipeiMidnight) / 86_400)
        return max(0, min(supply, supply - elapsed))
    }
}

/// A prescription dispensed to the patient, with what is left of it today.
package struct MedicationRecord: MedicalRecord {
    package static var category: RecordCategory { .medications }
    /// `YYYY-MM-DD`, when it was dispensed.
    package var date: String
    package var institution: String
    /// The WHO ATC code (7 characters).
    package var atcCode: String
    package var name: String
    package var dose: String
    package var daysSupply: Int
    /// Days of supply left today; 0 once used up.
    package var daysRemaining: Int
    /// A chronic-illness continuous prescription (慢性病連續處方箋).
    package var chronic: Bool
    /// Refills left on a chronic prescription.
    package var refillsRemaining: Int
    package init(
        date: String, institution: String, atcCode: String, name: String, dose: String, daysSupply: Int,
        daysRemaining: Int, chronic: Bool, refillsRemaining: Int
    ) {
        self.date = date
        self.institution = institution
        self.atcCode = atcCode
        self.name = name
        self.dose = dose
        self.daysSupply = daysSupply
        self.daysRemaining = daysRemaining
        self.chronic = chronic
        self.refillsRemaining = refillsRemaining
    }

    package func asOf(_ today: CalendarDate) -> MedicationRecord {
        var record = self
        record.daysRemaining = Self.daysRemaining(supply: daysSupply, dispensed: date, today: today)
        return record
    }
}

/// A traditional Chinese medicine prescription (中醫用藥).
package struct TCMRecord: MedicalRecord {
    package static var category: RecordCategory { .tcm }
    package var date: String
    package var institution: String
    package var formula: String
    package var daysSupply: Int
    package var daysRemaining: Int
    package init(date: String, institution: String, formula: String, daysSupply: Int, daysRemaining: Int) {
        self.date = date
        self.institution = institution
        self.formula = formula
        self.daysSupply = daysSupply
        self.daysRemaining = daysRemaining
    }

    package func asOf(_ today: CalendarDate) -> TCMRecord {
        var record = self
        record.daysRemaining = Self.daysRemaining(supply: daysSupply, dispensed: date, today: today)
        return record
    }
}

package struct AllergyRecord: MedicalRecord {
    package static var category: RecordCategory { .allergies }
    package var date: String
    package var substance: String
    /// The ATC code of the drug, when the allergy is to one.
    package var atcCode: String?
    package var reaction: String
    /// `mild`, `moderate` or `severe`.
    package var severity: String
    package init(date: String, substance: String, atcCode: String?, reaction: String, severity: String) {
        self.date = date
        self.substance = substance
        self.atcCode = atcCode
        self.reaction = reaction
        self.severity = severity
    }
}

/// A laboratory result with its reference range.
package struct LabRecord: MedicalRecord {
    package static var category: RecordCategory { .labs }
    package var date: String
    package var institution: String
    package var test: String
    /// The LOINC code of the test.
    package var loinc: String
    package var value: Double
    package var unit: String
    package var referenceLow: Double?
    package var referenceHigh: Double?
    /// `low`, `normal` or `high` against the reference range.
    package var flag: String
    package init(
        date: String, institution: String, test: String, loinc: String, value: Double, unit: String,
        referenceLow: Double?, referenceHigh: Double?, flag: String
    ) {
        self.date = date
        self.institution = institution
        self.test = test
        self.loinc = loinc
        self.value = value
        self.unit = unit
        self.referenceLow = referenceLow
        self.referenceHigh = referenceHigh
        self.flag = flag
    }
}

package struct ImagingRecord: MedicalRecord {
    package static var category: RecordCategory { .imaging }
    package var date: String
    package var institution: String
    /// DICOM modality: `CR`, `CT`, `MR`, `US`, `MG`.
    package var modality: String
    package var bodySite: String
    package var report: String
    package init(date: String, institution: String, modality: String, bodySite: String, report: String) {
        self.date = date
        self.institution = institution
        self.modality = modality
        self.bodySite = bodySite
        self.report = report
    }
}

package struct SurgeryRecord: MedicalRecord {
    package static var category: RecordCategory { .surgeries }
    package var date: String
    package var institution: String
    package var procedure: String
    /// ICD-10-PCS code of the procedure.
    package var code: String
    package init(date: String, institution: String, procedure: String, code: String) {
        self.date = date
        self.institution = institution
        self.procedure = procedure
        self.code = code
    }
}

package struct DischargeRecord: MedicalRecord {
    package static var category: RecordCategory { .discharges }
    /// The discharge date; `admittedOn` the admission.
    package var date: String
    package var admittedOn: String
    package var institution: String
    /// ICD-10-CM code of the main diagnosis.
    package var diagnosisCode: String
    package var diagnosis: String
    package var summary: String
    package init(
        date: String, admittedOn: String, institution: String, diagnosisCode: String, diagnosis: String,
        summary: String
    ) {
        self.date = date
        self.admittedOn = admittedOn
        self.institution = institution
        self.diagnosisCode = diagnosisCode
        self.diagnosis = diagnosis
        self.summary = summary
    }
}

/// Preventive care and cancer screening (成人預防保健, 四癌篩檢).
package struct PreventiveRecord: MedicalRecord {
    package static var category: RecordCategory { .preventive }
    package var date: String
    package var institution: String
    package var service: String
    package var result: String
    package init(date: String, institution: String, service: String, result: String) {
        self.date = date
        self.institution = institution
        self.service = service
        self.result = result
    }
}
