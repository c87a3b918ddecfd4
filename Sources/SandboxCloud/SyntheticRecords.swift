import CloudProtocol
import Foundation
import VirtualCard

/// MediCloud-like records for a synthetic patient, made once (at `init` or `patient add`) and stored:
/// medications (some chronic, some still in supply, some pairs that interact), TCM, allergies, labs
/// with reference ranges, imaging reports, surgeries, discharge summaries and preventive care.
enum SyntheticRecords {
    struct Drug {
        var atc: String, name: String, dose: String, chronic: Bool
    }

    static let formulary: [Drug] = [
        Drug(atc: "M01AE01", name: "Ibuprofen 400 mg", dose: "1 tab TID PC", chronic: false),
        Drug(atc: "M01AB05", name: "Diclofenac 50 mg", dose: "1 tab BID PC", chronic: false),
        Drug(atc: "B01AA03", name: "Warfarin 5 mg", dose: "1 tab QD", chronic: true),
        Drug(atc: "B01AF01", name: "Rivaroxaban 20 mg", dose: "1 tab QD", chronic: true),
        Drug(atc: "C01BD01", name: "Amiodarone 200 mg", dose: "1 tab QD", chronic: true),
        Drug(atc: "C10AA01", name: "Simvastatin 20 mg", dose: "1 tab HS", chronic: true),
        Drug(atc: "C10AA05", name: "Atorvastatin 20 mg", dose: "1 tab QD", chronic: true),
        Drug(atc: "J01FA09", name: "Clarithromycin 500 mg", dose: "1 tab BID", chronic: false),
        Drug(atc: "C09AA02", name: "Enalapril 10 mg", dose: "1 tab QD", chronic: true),
        Drug(atc: "C03DA01", name: "Spironolactone 25 mg", dose: "1 tab QD", chronic: true),
        Drug(atc: "G04BE03", name: "Sildenafil 50 mg", dose: "1 tab PRN", chronic: false),
        Drug(atc: "C01DA08", name: "Isosorbide dinitrate 10 mg", dose: "1 tab TID", chronic: true),
        Drug(atc: "B01AC04", name: "Clopidogrel 75 mg", dose: "1 tab QD", chronic: true),
        Drug(atc: "A02BC01", name: "Omeprazole 20 mg", dose: "1 cap QD AC", chronic: false),
        Drug(atc: "N06AB06", name: "Sertraline 50 mg", dose: "1 tab QD", chronic: true),
        Drug(atc: "N02AX02", name: "Tramadol 50 mg", dose: "1 cap Q6H PRN", chronic: false),
        Drug(atc: "A10BA02", name: "Metformin 500 mg", dose: "1 tab BID PC", chronic: true),
        Drug(atc: "C08CA01", name: "Amlodipine 5 mg", dose: "1 tab QD", chronic: true),
        Drug(atc: "N02BE01", name: "Acetaminophen 500 mg", dose: "1 tab Q6H PRN", chronic: false),
        Drug(atc: "R06AE07", name: "Cetirizine 10 mg", dose: "1 tab QD", chronic: false),
        Drug(atc: "L04AX03", name: "Methotrexate 2.5 mg", dose: "3 tab QW", chronic: true),
        Drug(atc: "J01EE01", name: "Sulfamethoxazole/Trimethoprim 400/80 mg", dose: "2 tab BID", chronic: false),
    ]

    static let dispensers = ["沙盒聯合醫院", "沙盒社區藥局", "沙盒家庭醫學診所", "沙盒區域醫院"]

    struct Lab {
        var test: String, loinc: String, unit: String, low: Double?, high: Double?, range: ClosedRange<Double>
    }
    static let labs: [Lab] = [
        Lab(test: "Glucose, fasting", loinc: "1558-6", unit: "mg/dL", low: 70, high: 99, range: 72...180),
        Lab(test: "Hemoglobin A1c", loinc: "4548-4", unit: "%", low: 4, high: 5.6, range: 4.8...9.5),
        Lab(test: "Creatinine", loinc: "2160-0", unit: "mg/dL", low: 0.6, high: 1.2, range: 0.5...2.4),
        Lab(test: "LDL cholesterol", loinc: "13457-7", unit: "mg/dL", low: nil, high: 130, range: 60...190),
        Lab(test: "Hemoglobin", loinc: "718-7", unit: "g/dL", low: 12, high: 16, range: 9.5...16.5),
        Lab(test: "ALT", loinc: "1742-6", unit: "U/L", low: 0, high: 40, range: 10...95),
        Lab(test: "Potassium", loinc: "2823-3", unit: "mmol/L", low: 3.5, high: 5.1, range: 3.2...5.8),
        Lab(test: "INR", loinc: "6301-6", unit: "", low: 0.8, high: 1.2, range: 0.9...3.2),
    ]

