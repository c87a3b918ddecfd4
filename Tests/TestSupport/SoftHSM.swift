import Foundation
import Synchronization

/// SoftHSM2 tokens for tests, in a token directory of this test process's own: SoftHSM reads its
/// configuration (`SOFTHSM2_CONF`) once, when the process first loads it, so every test of a process
/// shares one directory, and each makes tokens of its own labels in it. The machine's tokens are never
/// touched.
package enum SoftHSM {
    /// The module, to load once the process's tokens are ready (asking for the path makes them).
    package static var modulePath: String {
        _ = directory
        return library
    }
    private static let library = "/usr/lib/softhsm/libsofthsm2.so"
    /// OpenSC's pkcs11-spy: a module that passes every call to the one `PKCS11SPY` names and writes each
    /// to `PKCS11SPY_OUTPUT`, so a test can count the calls a module received.
    package static var spyPath: String {
        _ = directory
        return "/usr/lib/x86_64-linux-gnu/pkcs11/pkcs11-spy.so"
    }

    /// The process's token directory, configured and filled with a pool of fresh tokens before anything
    /// can load SoftHSM: it learns of tokens when the process first loads it, never after.
    package static let directory: String = {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vhc-softhsm-\(getpid())").path
        try? FileManager.default.removeItem(atPath: folder)
        // Gone with the process: the tokens hold nothing but test keys.
        atexit { try? FileManager.default.removeItem(atPath: SoftHSM.directory) }
        try! FileManager.default.createDirectory(atPath: folder + "/tokens", withIntermediateDirectories: true)
        let configuration = folder + "/softhsm2.conf"
        try! "directories.tokendir = \(folder)/tokens\nobjectstore.backend = file\nlog.level = ERROR\n"
            .write(toFile: configuration, atomically: true, encoding: .utf8)
        setenv("SOFTHSM2_CONF", configuration, 1)
        setenv("PKCS11SPY", library, 1)
        setenv("PKCS11SPY_OUTPUT", folder + "/spy.log", 1)
        setenv("PKCS11SPY_PULLABLE_REAL", "/usr/lib/x86_64-linux-gnu/pkcs11/pkcs11-spy.so", 1)
        for index in 1...poolSize {
            try! run(
                "/usr/bin/softhsm2-util",
                [
                    "--init-token", "--free", "--label", "vhc-test-\(index)", "--so-pin", soPIN, "--pin",
                    Self.pin(index, "2468"),
                ])
        }
        return folder
    }()

    /// The spy's log: one block per call, each starting with its number and the function's name.
    package static var spyLog: String { (try? String(contentsOfFile: directory + "/spy.log", encoding: .utf8)) ?? "" }

    /// How many times the spy saw `C_Login` with `pin`, in any process of this test run. Each token of
    /// the pool has PINs of its own, so tests that run at once do not count each other's logins.
    package static func spiedLogins(pin: String) -> Int {
        let dump = pin.utf8.map { String($0, radix: 16) }.joined(separator: " ")
        let lines = spyLog.split(separator: "\n", omittingEmptySubsequences: false)
        var count = 0
        for (index, line) in lines.enumerated() where line.hasSuffix(": C_Login") {
            // The call's arguments follow: the PIN's bytes in a hex dump a few lines down.
            if lines[(index + 1)..<min(index + 7, lines.count)].contains(where: { $0.contains("  \(dump)  ") }) {
                count += 1
            }
        }
        return count
    }

    package struct Token: Sendable {
        package let label: String
        package let userPIN: String
        package let soPIN: String
        /// A wrong PIN of this token's own (same length as the right one).
        package let wrongPIN: String
        package var uri: String { "pkcs11:token=\(label)" }
    }

    /// A token of the pool no other test has used.
    package static func freshToken() throws -> Token {
        _ = directory
        let index = taken.withLock { taken in
            taken += 1
            return taken
        }
        guard index <= poolSize else { throw SoftHSMError(description: "the pool of \(poolSize) tokens is used up") }
        return Token(
            label: "vhc-test-\(index)", userPIN: pin(index, "2468"), soPIN: soPIN, wrongPIN: pin(index, "9753"))
    }

    /// Six digits: `prefix` and the token's number.
    static func pin(_ index: Int, _ prefix: String) -> String { prefix + (index < 10 ? "0" : "") + String(index) }
    package static let soPIN = "13579246"
    /// Enough for every test of a process that needs a token of its own.
    static let poolSize = 24
    private static let taken = Mutex(0)

    package struct SoftHSMError: Error, CustomStringConvertible {
        package let description: String
    }
}

