import Synchronization

/// Which methods each route answers, so that a known path asked with another method gets 405 and an
/// `Allow` header instead of the router's 404. Filled from the router's own table after the routes
/// are registered, so it cannot drift from them.
package final class RouteMethods: Sendable {
    private let table = Mutex<[(segments: [Substring], methods: Set<String>)]>([])

    package init() {}

    /// Records the routes as `(path pattern, method)`; `{name}` and `:name` segments match any segment.
    package func record(_ routes: [(path: String, method: String)]) {
        var grouped: [String: Set<String>] = [:]
        for route in routes {
            let path = route.path.hasPrefix("/") ? route.path : "/" + route.path
            grouped[path, default: []].insert(route.method)
        }
        table.withLock { table in
            table = grouped.map { (Self.segments($0.key), $0.value) }
        }
    }

    /// The methods some route answers at `path`, sorted; empty when no route matches the path at all.
    package func allowed(at path: String) -> [String] {
        let asked = Self.segments(path)
        return table.withLock { table in
            table.filter { Self.matches($0.segments, asked) }.reduce(into: Set<String>()) { $0.formUnion($1.methods) }
        }.sorted()
    }

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
