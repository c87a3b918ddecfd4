import CloudProtocol
import Crypto
import Foundation
import PKCS11
import TestSupport
import VirtualCard

/// Issue 20's signing figure (Benchmarks/cards.sh): visit openings signed per second with the key on a
/// SoftHSM2 token (generated there, never extractable), beside the same openings signed with the key in
/// memory, on one core (the script pins the process), interleaved rounds. Also the process's resident
/// memory before and after the module is loaded.
@main
enum CardBenchmark {
    static func main() throws {
        let arguments = CommandLine.arguments
        let seconds = arguments.firstIndex(of: "--seconds").flatMap { Double(arguments[$0 + 1]) } ?? 2
        let rounds = arguments.firstIndex(of: "--rounds").flatMap { Int(arguments[$0 + 1]) } ?? 3
        let before = Loopback.memoryReport(of: getpid())
        let token = try SoftHSM.freshToken()
        let uri = try PKCS11URI(token.uri)
        let module = try PKCS11Module.load(SoftHSM.modulePath)
        let session = try PKCS11Session(uri: uri, module: module, readWrite: true)
        try session.login(pin: Array(token.userPIN.utf8))
        let onToken = try TokenSigningKey.generate(on: session, uri: uri, label: "practitioner", id: [0x01])
        let after = Loopback.memoryReport(of: getpid())
        let inMemory = P256.Signing.PrivateKey()
        let certificate = [UInt8](repeating: 0x30, count: 600)  // an x5chain of a practitioner's size

        func rate(_ signer: some ES256Signer) throws -> Double {
            let clock = ContinuousClock(), start = clock.now, end = start.advanced(by: .seconds(seconds))
            var count = 0
            while clock.now < end {
                let opening = VisitOpening(
                    token: "VHC1:BENCHMARK", institution: "0123456789", setting: .homeCare, signedAt: 1_800_000_000,
                    scannedAt: 1_800_000_000)
                _ = try opening.signed(by: signer, certificate: certificate)
                count += 1
            }
            let elapsed = start.duration(to: clock.now)
            return Double(count) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
        var onTokenRates: [Double] = [], inMemoryRates: [Double] = []
        for _ in 0..<rounds {  // interleaved, so drift on a shared machine hits both alike
            onTokenRates.append(try rate(onToken))
            inMemoryRates.append(try rate(inMemory))
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        func rounded(_ values: [Double]) -> String { values.map { String(Int($0.rounded())) }.joined(separator: ", ") }
        let tokenMedian = median(onTokenRates), memoryMedian = median(inMemoryRates)
        print("openings signed on a SoftHSM2 token: \(Int(tokenMedian.rounded()))/s (rounds: \(rounded(onTokenRates)))")
        print("baseline, the key in memory: \(Int(memoryMedian.rounded()))/s (rounds: \(rounded(inMemoryRates)))")
        print(
            String(format: "ratio token / memory: %.2f; ", tokenMedian / memoryMedian)
                + "target: at least 200 openings/s on the token (\(tokenMedian >= 200 ? "met" : "NOT met"))")
        print("memory before loading the module: \(before)")
        print("memory with SoftHSM loaded and a session logged in: \(after)")
    }
}
