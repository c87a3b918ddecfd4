import Foundation
import StationConfiguration
import TestSupport
import Testing

@Suite("Station configuration: YAML file, overrides, and a message naming the key for each mistake")
struct StationConfigTests {
    let folder = try! TemporaryFolder(prefix: "vhc-station-config")

    func write(_ text: String) throws -> String {
        let path = folder.path("station.yaml")
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    static let minimal = """
        institution: "0123456789"
        trust:
          root: /etc/vhc-station/root.pub
        """

    @Test("the shipped example parses, and says what the README and the unit expect")
    func example() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let config = try StationConfig.load(
            path: repository.appendingPathComponent("systemd/station.yaml.example").path)
        #expect(config.institution == "0123456789")
        #expect(config.camera == .init(path: "/dev/vhc-camera", width: 640, height: 480))
        #expect(config.trust.trustList == "/etc/vhc-station/trust-list.cose" && config.trust.skewSeconds == 120)
        #expect(config.session.lengthSeconds == 3600)
        #expect(config.storage.database == "/var/lib/vhc-station/station.sqlite")
        #expect(config.api.socket == "/run/vhc-station/api.sock" && config.api.socketGroup == "vhc")
        #expect(config.api.tcp == nil)  // "" is off
    }

    @Test("scanner.device: serial or keyboard by prefix or by place; page.ready_seconds 20 and page.capture_seconds 120 unless set")
    func scannersAndPage() throws {
        let text = Self.minimal + """

            scanner:
              device: "/dev/vhc-scanner, keyboard: /dev/vhc-kbd,serial:/dev/input/odd, /dev/input/by-id/usb-X-event-kbd, /dev/vhc-scanner-kbd"
            page:
              ready_seconds: 0
              capture_seconds: 45
            """
        let config = try StationConfig.load(path: try write(text))
        #expect(
            config.scanners == [
                .init(path: "/dev/vhc-scanner", interface: .serial),
                .init(path: "/dev/vhc-kbd", interface: .keyboard),
                .init(path: "/dev/input/odd", interface: .serial),
                .init(path: "/dev/input/by-id/usb-X-event-kbd", interface: .keyboard),
                .init(path: "/dev/vhc-scanner-kbd", interface: .keyboard),
            ])
        #expect(config.pageReadySeconds == 0 && config.pageCaptureSeconds == 45)
        let his = try StationConfig.load(path: try write(Self.minimal + "\nhis:\n  listen: localhost:5066\n")).his
        #expect(his?.address.description == "localhost:5066" && his?.tokenFile == nil && his?.presentSeconds == 120)
        #expect(his?.tls == true)
        let plainHTTP = try StationConfig.load(path: try write(Self.minimal + "\nhis:\n  listen: localhost:5066\n  tls: false\n"))
        #expect(plainHTTP.his?.tls == false)
        let plain = try StationConfig.load(path: try write(Self.minimal))
        #expect(plain.scanners.isEmpty && plain.pageReadySeconds == 20 && plain.pageCaptureSeconds == 120)
        // Under 10 s a clinician could not even pick the call's window; a bad value is the config's error.
        let tooShort = #expect(throws: ConfigError.self) {
            try StationConfig.load(path: try write(Self.minimal + "\npage:\n  capture_seconds: 5\n"))
        }
        #expect(tooShort?.code == .invalidValue && tooShort?.key == "page.capture_seconds")
    }

    @Test("cloud.give_up_hours: the protocol's 72 hours unless set, in seconds")
    func giveUpHours() throws {
        let cloud = "\ncloud:\n  url: https://h:1\n  ca: /c\n  certificate: /c\n  key: /k\n"
        let unset = try #require(try StationConfig.load(path: try write(Self.minimal + cloud)).cloud)
        #expect(unset.giveUpSeconds == 259_200)
        let set = try #require(
            try StationConfig.load(path: try write(Self.minimal + cloud + "  give_up_hours: 24\n")).cloud)
        #expect(set.giveUpSeconds == 86_400, "\(set)")
    }

    @Test("cloud.key as a PKCS#11 URI: the certificate may come from the token; the module and PIN file are kept")
    func keyOnToken() throws {
        let cloud = "\ncloud:\n  url: https://h:1\n  ca: /c\n  key: \"pkcs11:token=Clinic;object=institution\"\n"
        let onToken = try #require(
            try StationConfig.load(
                path: try write(Self.minimal + cloud + "  pin_file: /etc/pin\n  pkcs11_module: /usr/lib/m.so\n")
            ).cloud)
        #expect(onToken.key == "pkcs11:token=Clinic;object=institution" && onToken.certificate == nil)
        #expect(onToken.pinFile == "/etc/pin" && onToken.pkcs11Module == "/usr/lib/m.so")
        // The URI's own pin-source serves as the PIN file.
        let sourced = "\ncloud:\n  url: https://h:1\n  ca: /c\n  key: \"pkcs11:object=k?pin-source=/etc/pin\"\n"
        #expect(try StationConfig.load(path: try write(Self.minimal + sourced)).cloud?.pinFile == nil)
    }

    @Test("defaults fill what the file leaves out; command-line overrides win over the file")
    func defaultsAndOverrides() throws {
        let path = try write(Self.minimal + "\ncamera:\n  size: 1280x720\n")
        let config = try StationConfig.load(path: path)
        #expect(config.camera == .init(path: nil, width: 1280, height: 720))
        #expect(config.session.lengthSeconds == 3600 && config.trust.skewSeconds == 120)
        #expect(config.api.tokenFile == nil && config.api.tcp == nil)
        let overridden = try StationConfig.load(
            path: path,
            overrides: [
                "camera.size": "640x480", "camera.path": "fake:/tmp/frames", "session.length_seconds": "7200",
                "api.tcp": "127.0.0.1:8787", "api.token_file": "/etc/vhc-station/api-token",
            ])
        #expect(overridden.camera == .init(path: "fake:/tmp/frames", width: 640, height: 480))
        #expect(overridden.session.lengthSeconds == 7200)
        #expect(overridden.api.tcp?.description == "127.0.0.1:8787")
        // No file at all: overrides and defaults only.
        let bare = try StationConfig.load(
            path: nil, overrides: ["institution": "ABCDE12345", "trust.root": "/root.pub"])
        #expect(bare.institution == "ABCDE12345")
    }

    @Test(
        "each kind of mistake stops the load with its code and the key it concerns",
        arguments: [
            ("institution: [1, 2\n", ConfigError.Code.syntax, nil as String?),
            ("- a\n- b\n", .syntax, nil),
            (minimal + "\ncamra:\n  path: /dev/video0\n", .unknownKey, "camra"),
            (minimal + "\ncamera:\n  pth: /dev/video0\n", .unknownKey, "camera.pth"),
            (minimal + "\nskew_seconds: 30\n", .unknownKey, "skew_seconds"),
            ("trust:\n  root: /r.pub\n", .missingKey, "institution"),
            ("institution: \"0123456789\"\n", .missingKey, "trust.root"),
            ("", .missingKey, "institution"),
            ("institution: 12345\ntrust:\n  root: /r.pub\n", .invalidValue, "institution"),
            ("institution: \"012345678a\"\ntrust:\n  root: /r.pub\n", .invalidValue, "institution"),
            (minimal + "\ncamera:\n  size: 640-480\n", .invalidValue, "camera.size"),
            (minimal + "\ncamera:\n  size: 99999x480\n", .invalidValue, "camera.size"),
            (minimal + "\ncamera:\n  path: video0\n", .invalidValue, "camera.path"),
            (minimal + "\nscanner:\n  device: ttyACM0\n", .invalidValue, "scanner.device"),
            (minimal + "\nscanner:\n  device: hid:/dev/input/event3\n", .invalidValue, "scanner.device"),
            (minimal + "\nscanner:\n  device: \"keyboard:event3\"\n", .invalidValue, "scanner.device"),
            (minimal + "\nscanner:\n  device: \"/dev/a, serial:/dev/a\"\n", .invalidValue, "scanner.device"),
            (minimal + "\npage:\n  ready_seconds: -1\n", .invalidValue, "page.ready_seconds"),
            (minimal + "\nhis:\n  listen: 0.0.0.0:5066\n", .invalidValue, "his.listen"),
            (minimal + "\nhis:\n  listen: 127.0.0.1:5066\n  tls: yes\n", .invalidValue, "his.tls"),
            (minimal + "\nhis:\n  listen: 127.0.0.1:5066\n  present_seconds: 4000\n", .invalidValue, "his.present_seconds"),
            (minimal + "\nhis:\n  listen: 127.0.0.1:8787\napi:\n  tcp: 127.0.0.1:8787\n  token_file: /t\n", .invalidValue, "his.listen"),
            (minimal + "\nhis:\n  listen: 127.0.0.1:5066\n  token_file: his-token\n", .invalidValue, "his.token_file"),
            (minimal + "\npage:\n  ready_seconds: 3601\n", .invalidValue, "page.ready_seconds"),
            ("institution: \"0123456789\"\ntrust:\n  root: root.pub\n", .invalidValue, "trust.root"),
            (minimal + "\n  skew_seconds: 121\n", .invalidValue, "trust.skew_seconds"),
            (minimal + "\n  skew_seconds: two minutes\n", .invalidValue, "trust.skew_seconds"),
            (minimal + "\nsession:\n  length_seconds: 10\n", .invalidValue, "session.length_seconds"),
            (minimal + "\napi:\n  tcp: 0.0.0.0:8787\n  token_file: /t\n", .invalidValue, "api.tcp"),
            (minimal + "\napi:\n  tcp: 127.0.0.1:99999\n  token_file: /t\n", .invalidValue, "api.tcp"),
            (minimal + "\napi:\n  tcp: 127.0.0.1:8787\n", .missingKey, "api.token_file"),
            (minimal + "\napi:\n  socket_group: \"a b\"\n", .invalidValue, "api.socket_group"),
            (minimal + "\ncamera:\n  size:\n    - 640\n    - 480\n", .invalidValue, "camera.size"),
            (minimal + "\ninstitution: \"9999999999\"\n", .syntax, nil),  // a key given twice
            (minimal + "\ncloud:\n  url: http://127.0.0.1:8443\n", .invalidValue, "cloud.url"),
            (minimal + "\ncloud:\n  url: https://127.0.0.1:8443\n", .missingKey, "cloud.ca"),
            (
                minimal + "\ncloud:\n  url: https://h:1\n  ca: /c\n  certificate: /c\n  key: /k\n  station: \"a b\"\n",
                .invalidValue, "cloud.station"
            ),
            (
                minimal + "\ncloud:\n  url: https://h:1\n  ca: /c\n  certificate: /c\n  key: /k\n  give_up_hours: 0\n",
                .invalidValue, "cloud.give_up_hours"
            ),
            // A key on a token needs its PIN's file; a key file must still be a path.
            (minimal + "\ncloud:\n  url: https://h:1\n  ca: /c\n  key: \"pkcs11:token=A;object=k\"\n", .missingKey, "cloud.pin_file"),
            (minimal + "\ncloud:\n  url: https://h:1\n  ca: /c\n  certificate: /c\n  key: k.pem\n", .invalidValue, "cloud.key"),
            (
                minimal + "\ncloud:\n  url: https://h:1\n  ca: /c\n  key: \"pkcs11:object=k\"\n  pin_file: pin\n",
                .invalidValue, "cloud.pin_file"
            ),
        ])
    func mistakes(text: String, code: ConfigError.Code, key: String?) throws {
        let path = try write(text)
        let error = #expect(throws: ConfigError.self) { try StationConfig.load(path: path) }
        #expect(error?.code == code, "\(String(describing: error))")
        #expect(error?.key == key, "\(String(describing: error))")
        if let key, let error { #expect(error.description.hasPrefix(key + ": ")) }
    }

    @Test("a misspelt key suggests the right one; a syntax error names its line")
    func messages() throws {
        let misspelt = #expect(throws: ConfigError.self) {
            try StationConfig.load(path: try write(Self.minimal + "\n  skew: 10\n"))
        }
        #expect(misspelt?.description == "trust.skew: unknown key")
        let near = #expect(throws: ConfigError.self) {
            try StationConfig.load(path: try write(Self.minimal + "\nlength_seconds: 10\n"))
        }
        #expect(near?.description == "length_seconds: unknown key (did you mean session.length_seconds?)")
        let syntax = #expect(throws: ConfigError.self) {
            try StationConfig.load(path: try write("institution: \"0123456789\"\ntrust: {root: /r.pub\n"))
        }
        #expect(syntax?.message.hasPrefix("line ") == true, "\(String(describing: syntax))")
    }

    @Test(
        "YAML's null (~, null, empty) means not set, quoted it is text; a dotted key is refused; a near typo gets a suggestion"
    )
    func nullsDottedKeysAndTypos() throws {
        let nulls = try StationConfig.load(
            path: try write(
                Self.minimal + "\napi:\n  tcp: ~\n  socket_group: null\n  token_file:\ncamera:\n  path: Null\n"))
        #expect(nulls.api.tcp == nil && nulls.api.socketGroup == nil && nulls.api.tokenFile == nil)
        #expect(nulls.camera.path == nil)
        let quoted = try StationConfig.load(path: try write(Self.minimal + "\napi:\n  socket_group: \"null\"\n"))
        #expect(quoted.api.socketGroup == "null")
        let dotted = #expect(throws: ConfigError.self) {
            try StationConfig.load(
                path: try write(Self.minimal + "\ncamera:\n  size: 640x480\ncamera.size: 1280x720\n"))
        }
        #expect(dotted?.code == .unknownKey && dotted?.key == "camera.size")
        let typo = #expect(throws: ConfigError.self) {
            try StationConfig.load(path: try write(Self.minimal + "\n  skew_second: 30\n"))
        }
        #expect(typo?.description == "trust.skew_second: unknown key (did you mean trust.skew_seconds?)")
        let connections = try StationConfig.load(
            path: try write(Self.minimal + "\napi:\n  max_connections: 64\n  header_timeout_seconds: 5\n"))
        #expect(connections.api.maximumConnections == 64 && connections.api.headerTimeoutSeconds == 5)
        #expect(connections.api.idleTimeoutSeconds == 60)
    }

    @Test("unreadable, oversized and non-UTF-8 files, and an unknown override, are refused")
    func unreadable() throws {
        #expect(
            (#expect(throws: ConfigError.self) { try StationConfig.load(path: folder.path("missing.yaml")) })?.code
                == .unreadable)
        let large = try write(String(repeating: "# padding\n", count: 7000))
        #expect((#expect(throws: ConfigError.self) { try StationConfig.load(path: large) })?.code == .unreadable)
        let binary = folder.path("binary.yaml")
        try Data([0xFF, 0xFE, 0x00, 0x41]).write(to: URL(fileURLWithPath: binary))
        #expect((#expect(throws: ConfigError.self) { try StationConfig.load(path: binary) })?.code == .unreadable)
        let unknown = #expect(throws: ConfigError.self) {
            try StationConfig.load(path: try write(Self.minimal), overrides: ["camera.fps": "30"])
        }
        #expect(unknown?.code == .unknownKey && unknown?.key == "camera.fps")
    }
}
