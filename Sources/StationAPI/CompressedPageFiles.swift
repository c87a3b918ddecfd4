import CompressNIO
import Foundation
import NIOCore
import StationWeb

/// The front-desk page's files, gzip-compressed once when the router is built (CompressNIO over zlib), for browsers
/// that accept gzip: the page's cold load is about a third of its bytes. Only these fixed files: the API's
/// answers are small, and a compressed event stream would hold its events back until a block filled.
enum CompressedPageFiles {
    /// By file name; a file that would not shrink is left out, and served as it is.
    static let gzipped: [String: ByteBuffer] = {
        var packed: [String: ByteBuffer] = [:]
        for name in PageFiles.names {
            guard let file = PageFiles.named(name) else { continue }
            var plain = ByteBuffer(staticString: file.body)
            let size = plain.readableBytes
            if let gzip = try? plain.compress(with: .gzip()), gzip.readableBytes < size { packed[name] = gzip }
        }
        return packed
    }()

    /// Whether an `Accept-Encoding` header accepts gzip (RFC 9110 §12.5.3): `gzip` or `x-gzip` with a
    /// weight above 0, or, when gzip is not named, `*` with a weight above 0. No header: no.
    static func acceptsGzip(_ header: String?) -> Bool {
        guard let header else { return false }
        var gzip: Double?, anyCoding: Double?
        for item in header.split(separator: ",") {
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard let coding = parts.first, !coding.isEmpty else { continue }
            var weight = 1.0
            for parameter in parts.dropFirst() where parameter.hasPrefix("q=") {
                weight = Double(parameter.dropFirst(2)) ?? 0
            }
            if coding == "gzip" || coding == "x-gzip" {
                gzip = weight
            } else if coding == "*" {
                anyCoding = weight
            }
        }
        return (gzip ?? anyCoding ?? 0) > 0
    }
}
