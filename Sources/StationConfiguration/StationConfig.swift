import CloudProtocol
import Foundation
import Yams

/// The daemon's configuration: a YAML file (`/etc/vhc-station/station.yaml`) with command-line
/// overrides. Every value goes through one validation, whichever source it came from, and a mistake
/// stops the start with a message that names the key (`camera.size: …`).
package struct StationConfig: Sendable, Equatable {
    /// The 10-character institution code (醫事機構代碼).
    package var institution: String
    package var camera: Camera
    /// Handheld scanners (`scanner.device`: one, or several separated by commas).
    package var scanners: [Scanner] = []
    package var trust: Trust
    package var session: Session
    package var storage: Storage
    package var api: API
    /// The cloud the station reports to; nil when it works on its own.
    package var cloud: Cloud?
    /// The compatibility listener a clinic's HIS talks to as it talks to NHIA's card control software
    /// (docs/his-compatibility.md); nil when off.
    package var his: HIS?
    /// The front-desk page: seconds without a new verdict before its panel says "ready to scan" again and
    /// the holder leaves the screen (0: never).
    package var pageReadySeconds: Int64 = 20
    /// The front-desk page: seconds a reading of a shared video-call window goes on without a valid code
    /// before it stops by itself.
    package var pageCaptureSeconds: Int64 = 120

    /// The cloud (`vhc-cloud` or the NHIA's): its address and CA, the institution's TLS certificate and
    /// key, and the name this station goes by in the audit heads it sends.
    package struct Cloud: Sendable, Equatable {
        package var url: String
        package var ca: String
        /// The institution's certificate file; nil when the key is on a token that holds it too.
        package var certificate: String?
        /// The institution's TLS key: a PEM file, or a PKCS#11 URI (`pkcs11:token=…;object=…`) of a key
        /// on a card or token that never leaves it (docs/cards.md).
        package var key: String
        /// The PKCS#11 module for a key on a token (default: p11-kit's proxy), and the file (0600) that
        /// holds the token's PIN.
        package var pkcs11Module: String?
        package var pinFile: String?
        /// The PKCS#11 module practitioners' cards are read through (`vhc login --pkcs11`), besides
        /// p11-kit's proxy: the only modules a login may make the daemon load.
        package var cardModule: String?
        package var station: String
        /// The care setting the station opens visits in (the institution must be enrolled in it).
        package var setting: CareSetting = .outpatient
        /// How long a practitioner's login lasts unless `vhc login` says otherwise.
        package var shiftSeconds: Int64 = 8 * 3600
        /// How often the lists are fetched from the cloud.
        package var listSyncSeconds: Int64 = 300
        /// The longest pause between tries while the cloud does not answer.
        package var retryMaxSeconds: Int64 = 60
        /// How long an opening is tried before it is given up as undeliverable (its token wiped, the
        /// clinic told): the protocol's deferral window, after which the cloud could only refuse it.
        package var giveUpSeconds: Int64 = 72 * 3600
    }

    package struct Camera: Sendable, Equatable {
        /// A V4L2 device path, or `fake:FILE-OR-DIR` for the simulated camera; `nil`: no camera.
        package var path: String?
        package var width: Int
        package var height: Int
        package init(path: String?, width: Int, height: Int) {
            self.path = path
            self.width = width
            self.height = height
        }
    }

    /// A handheld scanner: its device and how it talks. Written `serial:PATH` or `keyboard:PATH`; a bare
    /// path is a keyboard when it is under `/dev/input/` or ends in `-kbd`, else a serial port.
    package struct Scanner: Sendable, Equatable {
        package enum Interface: String, Sendable, Equatable, CaseIterable {
            /// USB CDC-ACM (`/dev/ttyACM*`): the bytes as scanned.
            case serial
            /// USB HID keyboard, read through evdev (`/dev/input/event*`) and grabbed.
            case keyboard
        }
        package var path: String
        package var interface: Interface
        package init(path: String, interface: Interface) {
            self.path = path
            self.interface = interface
        }
    }

    package struct Trust: Sendable, Equatable {
        /// The trust root's package key (PEM or raw).
        package var root: String
        /// Lists installed at start when newer than the held ones.
        package var trustList: String?
        package var revocationList: String?
        package var skewSeconds: Int64
    }

    package struct Session: Sendable, Equatable {
        package var lengthSeconds: Int64
    }

    package struct Storage: Sendable, Equatable {
        package var database: String
        /// Below this much free space on the database's file system the station says so (a warning in
        /// the log and `storage_low` in its status) before a write fails for want of it.
        package var minimumFreeMiB: Int64 = 100
        /// Where the database is unless `storage.database` says otherwise.
        package static let defaultDatabase = "/var/lib/vhc-station/station.sqlite"
    }

    package struct API: Sendable, Equatable {
        package var socket: String
        /// The group that may use the socket (mode 0660); `nil` keeps the daemon's own group.
        package var socketGroup: String?
        /// Optional loopback TCP listener, `127.0.0.1:8787`; it requires the bearer token.
        package var tcp: TCPAddress?
        package var tokenFile: String?
        /// Connections each listener holds at once; more wait in the kernel's backlog, so a flood on
        /// TCP can neither exhaust the daemon's descriptors nor reach the Unix socket's clients.
        package var maximumConnections: Int = 128
        /// A request head must arrive this long after a connection opens or a response ends.
        package var headerTimeoutSeconds: Int64 = 10
        /// A connection with no request in progress is closed after this long.
        package var idleTimeoutSeconds: Int64 = 60
    }

    package struct HIS: Sendable, Equatable {
        /// Loopback only, as the API's TCP listener (`his.listen`, the console's is 127.0.0.1:5066).
        package var address: TCPAddress
        /// HTTPS with the station's own self-signed certificate (`his.tls`, the console's way), or plain HTTP.
        package var tls: Bool = true
        /// A file holding a value the HIS sends in `Authorization: Bearer`; nil: any local client.
        package var tokenFile: String?
        /// How long a visit the station's own camera, scanner or page opened stands as "a card in the
        /// reader" for the HIS (`his.present_seconds`).
        package var presentSeconds: Int64
        package init(address: TCPAddress, tokenFile: String?, presentSeconds: Int64) {
            self.address = address
            self.tokenFile = tokenFile
            self.presentSeconds = presentSeconds
        }
    }

    package struct TCPAddress: Sendable, Equatable, CustomStringConvertible {
        package var host: String
        package var port: Int
        package var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// Every key the file and the overrides may set, with its default (nil: required or optional
    /// without one). Dotted keys name YAML mappings: `camera.size` is `camera:` → `size:`.
    package static let keys: [(key: String, default: String?)] = [
        ("institution", nil),
        ("camera.path", nil),
        ("camera.size", "640x480"),
        ("scanner.device", nil),
        ("trust.root", nil),
        ("trust.trust_list", nil),
        ("trust.revocation_list", nil),
        ("trust.skew_seconds", "120"),
        ("session.length_seconds", "3600"),
        ("storage.database", Storage.defaultDatabase),
        ("storage.min_free_mib", "100"),
        ("api.socket", "/run/vhc-station/api.sock"),
        ("api.socket_group", nil),
        ("api.tcp", nil),
        ("api.token_file", nil),
        ("api.max_connections", "128"),
        ("api.header_timeout_seconds", "10"),
        ("api.idle_timeout_seconds", "60"),
        ("cloud.url", nil),
        ("cloud.ca", nil),
        ("cloud.certificate", nil),
        ("cloud.key", nil),
        ("cloud.pkcs11_module", nil),
        ("cloud.pin_file", nil),
        ("cloud.card_module", nil),
        ("cloud.station", "station"),
        ("cloud.setting", "outpatient"),
        ("cloud.shift_hours", "8"),
        ("cloud.list_sync_seconds", "300"),
        ("cloud.retry_max_seconds", "60"),
        ("cloud.give_up_hours", "72"),
        ("page.ready_seconds", "20"),
        ("page.capture_seconds", "120"),
        ("his.listen", nil),
        ("his.tls", "true"),
        ("his.token_file", nil),
        ("his.present_seconds", "120"),
    ]

    package static let defaultPath = "/etc/vhc-station/station.yaml"
    static let maximumFileSize = 64 << 10

    /// Loads `path` (nil: no file, overrides and defaults only), then applies `overrides`
    /// (dotted key → text, from the command line).
    package static func load(path: String?, overrides: [String: String] = [:]) throws(ConfigError) -> StationConfig {
        var values: [String: String] = [:]
        if let path {
            let text: String
            do {
                let data = try FileHandle(forReadingFrom: URL(fileURLWithPath: path)).readData(
                    ofLength: maximumFileSize + 1)
                guard data.count <= maximumFileSize else {
                    throw ConfigError(.unreadable, key: nil, "\(path) is larger than \(maximumFileSize) bytes")
                }
                guard let decoded = String(data: data, encoding: .utf8) else {
                    throw ConfigError(.unreadable, key: nil, "\(path) is not UTF-8 text")
                }
                text = decoded
            } catch let error as ConfigError {
                throw error
            } catch {
                throw ConfigError(.unreadable, key: nil, "cannot read \(path): \(error.localizedDescription)")
            }
            values = try flatten(yaml: text)
        }
        for (key, value) in overrides {
            guard keys.contains(where: { $0.key == key }) else {
                throw ConfigError(.unknownKey, key: key, "unknown key")
            }
            values[key] = value
        }
        return try StationConfig(values: values)
    }
}