    static func make(
        for patient: SandboxManifest.Patient, today: CalendarDate, using generator: inout some RandomNumberGenerator
    ) -> [StoredRecord] {
        var records: [StoredRecord] = []
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        func add(_ category: RecordCategory, _ date: CalendarDate, _ record: some Encodable) {
            let json = (try? encoder.encode(record)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            records.append(StoredRecord(category: category, date: date.iso, json: json))
        }
        func daysAgo(_ range: ClosedRange<Int>) -> CalendarDate {
            CalendarDate(taipeiDateAt: today.taipeiMidnight - Int64(Int.random(in: range, using: &generator)) * 86_400)
        }
        func place() -> String { dispensers.randomElement(using: &generator)! }

        for drug in formulary.shuffled(using: &generator).prefix(Int.random(in: 2...7, using: &generator)) {
            let supply = drug.chronic ? 28 : Int.random(in: 3...7, using: &generator)
            let date = daysAgo(drug.chronic ? 0...40 : 0...60)
            add(
                .medications, date,
                MedicationRecord(
                    date: date.iso, institution: place(), atcCode: drug.atc, name: drug.name, dose: drug.dose,
                    daysSupply: supply, daysRemaining: 0, chronic: drug.chronic,
                    refillsRemaining: drug.chronic ? Int.random(in: 0...2, using: &generator) : 0))
        }
        let formulas = ["加味逍遙散 Jia Wei Xiao Yao San", "六味地黃丸 Liu Wei Di Huang Wan", "小青龍湯 Xiao Qing Long Tang"]
        for formula in formulas.shuffled(using: &generator).prefix(Int.random(in: 0...2, using: &generator)) {
            let date = daysAgo(0...90)
            add(
                .tcm, date,
                TCMRecord(date: date.iso, institution: "沙盒中醫診所", formula: formula, daysSupply: 7, daysRemaining: 0))
        }
        let allergies = [
            ("Penicillin", "J01CE01", "rash", "moderate"), ("Aspirin", "N02BA01", "urticaria", "mild"),
            ("Sulfonamides", "J01EC", "Stevens-Johnson syndrome", "severe"), ("Shellfish", nil, "angioedema", "severe"),
        ]
        for (substance, atc, reaction, severity) in allergies.shuffled(using: &generator).prefix(
            Int.random(in: 0...2, using: &generator))
        {
            let date = daysAgo(100...2000)
            add(
                .allergies, date,
                AllergyRecord(
                    date: date.iso, substance: substance, atcCode: atc, reaction: reaction, severity: severity))
        }
        for lab in labs.shuffled(using: &generator).prefix(Int.random(in: 3...8, using: &generator)) {
            let date = daysAgo(0...365)
            let value = (Double.random(in: lab.range, using: &generator) * 10).rounded() / 10
            let flag =
                lab.low.map { value < $0 } == true ? "low" : lab.high.map { value > $0 } == true ? "high" : "normal"
            add(
                .labs, date,
                LabRecord(
                    date: date.iso, institution: place(), test: lab.test, loinc: lab.loinc, value: value,
                    unit: lab.unit,
                    referenceLow: lab.low, referenceHigh: lab.high, flag: flag))
        }
        let studies = [
            ("CR", "Chest", "No active lung lesion. Heart size normal."),
            ("US", "Abdomen", "Mild fatty liver. No focal lesion."),
            ("CT", "Brain", "No intracranial haemorrhage or mass effect."),
            ("MR", "Lumbar spine", "L4-5 disc bulging without nerve root compression."),
        ]
        for (modality, site, report) in studies.shuffled(using: &generator).prefix(
            Int.random(in: 0...2, using: &generator))
        {
            let date = daysAgo(10...700)
            add(
                .imaging, date,
                ImagingRecord(date: date.iso, institution: "沙盒聯合醫院", modality: modality, bodySite: site, report: report)
            )
        }
        let surgeries = [
            ("Laparoscopic cholecystectomy", "0FT44ZZ"), ("Cataract phacoemulsification with lens implant", "08RJ3JZ"),
            ("Total knee replacement, right", "0SRC0J9"), ("Laparoscopic appendectomy", "0DTJ4ZZ"),
        ]
        for (procedure, code) in surgeries.shuffled(using: &generator).prefix(Int.random(in: 0...1, using: &generator))
        {
            let date = daysAgo(200...3000)
            add(
                .surgeries, date, SurgeryRecord(date: date.iso, institution: "沙盒聯合醫院", procedure: procedure, code: code)
            )
        }
        let discharges = [
            (
                "J18.9", "Pneumonia, unspecified organism",
                "Treated with IV antibiotics for 7 days; afebrile at discharge."
            ),
            ("I50.9", "Heart failure, unspecified", "Diuresed 3 kg; discharged on optimised oral therapy."),
            (
                "J44.1", "COPD with acute exacerbation",
                "Nebulised bronchodilators and oral steroids; SpO2 95% on room air."
            ),
        ]
        for (code, diagnosis, summary) in discharges.shuffled(using: &generator).prefix(
            Int.random(in: 0...1, using: &generator))
        {
            let discharged = daysAgo(30...900)
            let admitted = CalendarDate(
                taipeiDateAt: discharged.taipeiMidnight - Int64(Int.random(in: 3...10, using: &generator)) * 86_400)
            add(
                .discharges, discharged,
                DischargeRecord(
                    date: discharged.iso, admittedOn: admitted.iso, institution: "沙盒區域醫院", diagnosisCode: code,
                    diagnosis: diagnosis, summary: summary))
        }
        var services = [
            ("成人預防保健 Adult preventive health check", "Completed; BMI 24.1, BP 128/82"),
            ("糞便潛血檢查 Faecal immunochemical test", "Negative"), ("口腔黏膜檢查 Oral mucosa screening", "No lesion"),
        ]
        if patient.sex == .female {
            services += [("子宮頸抹片 Pap smear", "Negative for intraepithelial lesion"), ("乳房攝影 Mammography", "BI-RADS 1")]
        }
        for (service, result) in services.shuffled(using: &generator).prefix(Int.random(in: 0...3, using: &generator)) {
            let date = daysAgo(30...1000)
            add(
                .preventive, date,
                PreventiveRecord(date: date.iso, institution: "沙盒家庭醫學診所", service: service, result: result))
        }
        return records
    }
}
