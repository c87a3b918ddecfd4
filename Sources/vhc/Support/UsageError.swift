import ArgumentParser

extension ExitCode {
    static let invalid = ExitCode(1)
    static let usage = ExitCode(2)
}

/// A usage or configuration error: a message on standard error and exit status 2.
struct UsageError: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}
