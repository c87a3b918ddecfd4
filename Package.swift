// swift-tools-version: 6.1
// vhc-station: a clinic-side scanning and verification station for Taiwan's Virtual NHI Card.
import PackageDescription

/// Where scripts/build-zxing.sh installs zxing-cpp (its version is named there too). A build that cannot
/// find ZXing/ReadBarcode.h or -lZXing has not run it: `bash scripts/setup.sh` does.
let zxingPrefix = "/opt/vhc-zxing/3.1.1"

let package = Package(
    name: "vhc-station",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "VirtualCard", targets: ["VirtualCard"]),
        .executable(name: "vhc", targets: ["vhc"]),
        .executable(name: "vhc-cloud", targets: ["vhc-cloud"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-async-algorithms", from: "1.1.4"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // C libraries, reached through system-library targets (DESIGN.md, "Conventions").
        .systemLibrary(
            name: "CQREncode", pkgConfig: "libqrencode", providers: [.apt(["libqrencode-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(
            name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
        // libheif: an iPhone's HEIC photo for the still-image route (Debian's libheif-dev).
        .systemLibrary(name: "CHeif", pkgConfig: "libheif", providers: [.apt(["libheif-dev"])]),
        .systemLibrary(name: "CZBar", pkgConfig: "zbar", providers: [.apt(["libzbar-dev"])]),
        // glibc's <malloc.h> (mallopt, malloc_trim), which the Glibc module leaves out.
        .systemLibrary(name: "CMalloc"),

        // The token profile: pure, no I/O, no clock. Depends on swift-crypto only.
        .target(
            name: "VirtualCard",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        // Grey images: PNG (libpng) and JPEG (TurboJPEG) in and out, resize, blur, invert.
        .target(name: "Imaging", dependencies: ["CPNG", "CTurboJPEG", "CHeif"]),
        // Text → QR code (libqrencode): issuer output and test fixtures.
        .target(name: "QRRendering", dependencies: ["CQREncode", "Imaging"]),
        // Frames → QR payloads: the zbar decoder and its pass ladder, frame sources. Knows nothing of tokens.
        .target(name: "Scanner", dependencies: ["CZBar", "CZXing", "CV4L2", "Imaging"]),
        // zxing-cpp 3.1.1 behind a small C interface: the main QR decoder. Built from PyPI's source
        // distribution into /opt by scripts/build-zxing.sh (Debian 12's 1.4.0 reads far less:
        // docs/qr-decoding.md), and linked statically.
        .target(
            name: "CZXing",
            cxxSettings: [.unsafeFlags(["-I\(zxingPrefix)/include"])],
            linkerSettings: [.unsafeFlags(["-L\(zxingPrefix)/lib"]), .linkedLibrary("ZXing")]),
        // Fixed-arity wrappers over libv4l2's variadic calls, and the V4L2 macros as constants.
        .target(name: "CV4L2", linkerSettings: [.linkedLibrary("v4l2")]),
        // The hash-chained, append-only audit log on GRDB: one mechanism for the station and the cloud.
        .target(
            name: "AuditChain",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Crypto", package: "swift-crypto"),
            ]),
        // PKCS#11 (smart cards, TPMs, HSMs): the C API as p11-kit ships it, the module loaded with dlopen.
        .systemLibrary(name: "CPKCS11"),
        // Keys on tokens through PKCS#11: RFC 7512 URIs, modules, sessions, PIN login, signing, key generation.
        .target(
            name: "PKCS11",
            dependencies: [
                "CPKCS11", "VirtualCard", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]),
        // Atomic and secret (0600) file writes, for the command's outputs and the sandbox's keys.
        .target(name: "SafeFiles"),
        // Group commit on a GRDB pool: the writes that arrive during a transaction share the next one, each
        // in its own savepoint (the station's scans, the cloud's visit openings).
        .target(name: "SQLiteGroupCommit", dependencies: [.product(name: "GRDB", package: "GRDB.swift")]),
        // The local API's request, answer and event types with typed states and codes: one type per wire
        // shape, shared by the daemon's routes, `vhc` and the page's tests.
        .target(name: "StationModels", dependencies: ["VirtualCard"]),
        // The build's stamp: the version (VERSION) and the commit, generated by the StampBuild plugin.
        .target(name: "StationBuild", plugins: ["StampBuild"]),
        .plugin(name: "StampBuild", capability: .buildTool(), dependencies: ["stamp-build"]),
        .executableTarget(name: "stamp-build"),
        // `vhc doctor`'s judgement: what it gathered in, OK/WARN/FAIL with what to do out (pure).
        .target(name: "StationDoctor", dependencies: ["StationConfiguration", "StationModels"]),
        // The station's metrics (swift-metrics) and their Prometheus exposition (swift-prometheus).
        .target(
            name: "StationMetrics",
            dependencies: [
                "StationModels", .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]),
        // The station's core: configuration (YAML through Yams), policy around the verifier, replay
        // store, lists and clock, visit sessions and the audit log (SQLite through GRDB).
        .target(
            name: "Station",
            dependencies: [
                "VirtualCard", "StationModels", "CloudProtocol", "AuditChain", "SafeFiles", "SQLiteGroupCommit", "CMalloc",
                "StationBuild", "StationMetrics",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]),
        // The station's configuration: the YAML file and command-line overrides through one key table, each
        // mistake naming its key; and the cloud's files it names, read and checked.
        .target(
            name: "StationConfiguration",
            dependencies: [
                "CloudProtocol", "CloudClient", "PKCS11", "SafeFiles", .product(name: "Yams", package: "Yams"),
                .product(name: "X509", package: "swift-certificates"), .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "NIOCore", package: "swift-nio"),
            ]),
        // The station ↔ cloud wire (../shared/cloud-protocol.md): the signed visit opening on VirtualCard's
        // CBOR/COSE, answers, problems and codes, identities read from certificates. Shared by both sides.
        .target(
            name: "CloudProtocol",
            dependencies: [
                "VirtualCard", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]),
        // What the station's and the cloud's HTTP servers share: the request deadlines (a slow head or
        // body), problem+json for requests the parser cannot read, 405 with Allow from the router's own
        // table; and the connection ledger that admits TLS connections so a flood cannot shut out stations.
        .target(
            name: "ConnectionGuards",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]),
        // The sandbox cloud: sandbox directory and PKI, storage (GRDB), lists, visit opening, HTTPS routes.
        .target(
            name: "SandboxCloud",
            dependencies: [
                "CloudProtocol", "VirtualCard", "AuditChain", "SafeFiles", "ConnectionGuards", "SQLiteGroupCommit",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // An HTTPS client of the cloud on the CloudProtocol types: the app simulation, the station's
        // forwarding, the benchmark.
        .target(
            name: "CloudClient",
            dependencies: [
                "CloudProtocol", "VirtualCard", .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]),
        // A page of a visit's records as a FHIR R4 Bundle following TW Core IG (pure; JSON out).
        .target(name: "RecordsFHIR", dependencies: ["CloudProtocol"]),
        // The station's side of the cloud: the outbox worker, list sync and records, over CloudClient.
        .target(
            name: "StationCloud",
            dependencies: [
                "Station", "StationModels", "CloudClient", "CloudProtocol", "VirtualCard",
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
            ]),
        // The sandbox cloud's entry point: init, serve, and growing a sandbox.
        .executableTarget(
            name: "vhc-cloud",
            dependencies: [
                "SandboxCloud", "CloudProtocol", "VirtualCard", "StationBuild",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]),
        // The front-desk page's files (page/: HTML, CSS, JavaScript modules), compiled into the binary as
        // static strings by the EmbedPage plugin: no bundle beside the binary, no network, no build step.
        .target(name: "StationWeb", exclude: ["page"], plugins: ["EmbedPage"]),
        .plugin(name: "EmbedPage", capability: .buildTool(), dependencies: ["embed-page"]),
        // The plugin's tool: text files in, one Swift file of raw string literals out.
        .executableTarget(name: "embed-page"),
        // The local HTTP API (Hummingbird): routes, problem+json errors, server-sent events, the page.
        .target(
            name: "StationAPI",
            dependencies: [
                "Station", "StationModels", "CloudProtocol", "RecordsFHIR", "VirtualCard", "ConnectionGuards",
                "StationWeb", "StationMetrics", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                // The page's files gzip-compressed once (zlib).
                .product(name: "CompressNIO", package: "compress-nio"),
            ]),
        // The daemon's parts below the API: the camera pipeline, maintenance, systemd notify, and the
        // still-image reader the API is given. A library, so tests and benchmarks run the same pipeline
        // in-process. It knows nothing of HTTP.
        .target(
            name: "StationRuntime",
            dependencies: [
                "Station", "StationModels", "Scanner", "Imaging", "VirtualCard", "PKCS11", "StationMetrics",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
            ]),
        // The compatibility listener: NHIA's card control software's calls as HIS code makes them, answered by
        // the station (docs/his-compatibility.md).
        .target(
            name: "StationHIS",
            dependencies: [
                "Station", "StationModels", "VirtualCard", "SafeFiles", "CloudProtocol",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]),
        // The daemon's entry point and its assembly: options and configuration, then the database, the
        // station, the cloud link, the camera and the API listeners in one ServiceGroup.
        .executableTarget(
            name: "vhc-stationd",
            dependencies: [
                "Station", "StationConfiguration", "StationRuntime", "StationAPI", "StationCloud", "StationModels",
                "StationHIS", "VirtualCard", "CloudClient", "CloudProtocol", "ConnectionGuards", "Scanner", "SafeFiles", "PKCS11",
                "StationBuild", "StationMetrics",
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            ]),
        .executableTarget(
            name: "vhc",
            dependencies: [
                "VirtualCard", "Station", "StationConfiguration", "StationModels", "QRRendering", "Scanner", "Imaging",
                "SafeFiles", "CloudClient", "CloudProtocol", "PKCS11", "StationBuild", "StationDoctor",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "_CryptoExtras", package: "swift-crypto"), .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]),

        // libFuzzer entry point over the token text; built only by scripts/fuzz.sh with -sanitize=fuzzer.
        .executableTarget(name: "VirtualCardFuzz", dependencies: ["VirtualCard"]),

        // Helpers shared by the test targets (deterministic randomness).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        // A test issuing authority and a station over a temporary database, for the station's tests.
        .target(
            name: "StationTestSupport",
            dependencies: ["Station", "VirtualCard", "TestSupport", .product(name: "Crypto", package: "swift-crypto")],
            path: "Tests/StationTestSupport"),

        .testTarget(
            name: "ConnectionGuardsTests",
            dependencies: [
                "ConnectionGuards", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]),
        .testTarget(name: "SafeFilesTests", dependencies: ["SafeFiles"]),
        .testTarget(
            name: "PKCS11Tests",
            dependencies: ["PKCS11", "TestSupport", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(
            name: "SQLiteGroupCommitTests",
            dependencies: ["SQLiteGroupCommit", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(
            name: "VirtualCardTests",
            dependencies: ["VirtualCard", "TestSupport", .product(name: "Crypto", package: "swift-crypto")],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "StationTests",
            dependencies: [
                "Station", "StationModels", "VirtualCard", "TestSupport", "StationTestSupport",
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "GRDB", package: "GRDB.swift"),
            ]),
        .testTarget(
            name: "StationConfigurationTests", dependencies: ["StationConfiguration", "TestSupport"]),
        .testTarget(
            name: "ScannerTests", dependencies: ["Scanner", "CV4L2", "Imaging", "QRRendering", "TestSupport"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "StationAPITests",
            dependencies: [
                "StationAPI", "StationRuntime", "Station", "StationModels", "StationWeb", "VirtualCard", "TestSupport",
                "StationTestSupport", "Imaging", "QRRendering", "StationMetrics",
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Yams", package: "Yams"), .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]),
        .testTarget(
            name: "StationDoctorTests", dependencies: ["StationDoctor", "StationConfiguration", "StationModels"]),
        .testTarget(
            name: "StationMetricsTests",
            dependencies: [
                "StationMetrics", "StationModels", "StationBuild", "TestSupport",
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]),
        .testTarget(
            name: "StationHISTests",
            dependencies: [
                "StationHIS", "Station", "StationModels", "VirtualCard", "TestSupport", "StationTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"), .product(name: "Crypto", package: "swift-crypto"),
            ]),
        .testTarget(
            name: "StationRuntimeTests",
            dependencies: [
                "StationRuntime", "Station", "StationModels", "Scanner", "Imaging", "QRRendering", "TestSupport",
                "StationTestSupport", "StationMetrics",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        .testTarget(
            name: "SandboxCloudTests",
            dependencies: [
                "PKCS11", "SandboxCloud", "CloudProtocol", "CloudClient", "VirtualCard", "TestSupport", "AuditChain", "Imaging",
                "QRRendering", "Station", "StationCloud", "StationModels", "StationConfiguration", "StationHIS",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                "Scanner",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"), .product(name: "Yams", package: "Yams"),
            ]),
        .testTarget(
            name: "StationCloudTests",
            dependencies: [
                "StationCloud", "Station", "StationModels", "CloudClient", "CloudProtocol",
                .product(name: "Logging", package: "swift-log"), .product(name: "NIOHTTP1", package: "swift-nio"),
            ]),
        .testTarget(name: "CloudClientTests", dependencies: ["CloudClient", "CloudProtocol"]),
        .testTarget(
            name: "RecordsFHIRTests",
            dependencies: ["RecordsFHIR", "CloudProtocol", "VirtualCard", "TestSupport"]),
        .testTarget(
            name: "VHCCommandTests",
            dependencies: [
                "VirtualCard", "Station", "StationModels", "QRRendering", "Imaging", "TestSupport",
                "StationTestSupport", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]),
    ],
    swiftLanguageModes: [.v6],
    cxxLanguageStandard: .cxx20
)

// The benchmarks (Benchmarks/*.sh) are targets of this package, for the modules they measure are the
// package's own (`package` access, no products); they are declared only when VHC_BENCHMARKS is set, as
// the scripts set it, so a plain build or test run does not compile them.
if Context.environment["VHC_BENCHMARKS"] != nil {
    package.targets += [
        // `make bench-verify`: verifications per second on one core, against `openssl speed`.
        .executableTarget(
            name: "VerifyBenchmark", dependencies: ["VirtualCard", "QRRendering", "Imaging"],
            path: "Benchmarks/VerifyBenchmark"),
        // `Benchmarks/cards.sh`: openings signed per second on a SoftHSM2 token, beside the key in memory.
        .executableTarget(
            name: "CardBenchmark",
            dependencies: [
                "PKCS11", "CloudProtocol", "VirtualCard", "TestSupport", .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Benchmarks/CardBenchmark"),
        // `Benchmarks/daemon.sh`: API verdict latency, frame-to-event latency, the daemon's memory.
        .executableTarget(
            name: "DaemonBenchmark",
            dependencies: [
                "Station", "StationModels", "StationRuntime", "Scanner", "Imaging", "QRRendering", "VirtualCard",
                "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Benchmarks/DaemonBenchmark"),
        // `Benchmarks/cloud.sh`: visit openings over mutual TLS against the in-process opener.
        .executableTarget(
            name: "CloudBenchmark",
            dependencies: [
                "SandboxCloud", "CloudClient", "CloudProtocol", "VirtualCard",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Benchmarks/CloudBenchmark"),
        // `Benchmarks/forwarding.sh`: scan to grant, the records proxy, the outbox drain, against vhc-cloud.
        .executableTarget(
            name: "ForwardingBenchmark",
            dependencies: [
                "CloudClient", "CloudProtocol", "VirtualCard", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            path: "Benchmarks/ForwardingBenchmark"),
        // `Benchmarks/scan.sh`: the phone-screen QR benchmark against zbar alone and other decoders.
        .executableTarget(
            name: "ScanBenchmark", dependencies: ["Scanner", "Imaging"], path: "Benchmarks/ScanBenchmark"),
    ]
}
