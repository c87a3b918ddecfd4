import ArgumentParser
import Crypto
import Foundation
import VirtualCard

struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Generate P-256 keys and print package keys.", subcommands: [Generate.self, Public.self])

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate a P-256 private key (PKCS#8 PEM, mode 0600); prints its kid in hex.")
        @Option(help: ArgumentHelp("Where to write the key; an existing file is not replaced.", valueName: "KEY.pem"))
        var out: String

        func run() throws {
            guard !FileManager.default.fileExists(atPath: out) else {
                throw UsageError("'\(out)' exists: refusing to replace a key")
            }
            let key = P256.Signing.PrivateKey()
            try Inputs.writeSecret(Array((key.pemRepresentation + "\n").utf8), to: out)
            print(KeyID(publicKey: key.publicKey))
        }
    }

    struct Public: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the SubjectPublicKeyInfo of a private key as PEM.")
        @Argument(help: ArgumentHelp("The private key.", valueName: "KEY.pem")) var key: String

        func run() throws {
            print(try Inputs.privateKey(key).publicKey.pemRepresentation)
        }
    }
}
