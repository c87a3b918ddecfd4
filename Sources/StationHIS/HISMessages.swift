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

    /// A visit's holder, with what the cloud said of the card when it opened the visit; nil when its birth
    /// date is not a date (a row the station did not write).
    package init?(session: VisitSession) {
        guard let birth = CalendarDate(iso: session.holderBirthDate) else { return nil }
        self.init(
            holderID: session.holderID, name: session.holderName, birthDate: birth,
            cardNumber: session.cloud?.cardNumber, identityStatus: session.cloud?.insuranceStatus)
    }

    /// The Minguo calendar's year (the Gregorian year less 1911), three digits, then month and day.
    package static func rocDate(_ date: CalendarDate) -> String {
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

/// `POST /api/sam/v1/Signature`: the institution's bundle (the console's SAM), for telemedicine and the
/// data centre's calls.
package struct HISSamSignatureAnswer: Encodable, Sendable {
    package var statusCode: HISStatusCode
    package var clientRandom: String
    package var hospitalId: String
    package var samId: String
    package var signature: String
}

/// `POST /api/hc/v1/Signature/Hc`: the bundle over the card being registered, passed on to
/// `SequelNumber/Next`.
package struct HISCardSignatureAnswer: Encodable, Sendable {
    package var statusCode: HISStatusCode
    package var clientRandom: String
    package var hospitalId: String
    package var samId: String
    package var signature: String
    /// The card number (empty for a cardless holder), and the holder's ID number.
    package var hcId: String
    package var hcIdNo: String
}

/// `{"serviceType": "03"}`: which service the bundle is for (signed with it).
package struct HISSignatureRequest: Decodable, Sendable {
    package var serviceType: String?
}

/// `POST /api/v1/SequelNumber/Next`: the card's bundle as `Signature/Hc` gave it, and the registration's
/// 就醫類別 (`treatmentItem`), newborn mark and late-card mark, which the station records nowhere (the
/// cloud's protocol has no place for them) and echoes nothing of.
package struct HISSequenceRequest: Decodable, Sendable {
    package var serviceType: String?
    package var clientRandom: String
    package var hospitalId: String
    package var samId: String
    package var signature: String
    package var hcId: String?
    package var hcIdNo: String
    package var treatmentItem: String?
    package var babyTreatment: String?
    package var afterCheck: String?
}

/// The data centre's answer: the visit's sequence number from the cloud, and when it was registered.
package struct HISSequenceAnswer: Encodable, Sendable {
    package var statusCode: HISStatusCode
    /// ROC `yyyMMddHHmmss`, Asia/Taipei: when the visit opened.
    package var treatmentDateTime: String
    /// The cloud's visit sequence, four characters.
    package var sequenceNumber: String
    package var hospitalId: String
    /// The station's signature over the answer's fields.
    package var signature: String
    package var samId: String
    /// The holder had another visit at this institution earlier the same (Taipei) day.
    package var isSameDay: Bool
    /// 就醫識別碼: the cloud's, when it gives one (20 characters); empty otherwise.
    package var treatmentNumber: String
    /// With a `statusCode` other than 0 (the insurance suspended): what to do.
    package var message: String?
}

/// `POST /api/v1/SequelNumber/Rollback`: the registration (its `treatmentDateTime`) cancelled.
package struct HISRollbackRequest: Decodable, Sendable {
    package var treatmentDateTime: String
}

/// `POST /api/v1/TeleMedicine/RequestToken`: whom to ask (the SAM bundle HIS code sends along is not needed:
/// the station asks the cloud with its own institution certificate).
package struct HISTelemedicineRequest: Decodable, Sendable {
    package var patientId: String
}

package struct HISAccessTokenAnswer: Encodable, Sendable {
    package var statusCode: HISStatusCode
    /// The station's consent request's id.
    package var accessToken: String
}

/// `POST /api/v1/TeleMedicine/ResponseToken`.
package struct HISAccessTokenRequest: Decodable, Sendable {
    package var accessToken: String
}

package struct HISVirtualCardAnswer: Encodable, Sendable {
    package var statusCode: HISStatusCode
    /// A reference to the visit the approval opened (`VHC-CONSENT:` and the request's id), used as a
    /// scanned QR's text.
    package var virtualCardToken: String
}
