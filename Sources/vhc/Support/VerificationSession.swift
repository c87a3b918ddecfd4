import Foundation
import Station
import VirtualCard

/// What `vhc verify` and `vhc scan --root …` share: the lists loaded once, the optional SQLite
/// replay store with its held list sequences, and the clock (fixed by `--at`, or the system's).
struct VerificationSession {
    let verifier: TokenVerifier
    let skew: Int64
    let fixedTime: Int64?
    let consumed: SQLiteConsumedTokenStore?
    let heldStore: HeldListStore?

    init(root: String, trustList: String, revocations: String?, at: String?, skew: Int64, consumedStore: String?) throws
    {
        guard TokenVerifier.skewRange.contains(skew) else { throw UsageError("--skew must be 0 to 120 seconds") }
        fixedTime = try at.map { try Inputs.time($0, option: "--at") }
        let rootKey = try Inputs.publicKey(root)
        let trustListBytes = try Inputs.readFile(trustList, what: "trust list", maximumSize: SignedList.maximumSize)
        let revocationBytes = try revocations.map {
            try Inputs.readFile($0, what: "revocation list", maximumSize: SignedList.maximumSize)
        }
        verifier = TokenVerifier(root: rootKey, trustList: trustListBytes, revocationList: revocationBytes)
        self.skew = skew
        if let consumedStore {
            let database: StationDatabase
            do { database = try StationDatabase(path: consumedStore) } catch { throw UsageError(error.description) }
            consumed = SQLiteConsumedTokenStore(database: database)
            heldStore = HeldListStore(database: database)
        } else {
            consumed = nil
            heldStore = nil
        }
    }

    static let listCodes: Set<VerificationCode> = [
        .trustListInvalid, .trustListExpired, .trustListRollback, .revocationListInvalid,
    ]

    /// Verifies one token text now (or at `--at`). Storage failures are usage errors (exit 2).
    func verify(_ text: [UInt8]) throws -> Verification {
        let now = fixedTime ?? Inputs.now()
        let verification: Verification
        do {
            let held = try heldStore?.held() ?? HeldSequences()
            verification = try verifier.verify(text, at: now, skew: skew, held: held, consumedTokens: consumed)
            // Lists that passed their own checks become the held ones: a later, lower sequence is a rollback.
            if let heldStore, let trust = verifier.trustList, !Self.listCodes.contains(verification.code) {
                try heldStore.record(trustList: trust.sequence, revocationList: verifier.revocationList?.sequence)
            }
        } catch {
            throw UsageError("the station database failed: \(error)")
        }
        return verification
    }
}
