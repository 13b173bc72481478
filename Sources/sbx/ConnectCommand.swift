#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import SandboxCore

/// `sbx connect HOST PORT`, for use inside a sandbox in proxy mode: a tunnel through the egress
/// proxy (HTTP CONNECT) between stdin/stdout and HOST:PORT, as ssh's ProxyCommand needs
/// (GIT_SSH_COMMAND is set to use it, so `git clone git@host:...` works when host:22 is allowed).
struct ConnectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connect",
        abstract: "Inside a sandbox: connect stdin/stdout to HOST:PORT through the egress proxy (ssh's ProxyCommand)."
    )

    @Argument(help: "The host to reach.") var host: String
    @Argument(help: "Its port.") var port: Int

    @Option(help: ArgumentHelp("The proxy's port on 127.0.0.1.", valueName: "port"))
    var proxyPort: Int = Int(EgressSetup.port)

    func run() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SandboxError.system("socket", errno: errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(proxyPort).bigEndian)
        address.sin_addr.s_addr = in_addr_t(0x7f00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            throw SandboxError("no egress proxy on 127.0.0.1:\(proxyPort) (sbx connect works inside a sandbox run with --net proxy)")
        }
        let authority = host.contains(where: { $0 == ":" }) ? "[\(host)]:\(port)" : "\(host):\(port)"
        try writeFully(fd, Array("CONNECT \(authority) HTTP/1.1\r\nHost: \(authority)\r\n\r\n".utf8), what: "the proxy")
        // The answer's head, byte by byte: nothing after it may be consumed here.
        var head: [UInt8] = []
        while !head.suffix(4).elementsEqual("\r\n\r\n".utf8) {
            var byte: UInt8 = 0
            guard read(fd, &byte, 1) == 1, head.count < 16384 else { throw SandboxError("the proxy closed the connection") }
            head.append(byte)
        }
        let status = String(decoding: head, as: UTF8.self)
        guard status.hasPrefix("HTTP/1.1 200") || status.hasPrefix("HTTP/1.0 200") else {
            var body = [UInt8](repeating: 0, count: 1024)
            let n = max(0, read(fd, &body, body.count))
            throw SandboxError("\(authority): " + String(decoding: body[0..<n], as: UTF8.self).trimmingSbxPrefix())
        }
        relay(fd)
    }

    /// stdin → socket and socket → stdout, each until its EOF, passed on as a half-close (the
    /// socket's write shut down, stdout closed): the other direction goes on until its own.
    private func relay(_ fd: Int32) {
        var fds = [pollfd(fd: 0, events: Int16(POLLIN), revents: 0), pollfd(fd: fd, events: Int16(POLLIN), revents: 0)]
        var buffer = [UInt8](repeating: 0, count: 65536)
        // A side gone for good is a failed write (EPIPE) that ends the relay, not a signal.
        signal(SIGPIPE, SIG_IGN)
        while fds[0].fd >= 0 || fds[1].fd >= 0 {
            guard poll(&fds, nfds_t(fds.count), -1) >= 0 || errno == EINTR else { return }
            if fds[0].revents != 0 {
                let n = read(0, &buffer, buffer.count)
                if n <= 0 {
                    shutdown(fd, Int32(SHUT_WR))
                    fds[0].fd = -1  // poll ignores it from now on
                } else if (try? writeFully(fd, Array(buffer[0..<n]), what: "the tunnel")) == nil {
                    return
                }
            }
            if fds[1].revents != 0 {
                let n = read(fd, &buffer, buffer.count)
                if n <= 0 {
                    close(1)
                    fds[1].fd = -1
                } else if (try? writeFully(1, Array(buffer[0..<n]), what: "stdout")) == nil {
                    return
                }
            }
        }
    }
}

private extension String {
    /// The proxy's refusal body is "sbx: reason\n"; our own errors get "sbx: " again.
    func trimmingSbxPrefix() -> String {
        var text = Substring(self)
        if text.hasPrefix("sbx: ") { text = text.dropFirst(5) }
        while text.last == "\n" { text = text.dropLast() }
        return String(text)
    }
}
