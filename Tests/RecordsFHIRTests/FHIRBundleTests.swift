import CloudProtocol
import Foundation
import RecordsFHIR
import TestSupport
import Testing
import VirtualCard

/// The FHIR output, checked by a maintained FHIR library (PyPI's fhir.resources, R4B models) through
/// Tests/tools/validate-fhir.py, for every category and for both kinds of ID number.
@Suite("records as FHIR R4 bundles following TW Core IG")
struct FHIRBundleTests {
    /// The interpreter with fhir.resources installed: scripts/test.sh makes `.build/fhir-venv`.
    static let python =
        ProcessInfo.processInfo.environment["VHC_FHIR_PYTHON"]
        ?? Command.packageRoot.appendingPathComponent(".build/fhir-venv/bin/python").path

    static let pages: [CategoryPage] = [
        .medications(
            page([
                MedicationRecord(
                    date: "2026-11-28", institution: "沙盒家庭醫學診所", atcCode: "B01AA03", name: "Warfarin 5 mg",
                    dose: "1 tab QD", daysSupply: 28, daysRemaining: 23, chronic: true, refillsRemaining: 1),
                MedicationRecord(
                    date: "2026-10-01", institution: "<b>診所</b>", atcCode: "M01AE01",
                    name: "<img src=x onerror=alert(1)>",
                    dose: "1 tab TID", daysSupply: 3, daysRemaining: 0, chronic: false, refillsRemaining: 0),
            ])),
        .tcm(
            page([
                TCMRecord(date: "2026-11-01", institution: "沙盒中醫診所", formula: "加味逍遙散", daysSupply: 7, daysRemaining: 0)
            ])),
        .allergies(
            page([
                AllergyRecord(
                    date: "2020-01-02", substance: "Penicillin", atcCode: "J01CE01", reaction: "urticaria",
                    severity: "severe"),
                AllergyRecord(
                    date: "2021-03-04", substance: "Peanut", atcCode: nil, reaction: "itch", severity: "mild"),
            ])),
        .labs(
            page([
                LabRecord(
                    date: "2026-11-20", institution: "沙盒區域醫院", test: "HbA1c", loinc: "4548-4", value: 7.2, unit: "%",
                    referenceLow: 4.0, referenceHigh: 5.6, flag: "high"),
                LabRecord(
                    date: "2026-11-20", institution: "沙盒區域醫院", test: "Creatinine", loinc: "2160-0", value: 0.9,
                    unit: "mg/dL", referenceLow: nil, referenceHigh: 1.3, flag: "normal"),
                // A ratio without a unit: FHIR has no empty strings, so the unit is left out.
                LabRecord(
                    date: "2026-11-20", institution: "沙盒區域醫院", test: "INR", loinc: "6301-6", value: 2.4, unit: "",
                    referenceLow: 2.0, referenceHigh: 3.0, flag: "normal"),
            ])),
        .imaging(
            page([
                ImagingRecord(
                    date: "2026-06-01", institution: "沙盒醫學中心", modality: "CT", bodySite: "chest", report: "No nodule.")
            ])),
        .surgeries(
            page([
                SurgeryRecord(date: "2019-05-05", institution: "沙盒醫學中心", procedure: "Appendectomy", code: "0DTJ4ZZ")
            ])),
        .discharges(
            page([
                DischargeRecord(
                    date: "2025-02-10", admittedOn: "2025-02-03", institution: "沙盒醫學中心", diagnosisCode: "J18.9",
                    diagnosis: "Pneumonia", summary: "Recovered; oral antibiotics for 5 days.")
            ])),
        .preventive(
            page([PreventiveRecord(date: "2026-03-03", institution: "沙盒衛生所", service: "成人預防保健", result: "normal")])),
    ]

    static func page<Item: MedicalRecord>(_ items: [Item]) -> RecordPage<Item> {
        RecordPage(category: Item.category, page: 1, pageSize: 20, total: items.count, nextPage: nil, items: items)
    }

    /// A valid ID number with `prefix` (9 characters) and the check digit that makes it valid.
    static func id(_ prefix: String) -> String {
        (0...9).map { prefix + String($0) }.first(where: TaiwanID.isValid)!
    }

    @Test("every category, a national ID and a resident number: valid R4B, references resolved, TW Core systems")
    func validatedByFHIRResources() throws {
        #expect(
            FileManager.default.isExecutableFile(atPath: Self.python),
            "no \(Self.python): scripts/test.sh installs fhir.resources there")
        let folder = try TemporaryFolder(prefix: "vhc-fhir")
        var arguments = [Command.packageRoot.appendingPathComponent("Tests/tools/validate-fhir.py").path]
        let patients = [
            FHIRBundle.Patient(id: Self.id("A12345678"), name: "王小明", birthDate: "1980-05-17", sex: "M"),
            FHIRBundle.Patient(id: Self.id("A80000001"), name: "Nguyen Thi Lan", birthDate: "1992-08-01", sex: "F"),
        ]
        for (index, patient) in patients.enumerated() {
            for page in Self.pages {
                let bundle = FHIRBundle.make(page, patient: patient, institution: "0123456789")
                let path = folder.path("\(page.category.rawValue)-\(index).json")
                try JSONEncoder().encode(bundle).write(to: URL(fileURLWithPath: path))
                arguments += [page.category.rawValue, path]
            }
        }
        let result = try Command.run(Self.python, arguments)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.split(separator: "\n").count == 16)
        #expect(!result.stdout.contains("INVALID"))
    }

    @Test("text from the records stays text, and the patient's identifier system follows the ID's kind")
    func structure() throws {
        let resident = FHIRBundle.make(
            Self.pages[0], patient: .init(id: Self.id("A80000001"), name: "X", birthDate: "1990-01-01", sex: nil),
            institution: "0123456789")
        let json = String(decoding: try JSONEncoder().encode(resident), as: UTF8.self)
        #expect(json.contains(#""system":"http:\/\/www.immigration.gov.tw""#))
        #expect(json.contains(#""gender":"unknown""#))
        // A name with markup is carried as a JSON string, escaped by the encoder, never interpreted.
        #expect(json.contains("onerror=alert(1)") && json.contains(#""resourceType":"MedicationStatement""#))
        let national = FHIRBundle.make(
            Self.pages[0], patient: .init(id: Self.id("A12345678"), name: "X", birthDate: "1990-01-01", sex: "M"),
            institution: "0123456789")
        let text = String(decoding: try JSONEncoder().encode(national), as: UTF8.self)
        #expect(text.contains(#""system":"http:\/\/www.moi.gov.tw""#) && text.contains(#""gender":"male""#))
        // Two medications from two institutions: two named Organizations and the requester's.
        guard case .array(let entries)? = national["entry"] else { Issue.record("no entries"); return }
        let organizations = entries.filter { $0["resource"]?["resourceType"] == "Organization" }
        #expect(organizations.count == 3)
    }
}
