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

/// One page of a category, newest first. `nextPage` is absent on the last page.
public struct RecordPage<Item: MedicalRecord>: Sendable, Codable, Equatable {
    public var category: RecordCategory
    public var page: Int
    public var pageSize: Int
    public var total: Int
    public var nextPage: Int?
    public var items: [Item]
    public init(category: RecordCategory, page: Int, pageSize: Int, total: Int, nextPage: Int?, items: [Item]) {
        self.category = category
        self.page = page
        self.pageSize = pageSize
        self.total = total
        self.nextPage = nextPage
        self.items = items
    }

    public static var defaultPageSize: Int { 20 }
    public static var maximumPageSize: Int { 100 }
}

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

/// `?page=N&pageSize=M` of a records request: pages count from 1; the size is 1 to 100, 20 when
/// absent. The cloud serves it and the station passes it on, so both read it here.
public struct RecordPaging: Sendable, Equatable {
    public let page: Int
    public let pageSize: Int
    public var offset: Int { (page - 1) * pageSize }

    /// From a query's values (`value(name)`); a bad one is the message that names it and its range.
    public init(value: (String) -> String?) throws(Malformed) {
        func number(_ name: String, default fallback: Int, in range: ClosedRange<Int>) throws(Malformed) -> Int {
            guard let text = value(name) else { return fallback }
            guard let number = Int(text), range.contains(number) else {
                throw Malformed(
                    description: "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            return number
        }
        page = try number("page", default: 1, in: 1...100_000)
        pageSize = try number("pageSize", default: 20, in: 1...100)
    }

    public struct Malformed: Error, CustomStringConvertible {
        public let description: String
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

/// A WHO ATC code: a letter, two digits, two letters, two digits (or a shorter level of the same).
public enum ATCCode {
    public static func isValid(_ code: String) -> Bool {
        let pattern: [Character] = ["L", "D", "D", "L", "L", "D", "D"]
        let characters = Array(code)
        guard [1, 3, 4, 5, 7].contains(characters.count) else { return false }
        return zip(characters, pattern).allSatisfy { character, kind in
            kind == "L" ? ("A"..."Z").contains(character) : ("0"..."9").contains(character)
        }
    }
}

/// One page of any category, typed: what a client of `/v1/visits/{grant}/records/{category}` decodes
/// the answer into (the category says which record shape), and what it can re-encode or convert.
public enum CategoryPage: Sendable, Equatable, Encodable {
    case medications(RecordPage<MedicationRecord>)
    case tcm(RecordPage<TCMRecord>)
    case allergies(RecordPage<AllergyRecord>)
    case labs(RecordPage<LabRecord>)
    case imaging(RecordPage<ImagingRecord>)
    case surgeries(RecordPage<SurgeryRecord>)
    case discharges(RecordPage<DischargeRecord>)
    case preventive(RecordPage<PreventiveRecord>)

    /// Decodes `json` as a page of `category`; a page that names another category is refused.
    public init(category: RecordCategory, json: Data) throws {
        let decoder = JSONDecoder()
        switch category {
        case .medications: self = .medications(try decoder.decode(RecordPage<MedicationRecord>.self, from: json))
        case .tcm: self = .tcm(try decoder.decode(RecordPage<TCMRecord>.self, from: json))
        case .allergies: self = .allergies(try decoder.decode(RecordPage<AllergyRecord>.self, from: json))
        case .labs: self = .labs(try decoder.decode(RecordPage<LabRecord>.self, from: json))
        case .imaging: self = .imaging(try decoder.decode(RecordPage<ImagingRecord>.self, from: json))
        case .surgeries: self = .surgeries(try decoder.decode(RecordPage<SurgeryRecord>.self, from: json))
        case .discharges: self = .discharges(try decoder.decode(RecordPage<DischargeRecord>.self, from: json))
        case .preventive: self = .preventive(try decoder.decode(RecordPage<PreventiveRecord>.self, from: json))
        }
        guard self.category == category else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: [], debugDescription: "a page of \(self.category.rawValue), not \(category.rawValue)")
            )
        }
    }

    public var category: RecordCategory {
        switch self {
        case .medications(let page): page.category
        case .tcm(let page): page.category
        case .allergies(let page): page.category
        case .labs(let page): page.category
        case .imaging(let page): page.category
        case .surgeries(let page): page.category
        case .discharges(let page): page.category
        case .preventive(let page): page.category
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .medications(let page): try page.encode(to: encoder)
        case .tcm(let page): try page.encode(to: encoder)
        case .allergies(let page): try page.encode(to: encoder)
        case .labs(let page): try page.encode(to: encoder)
        case .imaging(let page): try page.encode(to: encoder)
        case .surgeries(let page): try page.encode(to: encoder)
        case .discharges(let page): try page.encode(to: encoder)
        case .preventive(let page): try page.encode(to: encoder)
        }
    }
}
