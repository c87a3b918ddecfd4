import AsyncHTTPClient
import NIOCore
import NIOPosix
import NIOSSL

#if canImport(Glibc)
    import Glibc
#endif

/// A transport failure in words a clinic reads (issue 25: `connection reset (error set): Connection refused)
/// (errno: 111)` said nothing to a nurse), with its cause kept in brackets for whoever follows it up.
enum TransportWords {
    static func describe(_ error: any Error) -> String {
        if let code = errno(of: error) {
            let cause = String(cString: strerror(code))
            switch code {
            case ECONNREFUSED:
                return "nothing answers at that address: is the cloud running, and the address right? (\(cause))"
            case ENETUNREACH, EHOSTUNREACH, ENETDOWN:
                return "no route to the cloud: is this machine on the network? (\(cause))"
            case ETIMEDOUT:
                return "the cloud did not answer in time (\(cause))"
            case ECONNRESET, EPIPE:
                return "the connection was cut before the cloud answered (\(cause))"
            default:
                return "the connection failed (\(cause))"
            }
        }
        if let connection = error as? NIOConnectionError, connection.connectionErrors.isEmpty {
            return "the cloud's name cannot be resolved: is this machine on the network? (\(connection.host))"
        }
        if let client = error as? HTTPClientError {
            switch client {
            case .connectTimeout, .deadlineExceeded, .readTimeout, .writeTimeout:
                return "the cloud did not answer in time (\(client))"
            default:
                return "the request failed (\(client))"
            }
        }
        if error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError {
            return "the secure connection failed: check cloud.ca and the institution's certificate (\(error))"
        }
        return "\(error)"
    }

    /// The system error under `error`, when there is one (a connect refused, a network down).
    static func errno(of error: any Error) -> Int32? {
        if let io = error as? IOError { return io.errnoCode }
        if let connection = error as? NIOConnectionError {
            for failure in connection.connectionErrors {
                if let code = errno(of: failure.error) { return code }
            }
        }
        return nil
    }
}
