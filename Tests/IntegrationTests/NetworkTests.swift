import XCTest

/// Loopback only: the sandbox's lo is up and its own; the host's loopback services and
/// abstract unix sockets are out of reach. Nothing here connects beyond this machine.
final class NetworkTests: XCTestCase {
    func testOnlyLoopbackUpAndNoRoute() {
        let source = """
            import socket
            print(sorted(n for _, n in socket.if_nameindex()))
            print(open('/proc/net/route').read().strip().count('\\n'))
            print(sum(1 for l in open('/proc/net/ipv6_route') if not l.split()[-1] == 'lo'))
            s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)
            c = socket.create_connection(s.getsockname(), timeout=2); print('loopback works')
            # 198.18.0.1 is on lo, so getaddrinfo(AI_ADDRCONFIG) sees IPv4 configured: without
            # it, even "localhost" fails to resolve (glibc does not count loopback addresses).
            socket.socket().bind(('198.18.0.1', 0))
            print(socket.getaddrinfo('localhost', 80, socket.AF_INET, socket.SOCK_STREAM, 0, socket.AI_ADDRCONFIG)[0][4][0])
            """
        for caller in Harness.callers {
            let result = Harness.sbx(["run"] + python(source), as: caller, in: Harness.makeProject(for: caller))
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(result.stdout, "['lo']\n0\n0\nloopback works\n127.0.0.1\n", "\(caller): \(result.stderr)")
        }
    }

    func testHostLoopbackPortAndAbstractSocketAreUnreachable() throws {
        let tcp = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(tcp, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        listen(tcp, 8)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(tcp, $0, &length) } }
        let port = Int(UInt16(bigEndian: address.sin_port))
        defer { close(tcp) }

        let name = "sbx-it-abstract-\(getpid())"
        let unixListener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var unixAddress = sockaddr_un()
        unixAddress.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &unixAddress.sun_path) { buffer in
            buffer[0] = 0
            for (i, byte) in name.utf8.enumerated() { buffer[i + 1] = byte }
        }
        let unixLength = socklen_t(MemoryLayout<sa_family_t>.size + 1 + name.utf8.count)
        XCTAssertEqual(withUnsafePointer(to: &unixAddress) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(unixListener, $0, unixLength) } }, 0)
        listen(unixListener, 8)
        defer { close(unixListener) }

        let source = """
            import socket, errno
            def attempt(family, address):
                s = socket.socket(family, socket.SOCK_STREAM); s.settimeout(2)
                try:
                    s.connect(address); return 'CONNECTED'
                except OSError as e:
                    return errno.errorcode.get(e.errno, str(e))
            print(attempt(socket.AF_INET, ('127.0.0.1', \(port))), attempt(socket.AF_UNIX, '\\0\(name)'))
            """
        // Control: the same probe outside the sandbox reaches both.
        let outside = Harness.launch(["/usr/bin/python3", "-c", source], as: .current, in: Harness.workRoot).finish()
        XCTAssertEqual(outside.stdout, "CONNECTED CONNECTED\n", "control failed: \(outside.stderr)")
        for caller in Harness.callers {
            let result = Harness.sbx(["run"] + python(source), as: caller, in: Harness.makeProject(for: caller))
            XCTAssertEqual(result.stdout, "ECONNREFUSED ECONNREFUSED\n", "\(caller): \(result.stderr)")
        }
    }
}
