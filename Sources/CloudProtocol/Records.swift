import Foundation
import VirtualCard

/// The MediCloud-like record categories a grant reads (cloud-protocol.md §4). The protocol fixes the
/// categories; the shapes below are the project's (docs/cloud-openapi.yaml), shared by the cloud and
/// the station's client.
public enum RecordCategory: String, Sendable, Codable, CaseIterable, Hashable {
    case medications, tcm, allergies, labs, imaging, surgeries, discharges, preventive

    /// The item type a page of this category carries.
    public var recordType: any MedicalRecord.Type {
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
public protocol MedicalRecord: Codable, Sendable, Equatable {
    static var category: RecordCategory { get }
    /// `YYYY-MM-DD`: the order of a category is newest first by this date.
    var date: String { get }
    func asOf(_ today: CalendarDate) -> Self
}

extension MedicalRecord {
    public func asOf(_ today: CalendarDate) -> Self { self }

    /// Days of a supply dispensed on `date` left on `today` (the day of dispensing counts as day one).
    static func daysRemaining(supply: Int, dispensed date: String, today: CalendarDate) -> Int {
        guard let dispensed = CalendarDate(iso: date) else { return 0 }
        let elapsed = Int((today.taipeiMidnight - dispensed.taipeiMidnight) / 86_400)
        return max(0, min(supply, supply - elapsed))
    }
}

/// A prescription dispensed to the patient, with what is left of it today.
public struct MedicationRecord: MedicalRecord {
    public static var category: RecordCategory { .medications }
    /// `YYYY-MM-DD`, when it was dispensed.
    public var date: String
    public var institution: String
    /// The WHO ATC code (7 characters).
    public var atcCode: String
    public var name: String
    public var dose: String
    public var daysSupply: Int
    /// Days of supply left today; 0 once used up.
    public var daysRemaining: Int
    /// A chronic-illness continuous prescription (慢性病連續處方箋).
    public var chronic: Bool
    /// Refills left on a chronic prescription.
    public var refillsRemaining: Int
    public init(
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

    public func asOf(_ today: CalendarDate) -> MedicationRecord {
        var record = self
        record.daysRemaining = Self.daysRemaining(supply: daysSupply, dispensed: date, today: today)
        return record
    }
}

/// A traditional Chinese medicine prescription (中醫用藥).
public struct TCMRecord: MedicalRecord {
    public static var category: RecordCategory { .tcm }
    public var date: String
    public var institution: String
    public var formula: String
    public var daysSupply: Int
    public var daysRemaining: Int
    public init(date: String, institution: String, formula: String, daysSupply: Int, daysRemaining: Int) {
        self.date = date
        self.institution = institution
        self.formula = formula
        self.daysSupply = daysSupply
        self.daysRemaining = daysRemaining
    }

    public func asOf(_ today: CalendarDate) -> TCMRecord {
        var record = self
        record.daysRemaining = Self.daysRemaining(supply: daysSupply, dispensed: date, today: today)
        return record
    }
}

public struct AllergyRecord: MedicalRecord {
    public static var category: RecordCategory { .allergies }
    public var date: String
    public var substance: String
    /// The ATC code of the drug, when the allergy is to one.
    public var atcCode: String?
    public var reaction: String
    /// `mild`, `moderate` or `severe`.
    public var severity: String
    public init(date: String, substance: String, atcCode: String?, reaction: String, severity: String) {
        self.date = date
        self.substance = substance
        self.atcCode = atcCode
        self.reaction = reaction
        self.severity = severity
    }
}

/// A laboratory result with its reference range.
public struct LabRecord: MedicalRecord {
    public static var category: RecordCategory { .labs }
    public var date: String
    public var institution: String
    public var test: String
    /// The LOINC code of the test.
    public var loinc: String
    public var value: Double
    public var unit: String
    public var referenceLow: Double?
    public var referenceHigh: Double?
    /// `low`, `normal` or `high` against the reference range.
    public var flag: String
    public init(
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

public struct ImagingRecord: MedicalRecord {
    public static var category: RecordCategory { .imaging }
    public var date: String
    public var institution: String
    /// DICOM modality: `CR`, `CT`, `MR`, `US`, `MG`.
    public var modality: String
    public var bodySite: String
    public var report: String
    public init(date: String, institution: String, modality: String, bodySite: String, report: String) {
        self.date = date
        self.institution = institution
        self.modality = modality
        self.bodySite = bodySite
        self.report = report
    }
}

public struct SurgeryRecord: MedicalRecord {
    public static var category: RecordCategory { .surgeries }
    public var date: String
    public var institution: String
    public var procedure: String
    /// ICD-10-PCS code of the procedure.
    public var code: String
    public init(date: String, institution: String, procedure: String, code: String) {
        self.date = date
        self.institution = institution
        self.procedure = procedure
        self.code = code
    }
}

public struct DischargeRecord: MedicalRecord {
    public static var category: RecordCategory { .discharges }
    /// The discharge date; `admittedOn` the admission.
    public var date: String
    public var admittedOn: String
    public var institution: String
    /// ICD-10-CM code of the main diagnosis.
    public var diagnosisCode: String
    public var diagnosis: String
    public var summary: String
    public init(
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
public struct PreventiveRecord: MedicalRecord {
    public static var category: RecordCategory { .preventive }
    public var date: String
    public var institution: String
    public var service: String
    public var result: String
    public init(date: String, institution: String, service: String, result: String) {
        self.date = date
        self.institution = institution
        self.service = service
        self.result = result
    }
}
