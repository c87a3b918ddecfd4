import VirtualCard

/// `GET /v1/stats/day`: the day's scans per hour and its refusals by code, for the front-desk page.
package struct DayStatistics: Sendable, Codable, Equatable {
    /// The calendar day in Asia/Taipei, `YYYY-MM-DD`, and its first second (epoch seconds).
    package var date: String
    package var start: Int64
    /// 24 entries, hour 0 to 23 of that day.
    package var hours: [Hour]
    /// Most frequent first.
    package var refusals: [Refusal]

    package var accepted: Int { hours.reduce(0) { $0 + $1.accepted } }
    package var refused: Int { hours.reduce(0) { $0 + $1.refused } }

    package struct Hour: Sendable, Codable, Equatable {
        package var hour: Int
        package var accepted: Int
        package var refused: Int
        package init(hour: Int, accepted: Int, refused: Int) {
            self.hour = hour
            self.accepted = accepted
            self.refused = refused
        }
    }

    package struct Refusal: Sendable, Codable, Equatable {
        package var code: OutcomeCode
        package var count: Int
        package var reason: StationReason
        package init(code: OutcomeCode, count: Int, reason: StationReason) {
            self.code = code
            self.count = count
            self.reason = reason
        }
    }

    package init(date: String, start: Int64, hours: [Hour], refusals: [Refusal]) {
        self.date = date
        self.start = start
        self.hours = hours
        self.refusals = refusals
    }

    enum CodingKeys: String, CodingKey { case date, start, hours, refusals, accepted, refused }

    package init(from decoder: any Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        date = try values.decode(String.self, forKey: .date)
        start = try values.decode(Int64.self, forKey: .start)
        hours = try values.decode([Hour].self, forKey: .hours)
        refusals = try values.decode([Refusal].self, forKey: .refusals)
    }

    /// The totals go on the wire too, so the page need not add them up.
    package func encode(to encoder: any Encoder) throws {
        var values = encoder.container(keyedBy: CodingKeys.self)
        try values.encode(date, forKey: .date)
        try values.encode(start, forKey: .start)
        try values.encode(hours, forKey: .hours)
        try values.encode(refusals, forKey: .refusals)
        try values.encode(accepted, forKey: .accepted)
        try values.encode(refused, forKey: .refused)
    }
}

/// `POST /v1/sessions/{id}/reveal`: a holder's identity in full, for the screen that masks it. Each
/// answer is an audited read.
package struct HolderIdentity: Sendable, Codable, Equatable {
    package var id: String
    package var name: String
    package var birthDate: String
    package var delegateID: String?
    package init(id: String, name: String, birthDate: String, delegateID: String?) {
        self.id = id
        self.name = name
        self.birthDate = birthDate
        self.delegateID = delegateID
    }

    package init(_ session: VisitSession) {
        self.init(
            id: session.holderID, name: session.holderName, birthDate: session.holderBirthDate,
            delegateID: session.delegateID)
    }
}

/// `POST /v1/web/links` (Unix socket only, `vhc web`): a one-time link that signs a browser in to the
/// front-desk page.
package struct WebLink: Sendable, Codable, Equatable {
    package var url: String
    /// The link works once, until then (epoch seconds).
    package var expiresAt: Int64
    /// How long the browser stays signed in once it used the link.
    package var sessionSeconds: Int64
    package init(url: String, expiresAt: Int64, sessionSeconds: Int64) {
        self.url = url
        self.expiresAt = expiresAt
        self.sessionSeconds = sessionSeconds
    }
}

extension VisitSession {
    /// The session as a screen that may face a waiting room shows it: ID numbers, the name and the
    /// card number masked, the birth date left out. The full identity is a separate, audited read.
    package var maskedForSharedScreen: VisitSession {
        var shown = self
        shown.holderID = TaiwanID.masked(holderID)
        shown.holderName = PersonName.masked(holderName)
        shown.holderBirthDate = ""
        shown.delegateID = delegateID.map(TaiwanID.masked)
        if let number = cloud?.cardNumber { shown.cloud?.cardNumber = "****" + number.suffix(4) }
        return shown
    }
}

/// `GET /v1/web/settings`: what the front-desk page is told of its own behaviour by the station's
/// configuration.
package struct PageSettings: Sendable, Codable, Equatable {
    /// Seconds without a new verdict before the verdict panel returns to "ready to scan" and the masked
    /// holder leaves the screen (`page.ready_seconds`; 0: never).
    package var readySeconds: Int64
    /// Seconds a reading of a shared video-call window goes on without a valid code before it stops by
    /// itself (`page.capture_seconds`).
    package var captureSeconds: Int64
    package init(readySeconds: Int64 = 20, captureSeconds: Int64 = 120) {
        self.readySeconds = readySeconds
        self.captureSeconds = captureSeconds
    }
}
