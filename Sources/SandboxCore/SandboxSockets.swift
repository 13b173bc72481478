#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import Synchronization

/// Sockets in the sandbox's network namespace, for the supervisor, which lives outside it:
/// the init makes them on request (`sbx_serve_socket_request`) and passes them back, and the
/// supervisor connects them. This is how --expose reaches a server on the sandbox's loopback:
/// a socket belongs to the namespace of the process that made it, wherever it is used.
public final class SandboxSockets: Sendable {
    private let channel: Mutex<Int32>

    init(channel: Int32) { self.channel = Mutex(channel) }

    /// A socket connected to `port` on the sandbox's loopback: 127.0.0.1 first, then ::1 (a
    /// server bound to "localhost" may have either). Blocking: call it off an event loop.
    public func connect(toPort port: UInt16) throws -> Int32 {
        var lastError: Int32 = ECONNREFUSED
        for family in [AF_INET, AF_INET6] {
            let fd = try socket(family: family)
            if sbx_connect_loopback(fd, Int32(port), family == AF_INET6 ? 1 : 0) == 0 { return fd }
            lastError = errno
            close(fd)
        }
        throw SandboxError.system("connect to port \(port) in the sandbox", errno: lastError)
    }

    private func socket(family: Int32) throws -> Int32 {
        try channel.withLock { fd in
            var request: UInt8 = family == AF_INET6 ? 6 : 4
            guard send(fd, &request, 1, Int32(MSG_NOSIGNAL)) == 1 else {
                throw SandboxError.system("ask the sandbox for a socket", errno: errno)
            }
            let socket = sbx_receive_fd(fd)
            try checkShim(min(socket, 0), "receive a socket from the sandbox")
            return socket
        }
    }
}
