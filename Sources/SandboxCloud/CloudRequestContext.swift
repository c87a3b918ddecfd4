import CloudProtocol
import Hummingbird
import NIOCore
import NIOSSL

/// The request context of the cloud's routes: the connection (for its TLS client certificate) and,
/// once `InstitutionGate` has checked it, the institution it proves.
package struct CloudRequestContext: RequestContext {
    package var coreContext: CoreRequestContextStorage
    /// nil in router tests, which have no TLS connection.
    let channel: (any Channel)?
    package var institution: InstitutionIdentity?

    package init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// The client certificate of this connection, DER, or nil when none was presented.
    func peerCertificate() async -> [UInt8]? {
        guard let channel, let certificate = try? await channel.nioSSL_peerCertificate().get() else { return nil }
        return try? certificate.toDERBytes()
    }

    /// The institution `InstitutionGate` established; the gate guards every route that calls this.
    func requireInstitution() throws -> InstitutionIdentity {
        guard let institution else { throw CloudProblem(.clientCertificateMissing, "no institution certificate") }
        return institution
    }
}

/// §3 step 1 for every route that needs an institution: a client certificate present, issued by the
/// sandbox CA and valid now, for an institution the cloud knows (`SandboxCloud.institution(der:)`).
struct InstitutionGate: RouterMiddleware {
    typealias Context = CloudRequestContext
    let cloud: SandboxCloud
    /// The paths it guards: these and everything below them.
    let prefixes: [String]

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    )
        async throws -> Response
    {
        let path = request.uri.path
        guard prefixes.contains(where: { path == $0 || path.hasPrefix($0 + "/") }) else {
            return try await next(request, context)
        }
        guard let der = await context.peerCertificate() else {
            throw CloudProblem(.clientCertificateMissing, "present the institution's TLS client certificate")
        }
        var context = context
        context.institution = try await cloud.institution(der: der)
        return try await next(request, context)
    }
}
