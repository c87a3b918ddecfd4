import StationModels
import VirtualCard

/// The shapes public HIS code reads from NHIA's card control software (its JSON console), one type per
/// answer. Every answer is HTTP 200 with an integer `statusCode` (0: success): HIS code treats another
/// HTTP status as its own failure. The station adds `message`, its words for a person, which HIS code
/// ignores.
package struct HISPlainAnswer: Encodable, Sendable, Error {
    package var statusCode: HISStatusCode
    package var message: String?
    package init(_ statusCode: HISStatusCode, _ message: String? = nil) {
        self.statusCode = statusCode
        self.message = message
    }
}

/// `GET /api/common/v1/Status`: the console's readers as the station stands in for them.
package struct HISStatusAnswer: Encodable, Sendable {
    package struct Reader: Encodable, Sendable {
        package var status: Int
    }
    package struct Status: Encodable, Sendable {
        package var initialized: Bool
        /// 2: the institution's credential is there (the station forwards to a cloud); 0: it is not.
        package var sam: Reader
        /// 3: a practitioner is logged in to sign visits (the PIN verified); 0: nobody is.
        package var hpc: Reader
        /// 1: a card in the reader (a visit the station opened lately that the HIS has not taken); 0: none.
        package var hc: Reader
    }
    package var statusCode: HISStatusCode
    package var status: Status
}

/// `POST /api/hc/v1/VirtualHc/ReadBasic`: the holder as the console reads a card's basic data.
package struct HISBasicAnswer: Encodable, Sendable {
    package var statusCode: HISStatusCode
    /// The card number when the token carries one; empty otherwise (a photo-less or cardless holder).
    package var cardId: String
    package var name: String
    package var idNo: String
    /// ROC date, `yyyMMdd` (1980-05-12 is `0690512`).
    package var birthday: String
    /// `M` or `F`, from the ID number's second character (docs/his-compatibility.md); empty if it says neither.
    package var sex: String
    /// The cloud's insurance status for a visit it opened; empty before (a token read, not yet registered).
    package var identityStatus: String
    package var message: String?

    package init(
        holderID: String, name: String, birthDate: CalendarDate, cardNumber: String?, identityStatus: String?
    ) {
        statusCode = .success
        cardId = cardNumber ?? ""
        self.name = name
        idNo = holderID
        birthday = Self.rocDate(birthDate)
        sex = Self.sex(of: holderID)
        self.identityStatus = identityStatus ?? ""
    }

    /// The Minguo calendar's year (the Gregorian year less 1911), three digits, then month and day.
    static func rocDate(_ date: CalendarDate) -> String {
        func padded(_ value: Int, _ width: Int) -> String {
            String(repeating: "0", count: max(0, width - String(value).count)) + String(value)
        }
        return padded(date.year - 1911, 3) + padded(date.month, 2) + padded(date.day, 2)
    }

    /// The ID number's second character: 1 and 8 (new resident numbers) men, 2 and 9 women; an old
    /// resident number's second letter A or C men, B or D women.
    static func sex(of id: String) -> String {
        let characters = Array(id)
        guard characters.count == 10 else { return "" }
        switch characters[1] {
        case "1", "8", "A", "C": return "M"
        case "2", "9", "B", "D": return "F"
        default: return ""
        }
    }
}

/// A request that may carry a token (`ReadBasic`, `Verification/VirtualHc`): `{"token": "…"}`, or `{}` for
/// the card in the reader.
package struct HISTokenRequest: Decodable, Sendable {
    package var token: String?
}
