import VirtualCard

/// A verdict's reason in plain words, in Traditional Chinese for the front desk and in English:
/// what the screen says, the event carries and the API returns beside the stable code.
package struct StationReason: Sendable, Equatable, Codable {
    package var zhHant: String
    package var en: String

    /// The reason for a verification code or a station code; an unknown code gets a generic one.
    package init(code: OutcomeCode) {
        if let verification = VerificationCode(rawValue: code.rawValue) {
            en = verification.reason
            zhHant = Self.traditionalChinese[verification] ?? "卡片無法驗證。"
            return
        }
        switch code {
        case .clockRolledBack:
            en = "The station's clock is behind the latest trusted time: set the clock right before scanning."
            zhHant = "本站時鐘落後於已知的可信時間，請先校正時間再掃描。"
        case .trustListUnavailable:
            en = "The station has no trust list installed: it cannot verify cards yet."
            zhHant = "本站尚未安裝信任清單，目前無法驗證卡片。"
        case .scannerSymbology:
            en = "The scanner read another kind of code: scan the QR code in the patient's app."
            zhHant = "掃描器讀到的不是 QR 碼：請掃描病人 App 中的 QR 碼。"
        case .scannerGarbled:
            en = "The scanner's text is garbled: check it is set to serial mode or a US keyboard, Caps Lock off."
            zhHant = "掃描器傳來的文字有誤：請確認掃描器設為序列埠模式或美式鍵盤，並關閉大寫鎖定。"
        default:
            en = "The card could not be verified."
            zhHant = "卡片無法驗證。"
        }
    }

    static let traditionalChinese: [VerificationCode: String] = [
        .valid: "卡片有效。",
        .prefixMissing: "這不是虛擬健保卡的條碼。",
        .prefixUnsupported: "此條碼格式較新，本站尚不支援。",
        .base45Invalid: "條碼內容已損毀，無法讀取。",
        .cborInvalid: "卡片資料格式錯誤。",
        .coseInvalid: "卡片簽章格式錯誤。",
        .algorithmUnsupported: "卡片使用不支援的簽章演算法。",
        .kidInvalid: "卡片未正確標示簽章金鑰。",
        .keyUnknown: "卡片的簽章金鑰不受本站信任（或已不再信任）。",
        .signatureInvalid: "卡片簽章驗證失敗，可能遭偽造或竄改。",
        .claimsInvalid: "卡片內容不符合規範。",
        .notYetValid: "條碼尚未生效，請檢查本站時鐘。",
        .expired: "條碼已過期，請病人在 App 中重新產生條碼。",
        .delegationNotYetValid: "授權尚未開始。",
        .delegationExpired: "授權已結束。",
        .delegationRevoked: "病人已取消此項授權。",
        .revocationListUnavailable: "沒有有效的授權撤銷清單，無法檢查代理出示的卡片。",
        .replayed: "此條碼已使用過，請病人重新產生條碼。",
        .trustListInvalid: "本站的信任清單無效。",
        .trustListExpired: "本站的信任清單已過期，請更新。",
        .trustListRollback: "信任清單比本站已持有的版本舊。",
        .revocationListInvalid: "本站的授權撤銷清單無效。",
    ]
}

/// The stable code of a verdict or an event: one of the token profile's verification codes, or the
/// station's own (`clock_rolled_back`, `trust_list_unavailable`, a resumed stream's gap). Clients
/// compare these, people read the reason beside them.
package struct OutcomeCode: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    package let rawValue: String
    package init(rawValue: String) { self.rawValue = rawValue }
    package init(_ verification: VerificationCode) { rawValue = verification.rawValue }
    package var description: String { rawValue }

    package static let valid = OutcomeCode(.valid)
    /// The station's clock is behind the latest trusted time by more than the skew.
    package static let clockRolledBack = OutcomeCode(rawValue: "clock_rolled_back")
    package static let trustListUnavailable = OutcomeCode(rawValue: "trust_list_unavailable")
    /// A handheld scanner sent a code of another symbology (its AIM identifier is not `]Q`).
    package static let scannerSymbology = OutcomeCode(rawValue: "scanner_symbology")
    /// A handheld scanner sent control characters, non-ASCII or lower-case token text: its settings.
    package static let scannerGarbled = OutcomeCode(rawValue: "scanner_garbled")
    /// A resumed event stream: events of an earlier run or older than the kept ones were missed.
    package static let eventsMissed = OutcomeCode(rawValue: "events_missed")
    /// A resumed event stream named an id this station never gave.
    package static let eventIDUnknown = OutcomeCode(rawValue: "event_id_unknown")
}
