import StationConfiguration
import StationModels

/// `vhc doctor`'s judgement (issue 25): the first-day and bad-day check a clinic runs. What `vhc doctor`
/// gathers (the configuration, the daemon's status, the camera device, the cloud's clock, the unit's
/// hardening) goes in as `Facts`; each check comes out as a `Finding`, OK, WARN or FAIL, with what to do in
/// Traditional Chinese and English. Pure, so every judgement is tested without a camera or a cloud.
package enum StationDoctor {
    package struct Finding: Sendable, Equatable, Encodable {
        package enum Level: String, Sendable, Comparable, Encodable {
            case ok = "OK", warn = "WARN", fail = "FAIL"
            private var rank: Int { self == .ok ? 0 : self == .warn ? 1 : 2 }
            package static func < (a: Level, b: Level) -> Bool { a.rank < b.rank }
        }
        package var check: String
        package var level: Level
        package var en: String
        package var zhHant: String

        package init(_ check: String, _ level: Level, en: String, zh: String) {
            self.check = check
            self.level = level
            self.en = en
            self.zhHant = zh
        }
    }

    /// What the camera device said when opened (`camera.path`), when the daemon cannot tell.
    package enum DeviceProbe: Sendable, Equatable {
        case opened, missing, denied, busy
        case failed(String)
    }

    package struct Facts: Sendable {
        /// The configuration, or why it could not be read.
        package var config: Result<StationConfig, ConfigProblem>
        /// The daemon's status, or why it could not be asked (its words, and whether access was denied).
        package var status: Result<StationStatus, DaemonProblem>
        package var device: DeviceProbe?
        /// The cloud's clock less this machine's, in seconds, from its `Date` (nil: not reached).
        package var cloudClockOffset: Int64?
        /// `systemd-analyze security`'s overall exposure of the installed unit (nil: no unit installed).
        package var unitExposure: Double?
        /// Free space where the database lives, in MiB, when measured here.
        package var freeMiB: Int64?

        package init(
            config: Result<StationConfig, ConfigProblem>, status: Result<StationStatus, DaemonProblem>,
            device: DeviceProbe? = nil, cloudClockOffset: Int64? = nil, unitExposure: Double? = nil,
            freeMiB: Int64? = nil
        ) {
            self.config = config
            self.status = status
            self.device = device
            self.cloudClockOffset = cloudClockOffset
            self.unitExposure = unitExposure
            self.freeMiB = freeMiB
        }
    }

    package struct ConfigProblem: Error, Sendable {
        package var message: String
        package init(_ message: String) { self.message = message }
    }
    package struct DaemonProblem: Error, Sendable {
        package var message: String
        package var denied: Bool
        package init(_ message: String, denied: Bool) {
            self.message = message
            self.denied = denied
        }
    }

    /// 0 when every check is OK, 1 with a warning, 2 with a failure.
    package static func exitStatus(_ findings: [Finding]) -> Int32 {
        switch findings.map(\.level).max() ?? .ok {
        case .ok: 0
        case .warn: 1
        case .fail: 2
        }
    }

    package static func examine(_ facts: Facts) -> [Finding] {
        var findings: [Finding] = []
        let config: StationConfig
        switch facts.config {
        case .failure(let problem):
            return [
                Finding(
                    "configuration", .fail, en: "\(problem.message): fix the key named, then start the station again",
                    zh: "設定檔有誤（\(problem.message)）：請修正所指的設定後重新啟動")
            ]
        case .success(let loaded):
            config = loaded
            findings.append(Finding("configuration", .ok, en: "readable, institution \(loaded.institution)", zh: "設定檔可讀取"))
        }
        let status: StationStatus
        switch facts.status {
        case .failure(let problem):
            findings.append(
                problem.denied
                    ? Finding(
                        "daemon", .fail,
                        en: "\(problem.message): join the group vhc (sudo usermod -aG vhc $USER) and log in again",
                        zh: "無權限連線至站台服務：請將帳號加入 vhc 群組後重新登入")
                    : Finding(
                        "daemon", .fail, en: "\(problem.message): start it (systemctl start vhc-stationd) and read "
                            + "journalctl -u vhc-stationd", zh: "站台服務未執行：請啟動 vhc-stationd 並查看日誌"))
            findings += camera(config, nil, facts.device)
            findings += disk(config, nil, facts.freeMiB)
            findings += hardening(facts.unitExposure)
            return findings
        case .success(let answered):
            status = answered
            findings.append(Finding("daemon", .ok, en: "running, \(status.version.map { "version \($0)" } ?? "")", zh: "站台服務執行中"))
        }
        findings += camera(config, status.camera, facts.device)
        findings += lists(status)
        findings += clock(config, status, facts.cloudClockOffset)
        findings += cloud(config, status)
        findings += disk(config, status.database, facts.freeMiB)
        findings += hardening(facts.unitExposure)
        return findings
    }

    static func camera(_ config: StationConfig, _ camera: CameraStatus?, _ device: DeviceProbe?) -> [Finding] {
        guard let path = config.camera.path else {
            return [Finding("camera", .ok, en: "none configured (a handheld scanner or pictures only)", zh: "未設定攝影機")]
        }
        // The daemon's own last error when it has one (it opens the device as vhc-station, in group video);
        // the doctor's own probe only when the daemon cannot be asked.
        let device = camera?.lastError.map(Self.probe(fromCode:)) ?? device
        if let camera, camera.state == .streaming {
            return [
                Finding(
                    "camera", .ok, en: "streaming \(path) at \(Int(camera.framesPerSecond.rounded())) frames/s",
                    zh: "攝影機串流中")
            ]
        }
        switch device {
        case .denied?:
            return [
                Finding(
                    "camera", .fail,
                    en: "\(path): permission denied: install the udev rule (make-udev-rule.sh), which gives it to group video",
                    zh: "攝影機無存取權限：請安裝 udev 規則（video 群組）")
            ]
        case .busy?:
            return [
                Finding(
                    "camera", .fail, en: "\(path) is busy: another program (a video call?) holds it; close it",
                    zh: "攝影機被其他程式占用：請關閉該程式")
            ]
        case .missing?:
            return [
                Finding(
                    "camera", .fail, en: "\(path) is not there: plug the camera in, or check camera.path and the udev rule",
                    zh: "找不到攝影機：請接上攝影機，或檢查 camera.path 與 udev 規則")
            ]
        case .failed(let why)?:
            return [Finding("camera", .fail, en: "\(path): \(why)", zh: "攝影機無法開啟：\(why)")]
        case .opened?, nil:
            guard let camera else { return [Finding("camera", .ok, en: "\(path) opens", zh: "攝影機可開啟")] }
            return [
                Finding(
                    "camera", camera.state == .opening ? .warn : .fail,
                    en: "\(path) is \(camera.state.rawValue): the station reopens it by itself; if it stays so, "
                        + "unplug it and plug it in again", zh: "攝影機狀態：\(camera.state.rawValue)，若持續請重新插拔")
            ]
        }
    }

    /// The daemon's camera error code as what opening the device found.
    static func probe(fromCode code: String) -> DeviceProbe {
        switch code {
        case "camera_permission_denied": .denied
        case "camera_busy": .busy
        case "camera_missing", "camera_unplugged": .missing
        default: .failed(code)
        }
    }

    static func lists(_ status: StationStatus) -> [Finding] {
        trustList(status) + revocationList(status)
    }

    static func trustList(_ status: StationStatus) -> [Finding] {
        guard let trust = status.trustList else {
            return [
                Finding(
                    "lists", .fail, en: "no trust list: every card is refused until one is installed (cloud sync or trust.trust_list)",
                    zh: "沒有信任清單：所有卡片都會被拒絕")
            ]
        }
        if trust.state == .expired {
            return [
                Finding(
                    "lists", .fail, en: "the trust list (sequence \(trust.sequence)) has expired: every card is refused "
                        + "until a newer one arrives", zh: "信任清單已過期：請更新清單")
            ]
        }
        let left = trust.expiresAt - status.now
        if left < 0 {
            return [
                Finding(
                    "lists", .warn, en: "the trust list expired \(-left / 60) min ago and is used for a few minutes' "
                        + "grace: connect to the cloud now", zh: "信任清單已過期（寬限中）：請立即連線更新")
            ]
        }
        if left < 86_400 {
            return [
                Finding(
                    "lists", .warn, en: "the trust list expires in \(left / 3600) h: connect to the cloud (or install "
                        + "a newer list) before it does", zh: "信任清單將於一天內過期：請連線更新")
            ]
        }
        return [Finding("lists", .ok, en: "trust list sequence \(trust.sequence), \(trust.ageSeconds / 3600) h old", zh: "清單有效")]
    }

    /// Without a current revocation list every delegated card (family, caregivers) is refused.
    static func revocationList(_ status: StationStatus) -> [Finding] {
        guard let revocation = status.revocationList else {
            return [
                Finding(
                    "revocations", .warn, en: "no revocation list: delegated cards (family, caregivers) are refused "
                        + "until one arrives", zh: "沒有撤銷清單：代理卡（家屬、照顧者）會被拒絕")
            ]
        }
        if revocation.state == .expired {
            return [
                Finding(
                    "revocations", .fail, en: "the revocation list (sequence \(revocation.sequence)) has expired: "
                        + "delegated cards are refused until a newer one arrives", zh: "撤銷清單已過期：代理卡會被拒絕")
            ]
        }
        return [Finding("revocations", .ok, en: "revocation list sequence \(revocation.sequence)", zh: "撤銷清單有效")]
    }

    static func clock(_ config: StationConfig, _ status: StationStatus, _ offset: Int64?) -> [Finding] {
        if status.clock.state == .rolledBack {
            return [
                Finding(
                    "clock", .fail, en: "the clock went back behind the station's record: set it right (timedatectl), "
                        + "then vhc clock reset", zh: "系統時間倒退：請校正時間後執行 vhc clock reset")
            ]
        }
        if let offset {
            let skew = config.trust.skewSeconds
            let level: Finding.Level = abs(offset) > skew ? .fail : abs(offset) > skew / 2 ? .warn : .ok
            return [
                Finding(
                    "clock", level, en: "\(abs(offset)) s \(offset > 0 ? "behind" : "ahead of") the cloud's"
                        + (level == .ok ? "" : ": turn on time synchronisation (timedatectl set-ntp true)"),
                    zh: level == .ok ? "時間與雲端一致" : "時間與雲端相差 \(abs(offset)) 秒：請開啟網路校時")
            ]
        }
        if let trust = status.trustList, status.now + config.trust.skewSeconds < trust.issuedAt {
            return [
                Finding(
                    "clock", .fail, en: "the clock is before the trust list was issued: set it right (timedatectl)",
                    zh: "系統時間早於清單發布時間：請校正時間")
            ]
        }
        return [Finding("clock", .ok, en: "plausible (not compared with a cloud)", zh: "時間合理")]
    }

    static func cloud(_ config: StationConfig, _ status: StationStatus) -> [Finding] {
        guard config.cloud != nil, let cloud = status.cloud else {
            return [Finding("cloud", .ok, en: "none configured: the station works on its own", zh: "未設定雲端")]
        }
        var findings: [Finding] = []
        switch cloud.state {
        case .online:
            findings.append(Finding("cloud", .ok, en: "online, outbox \(cloud.outboxLength)", zh: "雲端連線正常"))
        case .offline, .unknown:
            let waiting = "\(cloud.outboxLength) visit(s) waiting"
                + (cloud.oldestOutboxAgeSeconds.map { ", the oldest \($0 / 60) min" } ?? "")
            findings.append(
                Finding(
                    "cloud", .warn, en: "offline (\(cloud.lastError ?? "not reached yet")), \(waiting): they are sent "
                        + "when it is back", zh: "雲端離線，\(cloud.outboxLength) 筆就醫待上傳，恢復連線後自動送出"))
        }
        if cloud.undeliverable > 0 {
            findings.append(
                Finding(
                    "cloud", .warn, en: "\(cloud.undeliverable) opening(s) given up as undeliverable: follow them up "
                        + "(vhc sessions list)", zh: "\(cloud.undeliverable) 筆就醫無法送達雲端：請追蹤處理"))
        }
        if let refusal = status.practitionerRefusal {
            findings.append(
                Finding(
                    "practitioner", .fail, en: "the cloud refused \(refusal.practitioner.name): \(refusal.code)",
                    zh: "雲端拒絕醫事人員憑證（\(refusal.code)）"))
        } else if let practitioner = status.practitioner {
            findings.append(Finding("practitioner", .ok, en: "\(practitioner.name) logged in", zh: "醫事人員已登入"))
        } else {
            findings.append(
                Finding(
                    "practitioner", .warn, en: "no practitioner logged in: visits wait for one (vhc login)",
                    zh: "尚無醫事人員登入：就醫將等待簽章（vhc login）"))
        }
        return findings
    }

    static func disk(_ config: StationConfig, _ database: StationStatus.DatabaseStatus?, _ measured: Int64?) -> [Finding] {
        var findings: [Finding] = []
        if let trouble = database?.storage {
            // Low space is a warning (the station still records); full or unwritable is not.
            let low = trouble.problem == .storageLow
            findings.append(
                Finding(
                    "database", low ? .warn : .fail, en: "\(trouble.problem.rawValue): \(trouble.detail)",
                    zh: low ? "磁碟空間偏低" : "資料庫無法寫入：\(trouble.detail)"))
        } else if database != nil {
            findings.append(Finding("database", .ok, en: "writable", zh: "資料庫可寫入"))
        }
        if let free = database?.freeMiB ?? measured {
            let minimum = config.storage.minimumFreeMiB
            // Low space is a warning: scans fail only once the disk is full (the database check says so).
            let level: Finding.Level = free < 2 * minimum ? .warn : .ok
            findings.append(
                Finding(
                    "disk", level, en: "\(free) MiB free" + (level == .ok ? "" : ": free some space before the disk "
                        + "fills and scans are refused (storage.min_free_mib is \(minimum))"),
                    zh: level == .ok ? "磁碟空間足夠" : "磁碟空間偏低：請在寫滿前清出空間"))
        }
        return findings
    }

    static func hardening(_ exposure: Double?) -> [Finding] {
        guard let exposure else {
            return [
                Finding(
                    "unit", .warn, en: "vhc-stationd.service is not installed: a station run by hand has none of its hardening",
                    zh: "未安裝 systemd 服務：手動執行的站台沒有防護設定")
            ]
        }
        return [
            exposure <= 1.5
                ? Finding("unit", .ok, en: "hardened (exposure \(exposure))", zh: "服務防護正常")
                : Finding(
                    "unit", .warn, en: "exposure \(exposure), above 1.5: a drop-in loosened it (systemctl cat vhc-stationd)",
                    zh: "服務防護被放寬：請檢查 drop-in 設定")
        ]
    }
}
