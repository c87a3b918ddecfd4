import CloudProtocol
import Foundation
import GRDB
import Imaging
import QRRendering
import SandboxCloud
import Scanner
import TestSupport
import Testing
import VirtualCard

/// `vhc app` (the phone) and `vhc-cloud enrol`, `practitioner add`, `affiliate`, `patient add`, run as
/// programs against a cloud on loopback, as a person would.
@Suite(.serialized) struct CommandLineTests {
    /// Runs a built program on a thread of its own, so the cloud in this process keeps serving.
    func run(_ program: String, _ arguments: [String]) async throws -> CommandResult {
        let path = program == "vhc" ? Command.vhc : Command.executable(named: program)
        return try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try Command.run(path, arguments) }) }.start()
        }
    }

    func app(_ cloud: CloudHarness, _ arguments: String...) async throws -> CommandResult {
        try await run(
            "vhc",
            ["app"] + [arguments[0], "--cloud", cloud.url, "--sandbox", cloud.directory.path] + arguments.dropFirst())
    }

    @Test func thePhoneShowsItsCardDelegatesItAndAnswersConsent() async throws {
        let cloud = try await CloudHarness()
        let holder = cloud.patient()
        let delegate = try #require(cloud.manifest.patients.first { $0.id != holder.id && $0.photo == .verified })

        // A token for one's own card, as text and as a PNG that reads back to the same text.
        let png = cloud.folder.path("card.png")
        let own = try await app(cloud, "qr", "--card", holder.id, "--once", "--png", png)
        #expect(own.status == 0, "\(own.stderr)")
        let text = own.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(text.hasPrefix("VHC1:"))
        let verified = try await cloud.verifier().verify(text, at: cloud.clock.now)
        #expect(verified.isValid && verified.claims?.holder.id == holder.id)
        let image = try GrayImage.read(contentsOf: png)
        #expect(ZXingQRDecoder().symbols(in: image).map { String(decoding: $0.payload, as: UTF8.self) } == [text])

        // Delegate, show as the delegate, list, cancel, and the delegate is refused.
        let delegated = try await app(
            cloud, "delegate", "--card", holder.id, "--to", delegate.id, "--until", "2099-01-01")
        #expect(delegated.status == 1 && delegated.stderr.contains("delegation_invalid"))
        let until = CalendarDate(taipeiDateAt: cloud.clock.now + 10 * 86_400).iso
        let made = try await app(cloud, "delegate", "--card", holder.id, "--to", delegate.id, "--until", until)
        #expect(made.status == 0, "\(made.stderr)")
        let id = try #require(made.stdout.split(separator: " ").dropFirst().first.map { String($0.dropLast()) })
        #expect(id.count == 32)
        #expect(!made.stdout.contains(delegate.id) && made.stdout.contains(TaiwanID.masked(delegate.id)))
        let shown = try await app(cloud, "qr", "--card", holder.id, "--as", delegate.id, "--once")
        #expect(shown.status == 0, "\(shown.stderr)")
        let claims = try await cloud.verifier().verify(
            shown.stdout.trimmingCharacters(in: .whitespacesAndNewlines), at: cloud.clock.now
        ).claims
        #expect(claims?.delegation?.delegateID == delegate.id && claims?.holder.id == holder.id)
        let listed = try await app(cloud, "delegations", "--card", delegate.id)
        #expect(listed.stdout.contains("received \(id)") && listed.stdout.contains("active"))
        let cancelled = try await app(cloud, "cancel-delegation", "--card", holder.id, "--delegation", id)
        #expect(cancelled.status == 0 && cancelled.stdout.contains("cancelled"))
        let refused = try await app(cloud, "qr", "--card", holder.id, "--as", delegate.id, "--once")
        #expect(refused.status == 1 && refused.stderr.contains("card_not_delegated"))

        // Consent: nothing waiting, then a request from the telehealth clinic, approved.
        let nothing = try await app(cloud, "consent", "--card", holder.id, "--approve")
        #expect(nothing.status == 1 && nothing.stderr.contains("no consent request"))
        let clinic = cloud.telemedicineOnly
        let consent = try await withClient(try cloud.client(identity: try cloud.credential(institution: clinic.code))) {
            client in
            try await cloud.post(
                client, "/v1/consents", json: ConsentRequest(patientId: holder.id, setting: .videoConsultation)
            ).decode(Consent.self)
        }
        let approved = try await app(cloud, "consent", "--card", holder.id, "--approve")
        #expect(approved.status == 0, "\(approved.stderr)")
        #expect(approved.stdout.hasPrefix("approved:") && approved.stdout.contains(consent.id))

        // Usage errors and a cloud that is not there: exit 2.
        let both = try await app(cloud, "consent", "--card", holder.id, "--approve", "--refuse")
        #expect(both.status == 2)
        let badID = try await app(cloud, "qr", "--card", "A000000000", "--once")
        #expect(badID.status == 2)
        try await cloud.stop()
        let down = try await app(cloud, "qr", "--card", holder.id, "--once")
        #expect(down.status == 2 && down.stderr.contains("cannot reach the cloud"))
        // In words, with the cause: not `connection reset (error set): Connection refused) (errno: 111)`.
        #expect(down.stderr.contains("nothing answers at that address: is the cloud running"), "\(down.stderr)")
        #expect(!down.stderr.contains("errno"), "\(down.stderr)")
    }

    @Test("vhc-cloud opening writes the body docs/cloud.md's curl sends: the cloud opens the visit from it")
    func anOpeningByHand() async throws {
        let cloud = try await CloudHarness()
        let institution = cloud.everySetting.code
        let practitioner = cloud.practitioner(at: institution).id
        let out = cloud.directory.path + "/opening.cose"
        let written = try await run(
            "vhc-cloud",
            [
                "opening", "--dir", cloud.directory.path, "--token", try cloud.token(for: cloud.patient()),
                "--institution", institution, "--practitioner", practitioner, "--out", out,
            ])
        #expect(written.status == 0 && written.stdout.hasPrefix("wrote \(out)"), "\(written.stderr)")
        let body = try [UInt8](Data(contentsOf: URL(fileURLWithPath: out)))
        let reply = try await withClient(try cloud.client(identity: try cloud.credential(institution: institution))) {
            try await cloud.request($0, .POST, "/v1/visits", body: body)
        }
        #expect(reply.status == 201, "\(reply.code ?? "")")
        let badSetting = try await run(
            "vhc-cloud",
            ["opening", "--dir", cloud.directory.path, "--token", "x", "--institution", institution, "--practitioner",
             practitioner, "--setting", "ward"])
        #expect(badSetting.status != 0 && badSetting.stderr.contains("--setting must be one of"))
        try await cloud.stop()
    }

    @Test func aSandboxGrowsWithNewInstitutionsPractitionersAndPatients() async throws {
        let cloud = try await CloudHarness()
        let dir = cloud.directory.path
        let code = "1101010101"
        func grow(_ arguments: String...) async throws -> CommandResult {
            let result = try await run("vhc-cloud", Array(arguments) + ["--dir", dir])
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            return result
        }
        _ = try await grow("enrol", "--code", code, "--name", "新診所 New Clinic", "--setting", "outpatient")
        let added = try await grow("practitioner", "add", "--profession", "physician")
        let practitionerID = try #require(added.stdout.split(separator: " ").dropFirst().first.map(String.init))
        _ = try await grow("affiliate", "--practitioner", practitionerID, "--institution", code)
        let patientID = "F223456786"
        #expect(TaiwanID.isValid(patientID))
        _ = try await grow("patient", "add", "--id", patientID, "--name", "王小明", "--sex", "F", "--no-photo")

        // Refusals keep the sandbox as it was.
        let twice = try await run("vhc-cloud", ["patient", "add", "--id", patientID, "--dir", dir])
        #expect(twice.status != 0 && twice.stderr.contains("already"))
        let badCode = try await run(
            "vhc-cloud", ["enrol", "--code", "12", "--name", "x", "--setting", "outpatient", "--dir", dir])
        #expect(badCode.status != 0)
        let noSuch = try await run(
            "vhc-cloud", ["affiliate", "--practitioner", practitionerID, "--institution", "9999999999", "--dir", dir])
        #expect(noSuch.status != 0 && noSuch.stderr.contains("enrol it first"))

        // After a restart the new people work end to end.
        try await cloud.stop()
        try await cloud.start()
        let manifest = try cloud.directory.loadManifest()
        let patient = try #require(manifest.patients.first { $0.id == patientID })
        #expect(patient.photo == .none)
        let tokenReply = try await withClient(try cloud.appClient()) { app in
            try await cloud.post(app, "/v1/app/tokens", json: AppTokenRequest(), headers: try cloud.appLogin(patient))
        }
        #expect(tokenReply.status == 201)
        let token = try tokenReply.decode(AppToken.self).token
        try await withClient(try cloud.client(identity: try cloud.credential(institution: code))) { client in
            let (_, body) = try cloud.opening(token: token, institution: code, practitioner: practitionerID)
            let opened = try await cloud.request(client, .POST, "/v1/visits", body: body)
            #expect(opened.status == 201, "\(opened.code ?? "")")
            let grant = try opened.decode(VisitGrant.self)
            #expect(grant.idCheckRequired)
            let page = try await cloud.request(client, .GET, "/v1/visits/\(grant.grant)/records/labs")
            #expect(try page.decode(RecordPage<LabRecord>.self).total >= 3)
        }
        try await cloud.stop()
    }

    @Test func theStationsAuditHeadGoesToTheCloudAndTheCheckProvesTheLogAgainstIt() async throws {
        let cloud = try await CloudHarness()
        let institution = cloud.everySetting
        let folder = cloud.folder
        let trustList = try await withClient(try cloud.client(identity: nil)) { client in
            try await cloud.request(client, .GET, "/v1/trust-list").body
        }
        try trustList.write(to: URL(fileURLWithPath: folder.path("trust-list.cose")))
        let directory = cloud.directory
        let config = folder.path("station.yaml")
        try """
        institution: "\(institution.code)"
        trust:
          root: \(directory.trustRoot)
          trust_list: \(folder.path("trust-list.cose"))
        storage:
          database: \(folder.path("station.sqlite"))
        api:
          socket: \(folder.path("api.sock"))
        cloud:
          url: \(cloud.url)
          ca: \(directory.caCertificate)
          certificate: \(directory.institutionCertificate(institution.code))
          key: \(directory.institutionKey(institution.code))
          station: desk-1
        """.write(toFile: config, atomically: false, encoding: .utf8)
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: Command.executable(named: "vhc-stationd"))
        daemon.arguments = ["--config", config]
        let log = folder.path("daemon.log")
        #expect(FileManager.default.createFile(atPath: log, contents: nil))
        daemon.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        daemon.standardError = daemon.standardOutput
        try daemon.run()
        defer { if daemon.isRunning { daemon.terminate() } }
        var ready = false
        for _ in 0..<100 where !ready {
            ready = try await run("vhc", ["status", "--socket", folder.path("api.sock")]).status == 0
            if !ready { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(ready, "\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        let submitted = try await run(
            "vhc", ["submit", "--socket", folder.path("api.sock"), try cloud.token(for: cloud.patient())])
        #expect(submitted.status == 0, "\(submitted.stdout)\(submitted.stderr)")

        daemon.terminate()
        daemon.waitUntilExit()

        // What the timer runs every minute: the head goes to the cloud.
        #expect(try await cloud.store().auditHeads(station: "desk-1", institution: institution.code).isEmpty)
        let pushed = try await run("vhc", ["audit", "push", "--config", config])
        #expect(
            pushed.status == 0 && pushed.stdout.hasPrefix("sent the audit head"), "\(pushed.stdout)\(pushed.stderr)")
        let heads = try await cloud.store().auditHeads(station: "desk-1", institution: institution.code)
        #expect(heads.count == 1)

        // The same push with the institution's key on a token instead of its file: the same key, signing there.
        let token = try SoftHSM.freshToken()
        try SoftHSM.importKey(directory.institutionKey(institution.code), into: token, label: "institution", id: "01")
        let pin = folder.path("pin")
        #expect(
            FileManager.default.createFile(
                atPath: pin, contents: Data((token.userPIN + "\n").utf8), attributes: [.posixPermissions: 0o600]))
        let onToken = folder.path("station-token.yaml")
        try String(contentsOfFile: config, encoding: .utf8)
            .replacingOccurrences(
                of: "key: \(directory.institutionKey(institution.code))",
                with: "key: \"\(token.uri);object=institution\"\n  pin_file: \(pin)\n  pkcs11_module: \(SoftHSM.spyPath)")
            .write(toFile: onToken, atomically: false, encoding: .utf8)
        let pushedFromToken = try await run("vhc", ["audit", "push", "--config", onToken])
        #expect(
            pushedFromToken.status == 0 && pushedFromToken.stdout.hasPrefix("sent the audit head"),
            "\(pushedFromToken.stdout)\(pushedFromToken.stderr)")
        #expect(SoftHSM.spiedLogins(pin: token.userPIN) == 1)

        // The database is the one the configuration names, as `vhc audit push` reads it.
        let verified = try await run("vhc", ["audit", "verify", "--anchors", "cloud", "--config", config])
        #expect(verified.status == 0 && verified.stdout.contains("anchors"), "\(verified.stdout)\(verified.stderr)")
        let local = try await run("vhc", ["audit", "verify", "--config", config])
        #expect(local.status == 0 && local.stdout.hasPrefix("audit log intact"), "\(local.stdout)\(local.stderr)")

        // A copy cut back by its last rows (head made to agree) no longer reaches the cloud's anchors.
        let copy = folder.path("cut.sqlite")
        try await DatabaseQueue(path: folder.path("station.sqlite")).writeWithoutTransaction { db in
            try db.execute(sql: "VACUUM INTO ?", arguments: [copy])
        }
        try await DatabaseQueue(path: copy).write { db in
            try db.execute(sql: "DROP TRIGGER audit_log_no_delete")
            let last = try Int64.fetchOne(db, sql: "SELECT max(sequence) FROM audit_log")!
            try db.execute(sql: "DELETE FROM audit_log WHERE sequence > ?", arguments: [last - 3])
            try db.execute(
                sql: "UPDATE audit_head SET sequence = ?, hash = (SELECT hash FROM audit_log WHERE sequence = ?)",
                arguments: [last - 3, last - 3])
        }
        let cut = try await run(
            "vhc", ["audit", "verify", "--database", copy, "--anchors", "cloud", "--config", config])
        #expect(cut.status == 1 && cut.stdout.contains("cut: an anchor records row"), "\(cut.stdout)\(cut.stderr)")
        try await cloud.stop()
    }

    @Test func theTerminalQRCodeDrawsEveryModule() throws {
        let code = try QRCode.alphanumeric("VHC1:HELLO")
        let lines = code.terminalText(quietZoneModules: 2).split(separator: "\n")
        let side = code.size + 4
        #expect(lines.count == (side + 1) / 2)
        for (row, line) in lines.enumerated() {
            let cells = Array(
                line.replacingOccurrences(of: "\u{1B}[30;47m", with: "").replacingOccurrences(of: "\u{1B}[0m", with: "")
            )
            #expect(cells.count == side)
            for (x, cell) in cells.enumerated() {
                func dark(_ y: Int) -> Bool {
                    let (column, moduleRow) = (x - 2, y - 2)
                    return (0..<code.size).contains(column) && (0..<code.size).contains(moduleRow)
                        && code[column, moduleRow]
                }
                let expected: Character =
                    switch (dark(row * 2), dark(row * 2 + 1)) {
                    case (true, true): "█"
                    case (true, false): "▀"
                    case (false, true): "▄"
                    case (false, false): " "
                    }
                #expect(cell == expected)
            }
        }
    }
}
