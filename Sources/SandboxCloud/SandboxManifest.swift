import CloudProtocol
import Foundation
import VirtualCard

/// `DIR/sandbox.json` (cloud-protocol.md §8): who the sandbox holds. The cloud reads it at start; the
/// `vhc-cloud enrol`, `affiliate` and `patient add` commands rewrite it. Checkers and HIS developers
/// read it to find an institution, a practitioner and patients to try.
package struct SandboxManifest: Codable, Sendable, Equatable {
    /// The token issuer the trust list names (`iss` of every token).
    package var issuer: String
    /// Epoch seconds when `vhc-cloud init` made the sandbox.
    package var createdAt: Int64
    package var institutions: [Institution]
    package var practitioners: [Practitioner]
    package var patients: [Patient]

    package struct Institution: Codable, Sendable, Equatable {
        /// 10 digits: the subject `serialNumber` of its certificate.
        package var code: String
        package var name: String
        package var settings: [CareSetting]
        package init(code: String, name: String, settings: [CareSetting]) {
            self.code = code
            self.name = name
            self.settings = settings
        }
    }

    package struct Practitioner: Codable, Sendable, Equatable {
        /// A Taiwan ID number: the subject `serialNumber` of their signing certificate.
        package var id: String
        package var name: String
        package var profession: Profession
        /// The codes of the institutions they are affiliated with (possibly none).
        package var institutions: [String]
        package init(id: String, name: String, profession: Profession, institutions: [String]) {
            self.id = id
            self.name = name
            self.profession = profession
            self.institutions = institutions
        }
    }

    package struct Patient: Codable, Sendable, Equatable {
        package var id: String
        package var name: String
        /// `YYYY-MM-DD`.
        package var birthDate: String
        package var sex: Sex
        /// 12 digits, or null for a card whose number the app does not show.
        package var cardNumber: String?
        package var photo: PhotoStatus
        package var insuranceStatus: InsuranceStatus
        /// `YYYY-MM-DD`.
        package var cardIssuedAt: String

        package init(
            id: String, name: String, birthDate: String, sex: Sex, cardNumber: String?, photo: PhotoStatus,
            insuranceStatus: InsuranceStatus, cardIssuedAt: String
        ) {
            self.id = id
            self.name = name
            self.birthDate = birthDate
            self.sex = sex
            self.cardNumber = cardNumber
            self.photo = photo
            self.insuranceStatus = insuranceStatus
            self.cardIssuedAt = cardIssuedAt
        }

        enum CodingKeys: String, CodingKey {
            case id, name, birthDate, sex, cardNumber, photo, insuranceStatus, cardIssuedAt
        }

        package func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(name, forKey: .name)
            try container.encode(birthDate, forKey: .birthDate)
            try container.encode(sex, forKey: .sex)
            try container.encode(cardNumber, forKey: .cardNumber)  // null, not absent
            try container.encode(photo, forKey: .photo)
            try container.encode(insuranceStatus, forKey: .insuranceStatus)
            try container.encode(cardIssuedAt, forKey: .cardIssuedAt)
        }
    }

    package func institution(_ code: String) -> Institution? { institutions.first { $0.code == code } }
    package func practitioner(_ id: String) -> Practitioner? { practitioners.first { $0.id == id } }
    package func patient(_ id: String) -> Patient? { patients.first { $0.id == id } }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    package func encoded() throws -> Data { try Self.encoder.encode(self) }
}

/// Synthetic people for a new sandbox: valid ID numbers (their check digit computed), names, birth
/// dates, card numbers. Random each time; what was made is written to `sandbox.json`.
enum SyntheticPeople {
    static let surnames = Array("陳林黃張李王吳劉蔡楊許鄭謝洪郭邱曾廖賴徐周葉蘇莊呂江何蕭羅高")
    static let givenCharacters = Array("志明美玲淑芬家豪怡君冠宇雅婷俊傑宗翰佳穎建宏麗華秀英文雄嘉慧承恩子涵宜蓁柏翰")

    static func name(using generator: inout some RandomNumberGenerator) -> String {
        String(surnames.randomElement(using: &generator)!) + String(givenCharacters.randomElement(using: &generator)!)
            + String(givenCharacters.randomElement(using: &generator)!)
    }

    /// A valid national ID number: a letter, 1 (male) or 2 (female), seven digits and the check digit.
    static func nationalID(sex: Sex, using generator: inout some RandomNumberGenerator) -> String {
        let letters = Array("ABCDEFGHJKLMNPQRSTUVXYWZIO")
        while true {
            let body =
                String(letters.randomElement(using: &generator)!) + (sex == .male ? "1" : "2")
                + (0..<7).map { _ in String(Int.random(in: 0...9, using: &generator)) }.joined()
            if let id = (0...9).map({ body + String($0) }).first(where: TaiwanID.isValid) { return id }
        }
    }

    /// A valid new-style resident number (8 for men, 9 for women), for foreign residents.
    static func residentID(sex: Sex, using generator: inout some RandomNumberGenerator) -> String {
        while true {
            let body =
                "F" + (sex == .male ? "8" : "9")
                + (0..<7).map { _ in String(Int.random(in: 0...9, using: &generator)) }
                .joined()
            if let id = (0...9).map({ body + String($0) }).first(where: TaiwanID.isValid) { return id }
        }
    }

    static func digits(_ count: Int, using generator: inout some RandomNumberGenerator) -> String {
        (0..<count).map { _ in String(Int.random(in: 0...9, using: &generator)) }.joined()
    }
}
