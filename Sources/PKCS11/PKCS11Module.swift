import CPKCS11
import Synchronization

/// A PKCS#11 module (a smart card's OpenSC, a TPM's tpm2-pkcs11, SoftHSM, p11-kit's proxy) loaded with
/// `dlopen` and asked for its function list, as PKCS#11 prescribes. Each path is loaded and initialised
/// once per process and stays for its life: finalising a module another part of the process still uses
/// would break it, and a daemon loads one or two.
package final class PKCS11Module: @unchecked Sendable {
    // @unchecked: `functions` is the module's own immutable table; the module does its own locking
    // (initialised with CKF_OS_LOCKING_OK) and each session serialises its multi-step operations.
    package let path: String
    let functions: UnsafeMutablePointer<CK_FUNCTION_LIST>

    /// p11-kit's proxy: every module the system's p11-kit configuration names (`/usr/share/p11-kit/modules`).
    package static let defaultPath = "/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so"

    private static let loaded = Mutex<[String: PKCS11Module]>([:])

    private init(path: String, functions: UnsafeMutablePointer<CK_FUNCTION_LIST>) {
        self.path = path
        self.functions = functions
    }

    /// The module at `path`, loaded and initialised (once per process).
    package static func load(_ path: String) throws(PKCS11Error) -> PKCS11Module {
        let result = loaded.withLock { loaded -> Result<PKCS11Module, PKCS11Error> in
            if let module = loaded[path] { return .success(module) }
            do throws(PKCS11Error) {
                let module = try open(path)
                loaded[path] = module
                return .success(module)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    private static func open(_ path: String) throws(PKCS11Error) -> PKCS11Module {
        func unavailable(_ function: String, _ detail: String) -> PKCS11Error {
            PKCS11Error(kind: .moduleUnavailable, function: function, detail: "\(path): \(detail)")
        }
        guard path.hasPrefix("/") else { throw unavailable("dlopen", "the module must be named by an absolute path") }
        // RTLD_LOCAL: the module's symbols stay its own; RTLD_NOW: a module missing a library fails here.
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw unavailable("dlopen", dlerror().map { String(cString: $0) } ?? "cannot be loaded")
        }
        guard let symbol = dlsym(handle, "C_GetFunctionList") else {
            dlclose(handle)
            throw unavailable("dlsym", "no C_GetFunctionList: not a PKCS#11 module")
        }
        let getFunctionList = unsafeBitCast(symbol, to: CK_C_GetFunctionList.self)
        var list: UnsafeMutablePointer<CK_FUNCTION_LIST>?
        let value = getFunctionList(&list)
        guard value == CKR_OK, let list, let initialize = list.pointee.C_Initialize else {
            dlclose(handle)
            throw PKCS11Error(
                kind: .moduleUnavailable, function: "C_GetFunctionList", returnValue: value == CKR_OK ? nil : value,
                detail: path)
        }
        // The module may use the operating system's locks: the daemon calls it from several threads.
        var arguments = CK_C_INITIALIZE_ARGS()
        arguments.flags = CKF_OS_LOCKING_OK
        let initialized = initialize(&arguments)
        // Already initialised by another part of this process (p11-kit's proxy shares modules): usable.
        guard initialized == CKR_OK || initialized == CKR_CRYPTOKI_ALREADY_INITIALIZED else {
            throw PKCS11Error(
                kind: .moduleUnavailable, function: "C_Initialize", returnValue: initialized, detail: path)
        }
        return PKCS11Module(path: path, functions: list)
    }

    /// Calls a function of the module's list; a missing entry is `CKR_FUNCTION_NOT_SUPPORTED`.
    func call(_ name: String, _ body: (CK_FUNCTION_LIST) -> CK_RV?) throws(PKCS11Error) {
        let value = body(functions.pointee) ?? UInt(CKR_FUNCTION_NOT_SUPPORTED)
        guard value == CKR_OK else { throw PKCS11Error(function: name, returnValue: value) }
    }

    /// The slots that hold a token, with what each token says of itself.
    package func tokens() throws(PKCS11Error) -> [(slot: CK_SLOT_ID, info: TokenInfo)] {
        var count: CK_ULONG = 0
        try call("C_GetSlotList") { $0.C_GetSlotList?(CK_BBOOL(CK_TRUE), nil, &count) }
        var slots = [CK_SLOT_ID](repeating: 0, count: Int(count))
        if count > 0 {
            try call("C_GetSlotList") { list in
                slots.withUnsafeMutableBufferPointer { list.C_GetSlotList?(CK_BBOOL(CK_TRUE), $0.baseAddress, &count) }
            }
        }
        var found: [(CK_SLOT_ID, TokenInfo)] = []
        for slot in slots.prefix(Int(count)) {
            // A token pulled out between the two calls is simply not there.
            guard let info = try? tokenInfo(slot: slot) else { continue }
            found.append((slot, info))
        }
        return found
    }

    /// `C_GetTokenInfo` for `slot`.
    package func tokenInfo(slot: CK_SLOT_ID) throws(PKCS11Error) -> TokenInfo {
        var info = CK_TOKEN_INFO()
        try call("C_GetTokenInfo") { $0.C_GetTokenInfo?(slot, &info) }
        return TokenInfo(
            label: Self.padded(info.label), manufacturer: Self.padded(info.manufacturerID),
            model: Self.padded(info.model), serial: Self.padded(info.serialNumber), flags: UInt(info.flags))
    }

    /// The one slot whose token `uri` names.
    package func slot(for uri: PKCS11URI) throws(PKCS11Error) -> CK_SLOT_ID {
        let matching = try tokens().filter { token in
            uri.matches(token: token.info) && (uri.slotID.map { $0 == UInt(token.slot) } ?? true)
        }
        guard let first = matching.first else {
            throw PKCS11Error(kind: .notFound, function: "find token", detail: "no token matches \(uri)")
        }
        guard matching.count == 1 else {
            throw PKCS11Error(kind: .ambiguous, function: "find token", detail: "\(matching.count) tokens match \(uri)")
        }
        return first.slot
    }

    /// A fixed-width, space-padded field of a C structure (a tuple of bytes) as text.
    private static func padded<T>(_ field: T) -> String {
        withUnsafeBytes(of: field) { bytes in
            var end = bytes.count
            while end > 0, bytes[end - 1] == UInt8(ascii: " ") || bytes[end - 1] == 0 { end -= 1 }
            return String(decoding: bytes.prefix(end), as: UTF8.self)
        }
    }
}
