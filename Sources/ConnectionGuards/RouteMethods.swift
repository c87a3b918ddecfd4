import Synchronization

/// Which methods each route answers, so that a known path asked with another method gets 405 and an
/// `Allow` header instead of the router's 404. Filled from the router's own table after the routes
/// are registered, so it cannot drift from them.
package final class RouteMethods: Sendable {
    private let table = Mutex<[(segments: [Substring], methods: Set<String>)]>([])

    package init() {}

    /// Records the routes as `(path pattern, method)`; `{name}` and `:name` segments match any segment.
    /// `servedElsewhere` are paths of the API this server does not serve at all (the station's
    /// socket-only routes, on its TCP listener): every method there is 405, with an empty `Allow`.
    package func record(_ routes: [(path: String, method: String)], servedElsewhere: [String] = []) {
        var grouped: [String: Set<String>] = [:]
        for path in servedElsewhere { grouped[Self.rooted(path), default: []] = [] }
        for route in routes {
            grouped[Self.rooted(route.path), default: []].insert(route.method)
        }
        table.withLock { table in
            table = grouped.map { (Self.segments($0.key), $0.value) }
        }
    }

    /// The methods some route answers at `path`, sorted; nil when no route matches the path at all.
    package func allowed(at path: String) -> [String]? {
        let asked = Self.segments(path)
        let matching = table.withLock { table in table.filter { Self.matches($0.segments, asked) } }
        guard !matching.isEmpty else { return nil }
        return matching.reduce(into: Set<String>()) { $0.formUnion($1.methods) }.sorted()
    }

    static func rooted(_ path: String) -> String { path.hasPrefix("/") ? path : "/" + path }

    static func segments(_ path: String) -> [Substring] {
        path.split(separator: "?", maxSplits: 1).first.map { $0.split(separator: "/") } ?? []
    }

    static func matches(_ pattern: [Substring], _ path: [Substring]) -> Bool {
        pattern.count == path.count
            && zip(pattern, path).allSatisfy { expected, given in
                expected.hasPrefix("{") || expected.hasPrefix(":") || expected == given
            }
    }
}
