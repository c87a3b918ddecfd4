import ConnectionGuards
import Testing

@Suite("Route methods: what a path answers, for 405 and Allow")
struct RouteMethodsTests {
    /// A table shaped like the cloud's: literal and templated paths, several methods on one path.
    static func cloudLike() -> RouteMethods {
        let methods = RouteMethods()
        methods.record([
            ("/v1/health", "GET"),
            ("/v1/audit-heads", "POST"),
            ("/v1/audit-heads", "GET"),
            ("/v1/visits", "POST"),
            ("/v1/visits/{grant}", "GET"),
            ("/v1/visits/{grant}/records/{category}", "GET"),
            ("/v1/visits/{grant}/alerts", "POST"),
        ])
        return methods
    }

    @Test("a literal path answers its methods, sorted, each once")
    func literal() {
        let methods = Self.cloudLike()
        #expect(methods.allowed(at: "/v1/health") == ["GET"])
        #expect(methods.allowed(at: "/v1/audit-heads") == ["GET", "POST"])
        #expect(methods.allowed(at: "/v1/visits") == ["POST"])
    }

    @Test("a {name} segment matches any one segment, and only one")
    func templated() {
        let methods = Self.cloudLike()
        #expect(methods.allowed(at: "/v1/visits/3f2a") == ["GET"])
        #expect(methods.allowed(at: "/v1/visits/3f2a/records/labs") == ["GET"])
        #expect(methods.allowed(at: "/v1/visits/3f2a/alerts") == ["POST"])
        #expect(methods.allowed(at: "/v1/visits/3f2a/records") == nil)
        #expect(methods.allowed(at: "/v1/visits/3f2a/records/labs/extra") == nil)
    }

    @Test("a path no route matches answers nothing (a 404, not a 405)")
    func unknown() {
        let methods = Self.cloudLike()
        #expect(methods.allowed(at: "/v1/nothing") == nil)
        #expect(methods.allowed(at: "/v2/health") == nil)
        #expect(methods.allowed(at: "/v1/visit/3f2a") == nil)
        #expect(methods.allowed(at: "/") == nil)
        #expect(RouteMethods().allowed(at: "/v1/health") == nil)
    }

    @Test("the query is not part of the path")
    func query() {
        let methods = Self.cloudLike()
        #expect(methods.allowed(at: "/v1/audit-heads?station=front-desk") == ["GET", "POST"])
        #expect(methods.allowed(at: "/v1/visits/3f2a/records/labs?page=2&pageSize=20") == ["GET"])
    }

    @Test(":name segments match like {name}; patterns without a leading slash are the same routes")
    func colonTemplates() {
        let methods = RouteMethods()
        methods.record([("v1/consents/:id", "GET"), ("/v1/consents", "POST"), ("v1/consents", "GET")])
        #expect(methods.allowed(at: "/v1/consents/c-42") == ["GET"])
        #expect(methods.allowed(at: "/v1/consents") == ["GET", "POST"])
    }

    @Test("a path matched by a literal route and a templated one answers the methods of both")
    func overlapping() {
        let methods = RouteMethods()
        methods.record([("/items/{id}", "GET"), ("/items/{id}", "DELETE"), ("/items/new", "POST")])
        #expect(methods.allowed(at: "/items/new") == ["DELETE", "GET", "POST"])
        #expect(methods.allowed(at: "/items/7") == ["DELETE", "GET"])
    }

    @Test("recording again replaces the table")
    func replaced() {
        let methods = Self.cloudLike()
        methods.record([("/v2/health", "GET")])
        #expect(methods.allowed(at: "/v1/health") == nil)
        #expect(methods.allowed(at: "/v2/health") == ["GET"])
    }
}

extension RouteMethodsTests {
    @Test("a path served elsewhere is known with no method (405 with an empty Allow), not unknown (404)")
    func servedElsewhere() {
        let methods = RouteMethods()
        methods.record([("/v1/status", "GET")], servedElsewhere: ["/v1/clock/reset", "/v1/status"])
        #expect(methods.allowed(at: "/v1/clock/reset") == [])
        #expect(methods.allowed(at: "/v1/status") == ["GET"], "a path served here keeps its methods")
        #expect(methods.allowed(at: "/v1/clock") == nil)
    }
}
