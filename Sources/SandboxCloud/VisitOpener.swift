import CloudProtocol
import Foundation
import VirtualCard

/// The cloud's rules for a visit opening (cloud-protocol.md §3, §5), in the protocol's order: the
/// first failure is the answer. Step 1 (the institution's TLS certificate) is done before the body is
/// read, by `InstitutionGate`; this type takes the identity it established.
package struct VisitOpener: Sendable {
    package struct Settings: Sendable {
        /// How long after signing an opening may still arrive, and how far scans may precede it (§3.5).
        package var deferralWindow: Int64 = 72 * 3600
        /// How far in the future `signedAt` may be.
        package var futureTolerance: Int64 = 60
        /// Openings forwarded later than this after signing are `deferred`.
        package var deferredAfter: Int64 = 300
        package var sessionLength: Int64 = 3600
        /// The token profile's clock skew for the token check at `scannedAt`.
        package var skew: Int64 = TokenVerifier.defaultSkew
        /// How long a patient has to answer a consent request (and an institution to collect an approval).
        package var consentWindow: Int64 = ConsentRequest.answerWindow
        package init() {}
    }

    let authority: CertificateAuthority
    /// Practitioner certificates validated in the last minute.
    let practitioners = CertificateCache<PractitionerIdentity>()
    let registry: Registry
    let store: any CloudStore
    let lists: ListPublisher
    let settings: Settings

    package init(
        authority: CertificateAuthority, registry: Registry, store: any CloudStore, lists: ListPublisher,
        settings: Settings
    ) {
        self.authority = authority
        self.registry = registry
        self.store = store
        self.lists = lists
        self.settings = settings
    }

    /// The answer and whether it was made now (`201`) or repeated for the same request (`200`).
    package struct Answer: Sendable {
        package var grant: VisitGrant
        package var isNew: Bool
    }

    /// The project's extension beside §3 (`POST /v1/affiliations`, docs/cloud.md): would an opening
    /// signed with this certificate pass steps 3 and 4 for this institution, as far as the certificate
    /// and the affiliation go? A station asks when a practitioner logs in, so a refusal is said then
    /// and not at the first visit; it must not rely on a cloud answering it.
    package func affiliation(
        certificate: [UInt8], institution: InstitutionIdentity, now: Int64
    ) async throws(CloudProblem) -> Affiliation {
        let practitioner = try await practitioner(certificate, now: now)
        try requireAffiliation(practitioner, with: institution)
        return Affiliation(
            practitioner: TaiwanID.masked(practitioner.id), profession: practitioner.profession,
            institution: institution.code, certificateValidUntil: practitioner.validUntil)
    }

    /// Step 3's certificate half: issued by the CA, valid now, for signing, naming a practitioner.
    private func practitioner(_ certificate: [UInt8], now: Int64) async throws(CloudProblem) -> PractitionerIdentity {
        do {
            return try await practitioners.identity(certificate, now: now) {
                () async throws(CertificateAuthority.Refusal) in
                try await authority.practitioner(der: certificate, at: now)
            }
        } catch {
            throw CloudProblem(.practitionerCertificateInvalid, error.reason)
        }
    }

    /// Step 4's last check.
    private func requireAffiliation(
        _ practitioner: PractitionerIdentity, with institution: InstitutionIdentity
    ) throws(CloudProblem) {
        guard registry.practitioner(practitioner.id)?.institutions.contains(institution.code) == true else {
            throw CloudProblem(
                .practitionerNotAffiliated,
                "practitioner \(TaiwanID.masked(practitioner.id)) is not affiliated with \(institution.code)")
        }
    }

    package func open(_ body: [UInt8], institution: InstitutionIdentity, now: Int64) async throws -> Answer {
        // 2. Size, COSE structure, header, payload keys and types.
        let request = try SignedVisitOpening(body)
        let opening = request.opening

        // 3. The practitioner's certificate, then their signature.
        let practitioner = try await practitioner(request.certificate, now: now)
        guard request.isSigned(by: practitioner.publicKey) else {
            throw CloudProblem(.requestSignatureInvalid, "the signature does not verify with the certificate's key")
        }

        // 4. Who may open what.
        guard opening.institution == institution.code else {
            throw CloudProblem(
                .institutionMismatch,
                "the request names institution \(opening.institution); the TLS certificate is \(institution.code)")
        }
        guard let enrolment = registry.institution(institution.code), enrolment.settings.contains(opening.setting)
        else {
            throw CloudProblem(
                .institutionNotEnrolled,
                "institution \(institution.code) is not enrolled in \(opening.setting.rawValue)")
        }
        try requireAffiliation(practitioner, with: institution)

        // 5. Time.
        let window = settings.deferralWindow
        if opening.signedAt > now + settings.futureTolerance {
            throw CloudProblem(.requestStale, "signedAt is more than \(settings.futureTolerance) s in the future")
        }
        if opening.signedAt < now - window {
            throw CloudProblem(.requestStale, "signedAt is older than the deferral window (\(window) s)")
        }
        if opening.scannedAt < opening.signedAt - window
            || opening.scannedAt > opening.signedAt + settings.futureTolerance
        {
            throw CloudProblem(
                .requestStale, "scannedAt is outside [signedAt - \(window) s, signedAt + \(settings.futureTolerance) s]"
            )
        }

        // 6. Idempotency, then the nonce.
        let digest = request.payloadDigest
        let (prior, nonceUsed) = try await store.precheck(
            opening.requestID, payloadDigest: digest, nonce: opening.nonce, practitioner: practitioner.id)
        switch prior {
        case .same(let answer): return Answer(grant: answer, isNew: false)
        case .refused(let problem): throw problem
        case .otherPayload: throw Self.keyReused
        case .none: break
        }
        if nonceUsed { throw Self.nonceReused }

        // From here a refusal is an answer too: the request id keeps it (a repeat gets it again) and the
        // nonce counts as seen (§3 key 5, §5).
        let refuse = { (problem: CloudProblem) async throws -> CloudProblem in
            try await store.recordRefusal(
                RefusalRecord(
                    requestID: opening.requestID, payloadDigest: digest, nonce: opening.nonce,
                    practitioner: practitioner.id, problem: problem, now: now))
            return problem
        }

        // 7. The token, at scannedAt, against the cloud's current lists; then the holder.
        let verification = try lists.verifier().verify(
            opening.token, at: opening.scannedAt, skew: settings.skew, listsJudgedAt: now)
        guard verification.isValid, let claims = verification.claims else {
            throw try await refuse(
                CloudProblem(.tokenInvalid, verification.code.reason, tokenCode: TokenCode(verification.code)))
        }
        guard let patient = registry.patient(claims.holder.id) else {
            throw try await refuse(
                CloudProblem(.tokenInvalid, "the cloud has no patient with this ID number", tokenCode: .holderUnknown))
        }
        // Byte for byte: canonically equivalent spellings of a name are still another spelling.
        guard Array(patient.name.utf8) == Array(claims.holder.name.utf8),
            patient.birthDate == claims.holder.birthDate.iso
        else {
            throw try await refuse(
                CloudProblem(
                    .tokenInvalid, "the token's name or birth date differ from the cloud's record",
                    tokenCode: .holderMismatch))
        }

        // 8. One-time use, atomically with everything the opening writes.
        let expiresAt = opening.scannedAt + settings.sessionLength
        let deferred = now - opening.signedAt > settings.deferredAfter
        let commit = OpeningCommit(
            requestID: opening.requestID, payloadDigest: digest, nonce: opening.nonce, practitioner: practitioner.id,
            institution: institution.code, setting: opening.setting, tokenID: claims.tokenID,
            patientID: patient.id, scannedAt: opening.scannedAt, expiresAt: expiresAt, now: now,
            answer: { sequence, grant in
                VisitGrant(
                    grant: grant, visitSequence: Self.visitSequence(sequence),
                    openedAt: UTCTimestamp.iso8601(opening.scannedAt), expiresAt: UTCTimestamp.iso8601(expiresAt),
                    deferred: deferred,
                    patient: .init(
                        cardNumber: patient.cardNumber, id: patient.id, name: patient.name,
                        birthDate: patient.birthDate, sex: patient.sex, cardIssuedAt: patient.cardIssuedAt,
                        insuranceStatus: patient.insuranceStatus,
                        photo: claims.holder.photo == .none ? .none : .verified),
                    delegation: claims.delegation.map {
                        .init(delegateId: $0.delegateID, delegationId: Hex.encode($0.delegationID))
                    },
                    // The card as presented: a token without a verified photo needs the ID check (token-profile §6).
                    idCheckRequired: claims.holder.photo == .none,
                    treatmentNumber: Self.treatmentNumber(
                        institution: institution.code, day: CalendarDate(taipeiDateAt: opening.scannedAt), sequence: sequence))
            })
        switch try await store.commitOpening(commit) {
        case .opened(let answer): return Answer(grant: answer, isNew: true)
        case .repeated(let answer): return Answer(grant: answer, isNew: false)
        case .otherPayload: throw Self.keyReused
        case .nonceReused: throw Self.nonceReused
        case .tokenReplayed:
            throw try await refuse(
                CloudProblem(.tokenReplayed, "this card code was already used for a visit or reported consumed"))
        }
    }

    static let keyReused = CloudProblem(.idempotencyKeyReused, "this requestId was used for a different payload")
    static let nonceReused = CloudProblem(.nonceReused, "this practitioner already used this nonce")

    /// The sandbox's 就醫識別碼 (an extension, docs/cloud.md): the institution's 10 digits, the Taipei day
    /// as `YYMMDD` and the visit sequence's 4 digits; none past the day's 9999th visit (it would not fit 20).
    static func treatmentNumber(institution: String, day: CalendarDate, sequence: Int) -> String? {
        let number = institution + String(day.iso.replacingOccurrences(of: "-", with: "").dropFirst(2)) + visitSequence(sequence)
        return VisitGrant.isTreatmentNumber(number) ? number : nil
    }

    /// Four digits from 0001; past 9999 the day's count is shown as it is.
    static func visitSequence(_ n: Int) -> String {
        let digits = String(n)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
