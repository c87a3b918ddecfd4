import CloudProtocol
import Foundation

/// A page of a visit's records as a FHIR R4 Bundle (type `collection`) following TW Core IG: the patient
/// (national ID under `http://www.moi.gov.tw`, resident numbers under `http://www.immigration.gov.tw`),
/// the requesting institution (its code under TW Core's organization identifier system), one
/// Organization per institution named in the records, and one resource per record. Every reference is a
/// `urn:uuid:` full URL of an entry in the same bundle.
///
/// Written by hand: no package this project can use builds FHIR resources in Swift. The JSON is built
/// from the typed records, never from text the cloud chose as markup; strings stay strings.
package enum FHIRBundle {
    /// Who the records are of, as the station's session knows them.
    package struct Patient: Sendable {
        package var id: String
        package var name: String
        /// `YYYY-MM-DD`.
        package var birthDate: String
        /// `M` or `F` from the cloud's card data; nil when not known.
        package var sex: String?
        package init(id: String, name: String, birthDate: String, sex: String?) {
            self.id = id
            self.name = name
            self.birthDate = birthDate
            self.sex = sex
        }
    }

    static let twCore = "https://twcore.mohw.gov.tw/ig/twcore/StructureDefinition/"
    package static let nationalIDSystem = "http://www.moi.gov.tw"
    package static let residentNumberSystem = "http://www.immigration.gov.tw"
    package static let organizationIdentifierSystem =
        "https://twcore.mohw.gov.tw/ig/twcore/CodeSystem/organization-identifier-tw"
    static let identifierTypes = "http://terminology.hl7.org/CodeSystem/v2-0203"

    /// The bundle for `page`, read by `institution` (its 10-digit code) for `patient`.
    package static func make(_ page: CategoryPage, patient: Patient, institution: String) -> JSONValue {
        var builder = Builder(patient: patient)
        let patientReference = builder.add(patientResource(patient))
        _ = builder.add(
            [
                "resourceType": "Organization", "meta": profile("Organization-twcore"),
                "identifier": [
                    [
                        "use": "official",
                        "type": ["coding": [["system": .string(identifierTypes), "code": "PRN"]]],
                        "system": .string(organizationIdentifierSystem), "value": .string(institution),
                    ]
                ],
            ])
        for record in records(page) { builder.addRecord(record, patient: patientReference) }
        let bundle: JSONValue = [
            "resourceType": "Bundle", "type": "collection",
            "timestamp": .string(ISO8601DateFormatter().string(from: Date())),
            "entry": .array(builder.entries),
        ]
        // FHIR has no empty strings, arrays or objects: a record's empty field (a unitless result) is left out.
        return bundle.pruned ?? [:]
    }

    static func profile(_ name: String) -> JSONValue { ["profile": [.string(twCore + name)]] }

    static func patientResource(_ patient: Patient) -> JSONValue {
        let resident = isResidentNumber(patient.id)
        var resource: [String: JSONValue] = [
            "resourceType": "Patient", "meta": profile("Patient-twcore"),
            "identifier": [
                [
                    "use": "official",
                    "type": ["coding": [["system": .string(identifierTypes), "code": resident ? "PRC" : "NNxxx"]]],
                    "system": .string(resident ? residentNumberSystem : nationalIDSystem), "value": .string(patient.id),
                ]
            ],
            "name": [["use": "official", "text": .string(patient.name)]],
            "birthDate": .string(patient.birthDate),
        ]
        switch patient.sex {
        case "M": resource["gender"] = "male"
        case "F": resource["gender"] = "female"
        default: resource["gender"] = "unknown"
        }
        return .object(resource)
    }

    /// A resident certificate number: a second character of 8 or 9 (new) or A–D (old), where a
    /// national ID has 1 or 2.
    static func isResidentNumber(_ id: String) -> Bool {
        guard id.count == 10 else { return false }
        let second = id[id.index(after: id.startIndex)]
        return !(second == "1" || second == "2")
    }

    /// A record in the shape the builder turns into a resource.
    enum Record {
        case medication(MedicationRecord)
        case tcm(TCMRecord)
        case allergy(AllergyRecord)
        case lab(LabRecord)
        case imaging(ImagingRecord)
        case surgery(SurgeryRecord)
        case discharge(DischargeRecord)
        case preventive(PreventiveRecord)
    }

    static func records(_ page: CategoryPage) -> [Record] {
        switch page {
        case .medications(let page): page.items.map(Record.medication)
        case .tcm(let page): page.items.map(Record.tcm)
        case .allergies(let page): page.items.map(Record.allergy)
        case .labs(let page): page.items.map(Record.lab)
        case .imaging(let page): page.items.map(Record.imaging)
        case .surgeries(let page): page.items.map(Record.surgery)
        case .discharges(let page): page.items.map(Record.discharge)
        case .preventive(let page): page.items.map(Record.preventive)
        }
    }

    /// Collects the entries, giving each a `urn:uuid:` full URL, and one Organization per name.
    struct Builder {
        let patient: Patient
        var entries: [JSONValue] = []
        var organizations: [String: String] = [:]

        init(patient: Patient) { self.patient = patient }

        mutating func add(_ resource: JSONValue) -> JSONValue {
            let url = "urn:uuid:" + UUID().uuidString.lowercased()
            entries.append(["fullUrl": .string(url), "resource": resource])
            return ["reference": .string(url)]
        }

        mutating func organization(named name: String) -> JSONValue {
            if let url = organizations[name] { return ["reference": .string(url), "display": .string(name)] }
            let reference = add([
                "resourceType": "Organization", "meta": profile("Organization-twcore"), "name": .string(name),
            ])
            organizations[name] = reference["reference"]?.string
            return ["reference": reference["reference"] ?? .null, "display": .string(name)]
        }

        mutating func addRecord(_ record: Record, patient subject: JSONValue) {
            switch record {
            case .medication(let m):
                let source = organization(named: m.institution)
                _ = add(
                    [
                        "resourceType": "MedicationStatement", "meta": profile("MedicationStatement-twcore"),
                        "status": m.daysRemaining > 0 ? "active" : "completed",
                        "medicationCodeableConcept": [
                            "coding": [["system": "http://www.whocc.no/atc", "code": .string(m.atcCode)]],
                            "text": .string(m.name),
                        ],
                        "subject": subject, "informationSource": source,
                        "effectivePeriod": [
                            "start": .string(m.date), "end": .string(Self.day(m.date, plus: m.daysSupply - 1)),
                        ],
                        "dosage": [["text": .string(m.dose + (m.chronic ? " (慢性病連續處方箋)" : ""))]],
                        "note": [["text": .string("\(m.daysRemaining) of \(m.daysSupply) days of supply left")]],
                    ])
            case .tcm(let t):
                let source = organization(named: t.institution)
                _ = add(
                    [
                        "resourceType": "MedicationStatement", "meta": profile("MedicationStatement-twcore"),
                        "status": t.daysRemaining > 0 ? "active" : "completed",
                        "medicationCodeableConcept": ["text": .string(t.formula)],
                        "subject": subject, "informationSource": source,
                        "effectivePeriod": [
                            "start": .string(t.date), "end": .string(Self.day(t.date, plus: t.daysSupply - 1)),
                        ],
                        "note": [["text": .string("\(t.daysRemaining) of \(t.daysSupply) days of supply left")]],
                    ])
            case .allergy(let a):
                var code: [String: JSONValue] = ["text": .string(a.substance)]
                if let atc = a.atcCode {
                    code["coding"] = [["system": "http://www.whocc.no/atc", "code": .string(atc)]]
                }
                _ = add(
                    [
                        "resourceType": "AllergyIntolerance", "meta": profile("AllergyIntolerance-twcore"),
                        "clinicalStatus": [
                            "coding": [
                                [
                                    "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                                    "code": "active",
                                ]
                            ]
                        ],
                        "verificationStatus": [
                            "coding": [
                                [
                                    "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
                                    "code": "confirmed",
                                ]
                            ]
                        ],
                        "code": .object(code), "patient": subject, "recordedDate": .string(a.date),
                        "criticality": a.severity == "severe" ? "high" : "low",
                        "reaction": [
                            [
                                "manifestation": [["text": .string(a.reaction)]],
                                "severity": .string(
                                    ["mild", "moderate", "severe"].contains(a.severity) ? a.severity : "moderate"),
                            ]
                        ],
                    ])
            case .lab(let l):
                let performer = organization(named: l.institution)
                var range: [String: JSONValue] = [:]
                if let low = l.referenceLow { range["low"] = ["value": .number(low), "unit": .string(l.unit)] }
                if let high = l.referenceHigh { range["high"] = ["value": .number(high), "unit": .string(l.unit)] }
                let interpretation: String = ["low": "L", "high": "H"][l.flag] ?? "N"
                var resource: [String: JSONValue] = [
                    "resourceType": "Observation", "meta": profile("Observation-laboratoryResult-twcore"),
                    "status": "final",
                    "category": [
                        [
                            "coding": [
                                [
                                    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                    "code": "laboratory",
                                ]
                            ]
                        ]
                    ],
                    "code": [
                        "coding": [["system": "http://loinc.org", "code": .string(l.loinc)]], "text": .string(l.test),
                    ],
                    "subject": subject, "effectiveDateTime": .string(l.date), "performer": [performer],
                    "valueQuantity": ["value": .number(l.value), "unit": .string(l.unit)],
                    "interpretation": [
                        [
                            "coding": [
                                [
                                    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                                    "code": .string(interpretation),
                                ]
                            ]
                        ]
                    ],
                ]
                if !range.isEmpty { resource["referenceRange"] = [.object(range)] }
                _ = add(.object(resource))
            case .imaging(let i):
                let performer = organization(named: i.institution)
                _ = add(
                    [
                        "resourceType": "DiagnosticReport", "meta": profile("DiagnosticReport-twcore"),
                        "status": "final",
                        "category": [
                            [
                                "coding": [
                                    ["system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "RAD"]
                                ]
                            ]
                        ],
                        "code": ["text": .string("\(i.modality) \(i.bodySite)")],
                        "subject": subject, "effectiveDateTime": .string(i.date), "performer": [performer],
                        "conclusion": .string(i.report),
                    ])
            case .surgery(let s):
                let performer = organization(named: s.institution)
                _ = add(
                    [
                        "resourceType": "Procedure", "meta": profile("Procedure-twcore"), "status": "completed",
                        "code": [
                            "coding": [
                                ["system": "http://www.cms.gov/Medicare/Coding/ICD10", "code": .string(s.code)]
                            ],
                            "text": .string(s.procedure),
                        ],
                        "subject": subject, "performedDateTime": .string(s.date),
                        "performer": [["actor": performer]],
                    ])
            case .discharge(let d):
                let provider = organization(named: d.institution)
                _ = add(
                    [
                        "resourceType": "Encounter", "meta": profile("Encounter-twcore"), "status": "finished",
                        "class": [
                            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP",
                            "display": "inpatient encounter",
                        ],
                        "subject": subject, "period": ["start": .string(d.admittedOn), "end": .string(d.date)],
                        "reasonCode": [
                            [
                                "coding": [
                                    ["system": "http://hl7.org/fhir/sid/icd-10-cm", "code": .string(d.diagnosisCode)]
                                ],
                                "text": .string(d.diagnosis),
                            ]
                        ],
                        "hospitalization": ["dischargeDisposition": ["text": .string(d.summary)]],
                        "serviceProvider": provider,
                    ])
            case .preventive(let p):
                let performer = organization(named: p.institution)
                _ = add(
                    [
                        "resourceType": "Procedure", "meta": profile("Procedure-twcore"), "status": "completed",
                        "category": ["text": "preventive care (成人預防保健、癌症篩檢)"],
                        "code": ["text": .string(p.service)], "subject": subject,
                        "performedDateTime": .string(p.date), "performer": [["actor": performer]],
                        "outcome": ["text": .string(p.result)],
                    ])
            }
        }

        /// `date` plus `days`, `YYYY-MM-DD` (calendar arithmetic in UTC on a date without time).
        static func day(_ date: String, plus days: Int) -> String {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "yyyy-MM-dd"
            guard let start = formatter.date(from: date) else { return date }
            return formatter.string(from: start.addingTimeInterval(Double(max(0, days)) * 86_400))
        }
    }
}

/// A JSON value: what the FHIR builder writes. Keys are sorted on output, so a bundle encodes the same
/// way every time.
package indirect enum JSONValue: Sendable, Equatable, Encodable, ExpressibleByStringLiteral,
    ExpressibleByDictionaryLiteral, ExpressibleByArrayLiteral
{
    case string(String)
    case number(Double)
    case bool(Bool)
    case array([JSONValue])
    case object([String: JSONValue])
    case null

    package init(stringLiteral value: String) { self = .string(value) }
    package init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { $1 }))
    }
    package init(arrayLiteral elements: JSONValue...) { self = .array(elements) }

    package subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    /// Without empty strings, arrays and objects, at any depth; nil when nothing is left.
    package var pruned: JSONValue? {
        switch self {
        case .string(let text): return text.isEmpty ? nil : self
        case .array(let items):
            let kept = items.compactMap(\.pruned)
            return kept.isEmpty ? nil : .array(kept)
        case .object(let object):
            let kept = object.compactMapValues(\.pruned)
            return kept.isEmpty ? nil : .object(kept)
        case .number, .bool, .null: return self
        }
    }

    package var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let text): try container.encode(text)
        case .number(let number): try container.encode(number)
        case .bool(let flag): try container.encode(flag)
        case .array(let items): try container.encode(items)
        case .object(let object): try container.encode(object)
        case .null: try container.encodeNil()
        }
    }
}
