import Foundation

/// One page of any category, typed: what a client of `/v1/visits/{grant}/records/{category}` decodes
/// the answer into (the category says which record shape), and what it can re-encode or convert.
package enum CategoryPage: Sendable, Equatable, Encodable {
    case medications(RecordPage<MedicationRecord>)
    case tcm(RecordPage<TCMRecord>)
    case allergies(RecordPage<AllergyRecord>)
    case labs(RecordPage<LabRecord>)
    case imaging(RecordPage<ImagingRecord>)
    case surgeries(RecordPage<SurgeryRecord>)
    case discharges(RecordPage<DischargeRecord>)
    case preventive(RecordPage<PreventiveRecord>)

    /// Decodes `json` as a page of `category`; a page that names another category is refused.
    package init(category: RecordCategory, json: Data) throws {
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

    package var category: RecordCategory {
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

    package func encode(to encoder: any Encoder) throws {
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
