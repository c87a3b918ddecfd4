import ArgumentParser
import CloudProtocol
import Foundation
import SandboxCloud
import VirtualCard

/// `vhc-cloud opening`: a visit opening signed as a station would sign it, with a practitioner's key from the
/// sandbox, written as the body of `POST /v1/visits` (docs/cloud.md, "A visit opening by hand"). What curl
/// then sends; the station's own openings are made by vhc-stationd.
struct Opening: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a signed visit opening (COSE) for a token, to send by hand to POST /v1/visits.")

    @Option(help: "The sandbox directory made by `vhc-cloud init`.") var dir: String
    @Option(help: "The scanned token text (VHC1:…).") var token: String
    @Option(help: "The institution's code (sandbox.json).") var institution: String
    @Option(help: "The signing practitioner's ID number (sandbox.json), affiliated with the institution.")
    var practitioner: String
    @Option(help: "The care setting: outpatient, home_care, telemedicine, video_consultation.")
    var setting = "outpatient"
    @Option(help: "Where to write the opening.") var out = "opening.cose"

    func run() async throws {
        guard let care = CareSetting(rawValue: setting) else {
            throw ValidationError("--setting must be one of \(CareSetting.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let directory = SandboxDirectory(path: dir)
        let now = Int64(Date().timeIntervalSince1970)
        let opening = VisitOpening(token: token, institution: institution, setting: care, signedAt: now, scannedAt: now)
        do {
            let key = try directory.loadKey(directory.practitionerKey(practitioner))
            let certificate = try directory.loadCertificate(directory.practitionerCertificate(practitioner))
            let body = try opening.signed(by: key, certificate: certificate.derBytes)
            try Data(body).write(to: URL(fileURLWithPath: out))
            print("wrote \(out): \(body.count) bytes, request id \(Hex.encode(opening.requestID))")
        } catch {
            throw ValidationError("\(error)")
        }
    }
}
