import CloudProtocol
import Foundation
import SandboxCloud
import Testing
import Yams

@Suite("docs/cloud-openapi.yaml describes exactly the routes the cloud serves")
struct CloudOpenAPITests {
    @Test("the same methods and paths, in both directions; every operation documents its problem responses")
    func routesMatch() async throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let text = try String(contentsOf: repository.appendingPathComponent("docs/cloud-openapi.yaml"), encoding: .utf8)
        let document = try #require(try Yams.load(yaml: text) as? [String: Any])
        #expect((document["openapi"] as? String)?.hasPrefix("3.1") == true)
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        var documented = Set<String>()
        for (path, operations) in paths {
            for (method, operation) in operations where method != "parameters" {
                documented.insert("\(method.uppercased()) \(path)")
                let responses = (operation as? [String: Any])?["responses"] as? [String: Any]
                #expect(responses?["default"] != nil, "\(method) \(path) documents its problem+json responses")
            }
        }
        // The problem codes documented are the codes the cloud has, each with its own title and status.
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
        let problem = try #require(schemas["Problem"] as? [String: Any])
        let code = try #require((problem["properties"] as? [String: Any])?["code"] as? [String: Any])
        #expect(Set(try #require(code["enum"] as? [String])) == Set(CloudCode.all.map(\.rawValue)))
        #expect(Set(CloudCode.all).count == CloudCode.all.count)
        for code in CloudCode.all where code != .internalError {
            #expect(code.title != CloudCode.internalError.title && code.status != 500, "\(code)")
        }

        let cloud = try await CloudHarness()
        let served = Set(
            try await SandboxCloud.open(cloud.directory).router().routes.map { route -> String in
                let path = route.path.description
                return "\(route.method) \(path.hasPrefix("/") ? path : "/" + path)"
            })
        try await cloud.stop()
        #expect(
            served == documented,
            "served only: \(served.subtracting(documented)); documented only: \(documented.subtracting(served))")
    }
}