extension SoftHSM {
    /// Imports a PKCS#8 PEM key file into `token` as a private key labelled `label` with the hex `id`.
    package static func importKey(_ keyFile: String, into token: Token, label: String, id: String) throws {
        try run(
            "/usr/bin/softhsm2-util",
            ["--import", keyFile, "--token", token.label, "--label", label, "--id", id, "--pin", token.userPIN])
    }

    /// A module whose card can be pulled out: pkcs11-spy (so SoftHSM) behind it until the file `flag`
    /// names exists, then `CKR_DEVICE_REMOVED` for every session call, as OpenSC answers once a card has
    /// left its reader; and whose PIN is locked (`CKR_PIN_LOCKED`, `CKF_USER_PIN_LOCKED`) while the file
    /// `locked` exists. SoftHSM itself never loses a token it has loaded nor locks a PIN. Compiled once per
    /// process (a few lines of C, written by hand for the tests); every process that loads it reads the
    /// flags' paths from `VHC_PULLABLE_FLAG` and `VHC_PULLABLE_LOCKED`, set here.
    package static func pullableModule(flag: String, locked: String) throws -> String {
        _ = directory
        setenv("VHC_PULLABLE_FLAG", flag, 1)
        setenv("VHC_PULLABLE_LOCKED", locked, 1)
        return try pullable.get()
    }

    private static let pullable = Result<String, any Error> {
        let source = directory + "/pullable.c", library = directory + "/pullable.so"
        try pullableSource.write(toFile: source, atomically: true, encoding: .utf8)
        try run("/usr/bin/env", ["clang", "-shared", "-fPIC", "-O1", "-o", library, source, "-ldl"])
        return library
    }

    private static let pullableSource = """
        #include <dlfcn.h>
        #include <stdlib.h>
        #include <unistd.h>
        #include <p11-kit-1/p11-kit/pkcs11.h>

        static CK_FUNCTION_LIST shim;
        static CK_FUNCTION_LIST_PTR real;

        static int exists(const char *variable) {
            const char *flag = getenv(variable);
            return flag != NULL && access(flag, F_OK) == 0;
        }
        static int pulled(void) { return exists("VHC_PULLABLE_FLAG"); }
        static CK_RV login(CK_SESSION_HANDLE s, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG n) {
            if (pulled()) return CKR_DEVICE_REMOVED;
            return exists("VHC_PULLABLE_LOCKED") ? CKR_PIN_LOCKED : real->C_Login(s, user, pin, n);
        }
        static CK_RV token_info(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info) {
            CK_RV value = real->C_GetTokenInfo(slot, info);
            if (value == CKR_OK && exists("VHC_PULLABLE_LOCKED")) info->flags |= CKF_USER_PIN_LOCKED;
            return value;
        }
        static CK_RV session_info(CK_SESSION_HANDLE s, CK_SESSION_INFO_PTR info) {
            return pulled() ? CKR_DEVICE_REMOVED : real->C_GetSessionInfo(s, info);
        }
        static CK_RV attribute_value(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_PTR t, CK_ULONG n) {
            return pulled() ? CKR_DEVICE_REMOVED : real->C_GetAttributeValue(s, o, t, n);
        }
        static CK_RV sign_init(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k) {
            return pulled() ? CKR_DEVICE_REMOVED : real->C_SignInit(s, m, k);
        }
        static CK_RV sign(CK_SESSION_HANDLE s, CK_BYTE_PTR d, CK_ULONG n, CK_BYTE_PTR out, CK_ULONG_PTR length) {
            return pulled() ? CKR_DEVICE_REMOVED : real->C_Sign(s, d, n, out, length);
        }

        CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list) {
            if (real == NULL) {
                void *module = dlopen(getenv("PKCS11SPY_PULLABLE_REAL"), RTLD_NOW | RTLD_LOCAL);
                CK_C_GetFunctionList get = module ? (CK_C_GetFunctionList)dlsym(module, "C_GetFunctionList") : NULL;
                if (get == NULL || get(&real) != CKR_OK) return CKR_GENERAL_ERROR;
                shim = *real;
                shim.C_GetSessionInfo = session_info;
                shim.C_GetAttributeValue = attribute_value;
                shim.C_SignInit = sign_init;
                shim.C_Sign = sign;
                shim.C_Login = login;
                shim.C_GetTokenInfo = token_info;
            }
            *list = &shim;
            return CKR_OK;
        }
        """

    /// Runs a tool to its end; throws with its output when it fails.
    static func run(_ tool: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw SoftHSMError(description: "\(tool): \(text)") }
    }
}
