import CloudProtocol
import Foundation
import PKCS11
import Yams

/// Reading a configuration file: YAML to dotted keys, then each key checked and typed; a mistake names
/// its key (and the nearest known key for a mistyped one).
extension StationConfig {
    /// The YAML text as dotted keys and scalar texts; unknown keys, nested values where a scalar
    /// belongs, and YAML syntax errors are refused here.
    static func flatten(yaml text: String) throws(ConfigError) -> [String: String] {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ConfigError(.syntax, key: nil, Self.describe(error))
        } catch {
            throw ConfigError(.syntax, key: nil, "\(error)")
        }
        guard let root else { return [:] }  // an empty file: all defaults
        guard case .mapping(let top) = root else {
            throw ConfigError(.syntax, key: nil, "the file must be a mapping of keys (key: value)")
        }
        var values: [String: String] = [:]
        func walk(_ mapping: Node.Mapping, prefix: String) throws(ConfigError) {
            for (keyNode, value) in mapping {
                guard case .scalar(let keyScalar) = keyNode else {
                    throw ConfigError(.syntax, key: prefix.isEmpty ? nil : prefix, "keys must be plain words")
                }
                // One spelling per key: `camera.size:` at the top would stand beside `camera: size:`.
                guard !keyScalar.string.contains(".") else {
                    throw ConfigError(
                        .unknownKey, key: keyScalar.string,
                        "write dotted keys as nested mappings (camera:, then size: indented under it)")
                }
                let key = prefix.isEmpty ? keyScalar.string : prefix + "." + keyScalar.string
                switch value {
                case .scalar(let scalar):
                    guard keys.contains(where: { $0.key == key }) else {
                        throw ConfigError(.unknownKey, key: key, "unknown key" + Self.suggestion(for: key))
                    }
                    // `~`, `null` and an empty value all mean "not set" (YAML's null); quoted, they are text.
                    if !Self.isNull(scalar) { values[key] = scalar.string }
                case .mapping(let nested):
                    guard keys.contains(where: { $0.key.hasPrefix(key + ".") }) else {
                        throw ConfigError(.unknownKey, key: key, "unknown section" + Self.suggestion(for: key))
                    }
                    try walk(nested, prefix: key)
                default:
                    throw ConfigError(.invalidValue, key: key, "expected a single value, not a list")
                }
            }
        }
        try walk(top, prefix: "")
        return values
    }

    /// One `scanner.device` entry: `serial:PATH`, `keyboard:PATH`, or a path whose place tells.
    static func scanner(_ entry: String) throws(ConfigError) -> Scanner {
        var path = entry
        var interface: Scanner.Interface?
        if let colon = entry.firstIndex(of: ":"), !entry.hasPrefix("/") {
            guard let named = Scanner.Interface(rawValue: String(entry[..<colon])) else {
                throw ConfigError(
                    .invalidValue, key: "scanner.device",
                    "expected serial:PATH, keyboard:PATH or an absolute path, got '\(entry)'")
            }
            interface = named
            path = entry[entry.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        guard path.hasPrefix("/"), !path.contains("\0") else {
            throw ConfigError(.invalidValue, key: "scanner.device", "expected absolute paths, got '\(entry)'")
        }
        // The udev rule's keyboard link is /dev/vhc-scanner-kbd, as udev's own by-id links end in -event-kbd.
        let looksLikeKeyboard = path.hasPrefix("/dev/input/") || path.hasSuffix("-kbd")
        return Scanner(path: path, interface: interface ?? (looksLikeKeyboard ? .keyboard : .serial))
    }

    /// Builds and validates the configuration from dotted keys and texts (defaults filled in).
    init(values given: [String: String]) throws(ConfigError) {
        var values = given
        for (key, value) in Self.keys where values[key] == nil { values[key] = value }
        func required(_ key: String) throws(ConfigError) -> String {
            guard let value = values[key] else { throw ConfigError(.missingKey, key: key, "is required") }
            return value
        }
        func integer(_ key: String, in range: ClosedRange<Int64>) throws(ConfigError) -> Int64 {
            let text = try required(key)
            guard let value = Int64(text), range.contains(value) else {
                throw ConfigError(
                    .invalidValue, key: key,
                    "expected a whole number from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
            }
            return value
        }
        func path(_ key: String) throws(ConfigError) -> String? {
            guard let text = values[key] else { return nil }
            guard text.hasPrefix("/"), !text.contains("\0") else {
                throw ConfigError(.invalidValue, key: key, "expected an absolute path, got '\(text)'")
            }
            return text
        }

        institution = try required("institution")
        guard institution.utf8.count == 10,
            institution.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) })
        else {
            throw ConfigError(
                .invalidValue, key: "institution", "expected 10 digits or capital letters, got '\(institution)'")
        }

        let size = try required("camera.size")
        let parts = size.split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, let width = Int(parts[0]), let height = Int(parts[1]),
            (160...4096).contains(width), (120...4096).contains(height)
        else {
            throw ConfigError(.invalidValue, key: "camera.size", "expected WIDTHxHEIGHT such as 640x480, got '\(size)'")
        }
        var cameraPath = values["camera.path"]
        if let given = cameraPath, !given.hasPrefix("fake:") { cameraPath = try path("camera.path") }
        camera = Camera(path: cameraPath, width: width, height: height)
        // A scanner's device: an absolute path, a udev symlink such as /dev/vhc-scanner in a clinic.
        for entry in (values["scanner.device"] ?? "").split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) })
        where !entry.isEmpty {
            let scanner = try Self.scanner(entry)
            // Two readers of one device would steal each other's bytes (or fight over a keyboard's grab).
            guard !scanners.contains(where: { $0.path == scanner.path }) else {
                throw ConfigError(.invalidValue, key: "scanner.device", "'\(scanner.path)' is named twice")
            }
            scanners.append(scanner)
        }

        guard let root = try path("trust.root") else {
            throw ConfigError(.missingKey, key: "trust.root", "is required")
        }
        trust = Trust(
            root: root,
            trustList: try path("trust.trust_list"),
            revocationList: try path("trust.revocation_list"),
            skewSeconds: try integer("trust.skew_seconds", in: 0...120))
        session = Session(lengthSeconds: try integer("session.length_seconds", in: 60...86_400))
        storage = Storage(
            database: try path("storage.database")!, minimumFreeMiB: try integer("storage.min_free_mib", in: 0...1_048_576))

        pageReadySeconds = try integer("page.ready_seconds", in: 0...3600)
        pageCaptureSeconds = try integer("page.capture_seconds", in: 10...3600)

        var tcp: TCPAddress?
        if let text = values["api.tcp"] {
            tcp = try Self.loopback(text, key: "api.tcp")
        }
        if let text = values["his.listen"] {
            his = HIS(
                address: try Self.loopback(text, key: "his.listen"), tokenFile: try path("his.token_file"),
                presentSeconds: try integer("his.present_seconds", in: 0...3600))
            if his?.address == tcp { throw ConfigError(.invalidValue, key: "his.listen", "is the same as api.tcp") }
            switch try required("his.tls") {
            case "true": his?.tls = true
            case "false": his?.tls = false
            case let other: throw ConfigError(.invalidValue, key: "his.tls", "expected true or false, got '\(other)'")
            }
        }
        let tokenFile = try path("api.token_file")
        if tcp != nil, tokenFile == nil {
            throw ConfigError(.missingKey, key: "api.token_file", "is required when api.tcp is set")
        }
        let group = values["api.socket_group"]
        if let group, group.isEmpty || !group.allSatisfy({ $0.isLetter || $0.isNumber || "_-".contains($0) }) {
            throw ConfigError(.invalidValue, key: "api.socket_group", "expected a group name, got '\(group)'")
        }
        api = API(socket: try path("api.socket")!, socketGroup: group, tcp: tcp, tokenFile: tokenFile)
        api.maximumConnections = Int(try integer("api.max_connections", in: 8...4096))
        api.headerTimeoutSeconds = try integer("api.header_timeout_seconds", in: 1...300)
        api.idleTimeoutSeconds = try integer("api.idle_timeout_seconds", in: 5...3600)

        if let url = values["cloud.url"] {
            guard url.hasPrefix("https://"), URL(string: url)?.host != nil else {
                throw ConfigError(.invalidValue, key: "cloud.url", "expected https://HOST[:PORT], got '\(url)'")
            }
            func needed(_ key: String) throws(ConfigError) -> String {
                guard let value = try path(key) else {
                    throw ConfigError(.missingKey, key: key, "is required when cloud.url is set")
                }
                return value
            }
            let station = try required("cloud.station")
            guard (1...64).contains(station.utf8.count),
                station.unicodeScalars.allSatisfy({
                    $0.isASCII
                        && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0))
                })
            else {
                throw ConfigError(
                    .invalidValue, key: "cloud.station",
                    "expected 1 to 64 letters, digits, '.', '-' or '_', got '\(station)'")
            }
            let settingText = try required("cloud.setting")
            guard let setting = CareSetting(rawValue: settingText) else {
                throw ConfigError(
                    .invalidValue, key: "cloud.setting",
                    "expected one of \(CareSetting.allCases.map(\.rawValue).joined(separator: ", ")), got '\(settingText)'"
                )
            }
            let ca = try needed("cloud.ca")
            // A key on a token is named by its URI; its certificate may be on the token too.
            let onToken = values["cloud.key"]?.lowercased().hasPrefix("pkcs11:") == true
            let key = onToken ? values["cloud.key"]! : try needed("cloud.key")
            if onToken, values["cloud.pin_file"] == nil, (try? PKCS11URI(key))?.pinSource == nil {
                throw ConfigError(.missingKey, key: "cloud.pin_file", "is required when cloud.key is a PKCS#11 URI")
            }
            cloud = Cloud(
                url: url, ca: ca,
                certificate: onToken ? try path("cloud.certificate") : try needed("cloud.certificate"), key: key,
                pkcs11Module: try path("cloud.pkcs11_module"), pinFile: try path("cloud.pin_file"),
                cardModule: try path("cloud.card_module"),
                station: station, setting: setting,
                shiftSeconds: try integer("cloud.shift_hours", in: 1...24) * 3600,
                listSyncSeconds: try integer("cloud.list_sync_seconds", in: 10...86400),
                retryMaxSeconds: try integer("cloud.retry_max_seconds", in: 1...3600),
                giveUpSeconds: try integer("cloud.give_up_hours", in: 1...720) * 3600)
        }
    }

    /// `127.0.0.1:8787`, `[::1]:8787` or `localhost:8787`: loopback only, the API is local.
    static func loopback(_ text: String, key: String) throws(ConfigError) -> TCPAddress {
        let host: Substring, portText: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") {
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else if let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        } else {
            throw ConfigError(.invalidValue, key: key, "expected HOST:PORT such as 127.0.0.1:8787, got '\(text)'")
        }
        guard let port = Int(portText), (1...65535).contains(port) else {
            throw ConfigError(.invalidValue, key: key, "the port must be 1 to 65535, got '\(portText)'")
        }
        guard ["127.0.0.1", "::1", "localhost"].contains(host) else {
            throw ConfigError(
                .invalidValue, key: key,
                "only a loopback address (127.0.0.1, ::1, localhost) is allowed, got '\(host)'")
        }
        return TCPAddress(host: String(host), port: port)
    }

    /// Not set: an empty value (quoted or not), or YAML 1.2's null, a plain `~`, `null`, `Null` or
    /// `NULL` (Yams leaves tags to the reader when composing).
    static func isNull(_ scalar: Node.Scalar) -> Bool {
        if scalar.tag.description == Tag.Name.null.rawValue || scalar.string.isEmpty { return true }
        guard scalar.style == .plain || scalar.style == .any else { return false }
        return ["~", "null", "Null", "NULL"].contains(scalar.string)
    }

    /// The known key nearest to a mistyped one: the same leaf in another section, or a key whose
    /// spelling is at most two edits away.
    static func suggestion(for key: String) -> String {
        let leaf = key.split(separator: ".").last.map(String.init) ?? key
        if let near = keys.first(where: { $0.key.hasSuffix("." + leaf) || $0.key == leaf }) {
            return " (did you mean \(near.key)?)"
        }
        let scored = keys.map { ($0.key, editDistance($0.key, key)) }.min { $0.1 < $1.1 }
        guard let scored, scored.1 <= 2 else { return "" }
        return " (did you mean \(scored.0)?)"
    }

    /// Levenshtein distance over characters.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1] + Array(repeating: 0, count: b.count)
            for (j, y) in b.enumerated() {
                current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }

    static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            "line \(mark.line), column \(mark.column): \(problem)"
        case .duplicatedKeysInMapping(let duplicates, _):
            "the key \(duplicates.joined(separator: ", ")) appears twice"
        default:
            "\(error)"
        }
    }
}
