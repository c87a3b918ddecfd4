import StationModels

extension StationService {
    /// A handheld scanner's line that is no code to verify (issue 22: another symbology, or garbled by the
    /// scanner's settings): audited and announced as a refused scan with its code and what to do, so the
    /// front desk sees why nothing opened. Never the line itself.
    package func refuseScannerLine(_ code: OutcomeCode, source: String) throws {
        let now = clock()
        try audit.append(at: now, kind: .scanRejected, subject: "-", detail: ["code": code.rawValue, "source": source])
        events.publish { id in
            StationEvent(id: id, type: .scanRejected, at: now, code: code, reason: StationReason(code: code), source: source)
        }
        metrics.scanned(code, source: source)
    }
}
