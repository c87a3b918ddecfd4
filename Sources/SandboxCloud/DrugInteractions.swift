import CloudProtocol

/// The interaction table the alerts use: a small, documented set of well-known pairs, each with the
/// package source that states it (docs/drug-interactions.md lists the same). A pair matches by ATC
/// prefix, in either direction: a proposed drug against one still in supply.
enum DrugInteractions {
    struct Pair: Sendable {
        var first: String
        var second: String
        var severity: String
        var message: String
        var source: String
    }

    static let pairs: [Pair] = [
        Pair(
            first: "M01A", second: "B01A", severity: "major",
            message: "NSAID with an anticoagulant or antiplatelet: higher risk of bleeding, including GI bleeding.",
            source: "Coumadin (warfarin) US prescribing information §7; BNF Appendix 1 (NSAIDs)"),
        Pair(
            first: "B01AA03", second: "C01BD01", severity: "major",
            message: "Amiodarone inhibits warfarin's metabolism: INR rises; reduce the warfarin dose and monitor INR.",
            source: "Coumadin (warfarin) US prescribing information §7; Cordarone label"),
        Pair(
            first: "C10AA01", second: "J01FA09", severity: "contraindicated",
            message: "Clarithromycin (strong CYP3A4 inhibitor) with simvastatin: myopathy and rhabdomyolysis.",
            source: "Zocor (simvastatin) US prescribing information §4 Contraindications"),
        Pair(
            first: "C09A", second: "C03DA", severity: "major",
            message:
                "ACE inhibitor with a potassium-sparing diuretic: hyperkalaemia; check potassium and renal function.",
            source: "BNF Appendix 1 (ACE inhibitors); Aldactone label"),
        Pair(
            first: "G04BE", second: "C01DA", severity: "contraindicated",
            message: "PDE5 inhibitor with an organic nitrate: severe hypotension.",
            source: "Viagra (sildenafil) US prescribing information §4 Contraindications"),
        Pair(
            first: "B01AC04", second: "A02BC01", severity: "moderate",
            message: "Omeprazole reduces clopidogrel's active metabolite: weaker antiplatelet effect.",
            source: "Plavix (clopidogrel) US prescribing information §7"),
        Pair(
            first: "L04AX03", second: "J01EE01", severity: "major",
            message: "Methotrexate with trimethoprim-sulfamethoxazole: bone-marrow suppression.",
            source: "BNF Appendix 1 (methotrexate); methotrexate US prescribing information §7"),
        Pair(
            first: "N06AB", second: "N02AX02", severity: "major",
            message: "SSRI with tramadol: serotonin syndrome and a lower seizure threshold.",
            source: "Ultram (tramadol) US prescribing information §7"),
    ]

    /// The pairs between a proposed ATC code and one on record.
    static func between(_ proposed: String, _ existing: String) -> [Pair] {
        pairs.filter {
            (proposed.hasPrefix($0.first) && existing.hasPrefix($0.second))
                || (proposed.hasPrefix($0.second) && existing.hasPrefix($0.first))
        }
    }

    /// Duplicates of the same drug still in supply, then interactions with anything still in supply.
    static func alerts(for request: AlertRequest, medications: [MedicationRecord]) -> [AlertAnswer.Alert] {
        let inSupply = medications.filter { $0.daysRemaining > 0 }
        var alerts: [AlertAnswer.Alert] = []
        for proposed in request.prescriptions {
            for existing in inSupply where existing.atcCode == proposed.atcCode {
                alerts.append(
                    .init(
                        kind: .duplicateMedication, proposedAtcCode: proposed.atcCode, existing: existing,
                        severity: "major",
                        message:
                            "\(existing.name) was dispensed by \(existing.institution) on \(existing.date) with \(existing.daysRemaining) days left.",
                        source: "the patient's medication record"))
            }
            for existing in inSupply {
                for pair in between(proposed.atcCode, existing.atcCode) {
                    alerts.append(
                        .init(
                            kind: .interaction, proposedAtcCode: proposed.atcCode, existing: existing,
                            severity: pair.severity, message: pair.message, source: pair.source))
                }
            }
        }
        return alerts
    }
}
