import XCTest

/// Long-lived, interactive connections through every relay (issue 15): many small round
/// trips on one connection, a server that speaks first, a half-close either way, keep-alive
/// HTTP, an idle connection, and (CONNECT, SOCKS) data and EOF sent with the handshake. The
/// servers (`relayServer`) run on the host's 127.0.0.1, the clients (`relayClient`) in the
/// sandbox; for --expose the other way round. Everything is loopback.
final class RelayTests: XCTestCase {
    nonisolated(unsafe) static var server: Launched?
    /// The host's servers: line echo (client speaks first), greeting (server speaks first),
    /// HTTP/1.1 keep-alive. --expose's servers, in the sandbox, use the next three ports.
    static let ports = { let base = 40000 + Int(getpid() % 20000); return (echo: base, greeting: base + 1, http: base + 2) }()
    static let exposedPorts = (echo: ports.echo + 3, greeting: ports.echo + 4, http: ports.echo + 5)

    override class func setUp() {
        let directory = Harness.workRoot + "/relay-upstream"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: directory + "/server.py", contents: Data(relayServer.utf8))
        server = Harness.launch(["/usr/bin/python3", "server.py", "127.0.0.1", String(ports.echo), String(ports.greeting), String(ports.http)],
                                as: .current, in: directory)
        _ = server!.wait(until: { FileManager.default.fileExists(atPath: directory + "/up") })
    }

    override class func tearDown() {
        if let server { kill(server.pid, SIGTERM); _ = server.finish() }
    }

    /// A project holding the client script.
    func project() -> String {
        let project = Harness.makeProject(for: .current)
        FileManager.default.createFile(atPath: project + "/client.py", contents: Data(relayClient.utf8))
        return project
    }

    /// What `relayClient` prints when every check passes for `vias`.
    func allPassed(_ vias: [String]) -> String {
        vias.sorted().flatMap { via in checks(for: via).map { "\(via) \($0): ok\n" } }.joined()
    }

    /// The checks `relayClient` runs for `via` (its own table says the same).
    func checks(for via: String) -> [String] {
        switch via {
        case "proxy": return ["http"]  // plain HTTP: one request per connection by design
        case "stdio": return ["echo", "greeting", "halfclose", "idle", "reverse"]
        case "direct": return ["echo", "greeting", "halfclose", "http", "idle", "reverse"]
        default: return ["early", "echo", "greeting", "halfclose", "http", "idle", "reverse"]  // the handshake, data and EOF at once too
        }
    }

    var hostPorts: [String] { [Self.ports.echo, Self.ports.greeting, Self.ports.http].map(String.init) }

    /// The proxy port: CONNECT, SOCKS5, plain HTTP, and `sbx connect` (CONNECT from stdio).
    func testProxyRelaysStayInteractive() {
        let allow = hostPorts.flatMap { ["--allow-domain", "up.test:\($0)"] }
        let vias = ["connect", "socks", "proxy", "stdio"]
        let result = Harness.sbx(["run"] + allow + ["--add-host", "up.test=127.0.0.1", "--quiet", "--ro", Harness.binary, "--",
                                  "/usr/bin/python3", "client.py", Harness.binary, "up.test"] + hostPorts + vias,
                                 as: .current, in: project(), timeout: 60)
        XCTAssertEqual(result.stdout, allPassed(vias), result.stderr)
    }

    /// The transparent side: a name the sandbox's DNS resolves to 198.18.x.x, no proxy.
    func testTransparentSideStaysInteractive() {
        let allow = hostPorts.flatMap { ["--allow-domain", "up.test:\($0)"] }
        let result = Harness.sbx(["run"] + allow + ["--add-host", "up.test=127.0.0.1", "--quiet", "--",
                                  "/usr/bin/python3", "client.py", "-", "up.test"] + hostPorts + ["direct"],
                                 as: .current, in: project(), timeout: 60)
        XCTAssertEqual(result.stdout, allPassed(["direct"]), result.stderr)
    }

    /// --host-port: the host's servers at the sandbox's 127.0.0.1.
    func testHostPortStaysInteractive() {
        let flags = hostPorts.flatMap { ["--host-port", $0] }
        let result = Harness.sbx(["run"] + flags + ["--quiet", "--", "/usr/bin/python3", "client.py", "-", "127.0.0.1"] + hostPorts + ["direct"],
                                 as: .current, in: project(), timeout: 60)
        XCTAssertEqual(result.stdout, allPassed(["direct"]), result.stderr)
    }

    /// --expose: the servers in the sandbox, the client on the host.
    func testExposeStaysInteractive() {
        let project = project()
        FileManager.default.createFile(atPath: project + "/server.py", contents: Data(relayServer.utf8))
        let ports = [Self.exposedPorts.echo, Self.exposedPorts.greeting, Self.exposedPorts.http].map(String.init)
        let sandbox = Harness.launch([Harness.binary, "run", "--quiet"] + ports.flatMap { ["--expose", $0] } +
                                     ["--", "/usr/bin/python3", "server.py", "127.0.0.1"] + ports, as: .current, in: project)
        defer { kill(sandbox.pid, SIGTERM); _ = sandbox.finish() }
        XCTAssertTrue(sandbox.wait(until: { FileManager.default.fileExists(atPath: project + "/up") }, timeout: 20), sandbox.stderr)
        let client = Harness.launch(["/usr/bin/python3", project + "/client.py", "-", "127.0.0.1"] + ports + ["direct"],
                                    as: .current, in: project).finish(timeout: 40)
        XCTAssertEqual(client.stdout, allPassed(["direct"]), client.stderr)
    }
}

/// `server.py ADDRESS ECHO GREETING HTTP`: a line echo server ("echo LINE" for each line, "bye
/// N" after the client's EOF, then close; "reverse TOKEN" first: "ok", a half-close, and the
/// lines that still come counted for "count TOKEN" on another connection), the same after a
/// "220 hello" greeting, and an HTTP/1.1 server whose answer counts the requests on the
/// connection. Touches `up` when ready.
private let relayServer = #"""
import http.server, socket, socketserver, sys, threading

# Lines received after the server's half-close, by token; "count TOKEN" asks.
received = {}
arrived = threading.Condition()

class Echo(socketserver.StreamRequestHandler):
    greeting = b""
    def handle(self):
        self.wfile.write(self.greeting)
        count = 0
        for line in self.rfile:
            words = line.split()
            if count == 0 and len(words) == 2 and words[0] == b"reverse":
                self.wfile.write(b"ok\n")
                self.connection.shutdown(socket.SHUT_WR)
                lines = sum(1 for _ in self.rfile)
                with arrived:
                    received[words[1]] = lines
                    arrived.notify_all()
                return
            if count == 0 and len(words) == 2 and words[0] == b"count":
                with arrived:
                    arrived.wait_for(lambda: words[1] in received, timeout=5)
                    self.wfile.write(b"count %d\n" % received.get(words[1], -1))
                return
            count += 1
            self.wfile.write(b"echo " + line)
        self.wfile.write(b"bye %d\n" % count)

class Greeting(Echo):
    greeting = b"220 hello\n"

class Counting(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    count = 0
    def do_GET(self):
        self.count += 1
        body = b"request %d on this connection\n" % self.count
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass

class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

address = sys.argv[1]
servers = [Server((address, int(port)), handler) for port, handler in zip(sys.argv[2:5], [Echo, Greeting, Counting])]
for server in servers:
    threading.Thread(target=server.serve_forever, daemon=True).start()
open("up", "w").close()
threading.Event().wait()
"""#

/// `client.py SBX HOST ECHO GREETING HTTP VIA...`: for each way in (`direct`; `connect`, `socks`,
/// `proxy` through the proxy on 127.0.0.1:3128; `stdio` through `SBX connect`), the checks at
/// once, each on its own connection, each read failing after 5 s; prints "VIA CHECK: ok" or why not.
private let relayClient = #"""
import http.client, os, select, socket, subprocess, sys, threading, time

sbx, host, echo_port, greeting_port, http_port = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
TIMEOUT = 5

def read_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError("the proxy closed the connection")
        data += chunk
    return data

def open_socket(via, port):
    if via == "direct":
        return socket.create_connection((host, port), timeout=TIMEOUT)
    sock = socket.create_connection(("127.0.0.1", 3128), timeout=TIMEOUT)
    if via == "connect":
        sock.sendall(b"CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (host.encode(), port, host.encode(), port))
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            head += read_exactly(sock, 1)
        assert head.startswith(b"HTTP/1.1 200"), head
    elif via == "socks":
        sock.sendall(b"\x05\x01\x00")
        assert read_exactly(sock, 2) == b"\x05\x00"
        sock.sendall(b"\x05\x01\x00\x03" + bytes([len(host)]) + host.encode() + port.to_bytes(2, "big"))
        reply = read_exactly(sock, 4)
        assert reply[1] == 0, reply
        read_exactly(sock, {1: 4, 4: 16}[reply[3]] + 2)
    return sock

class Connection:
    """A byte stream with line reads that give up after TIMEOUT: a socket, or `sbx connect`'s stdio."""
    def __init__(self, via, port):
        self.buffer = b""
        if via == "stdio":
            self.process = subprocess.Popen([sbx, "connect", host, str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
            self.rfd, self.wfd = self.process.stdout.fileno(), self.process.stdin.fileno()
        else:
            self.sock = open_socket(via, port)
            self.rfd = self.wfd = self.sock.fileno()
    def send(self, data):
        while data:
            data = data[os.write(self.wfd, data):]
    def shutdown_write(self):
        if hasattr(self, "sock"):
            self.sock.shutdown(socket.SHUT_WR)
        else:
            self.process.stdin.close()
    def readline(self):
        while b"\n" not in self.buffer:
            if not select.select([self.rfd], [], [], TIMEOUT)[0]:
                raise TimeoutError("nothing more within %d s after %r" % (TIMEOUT, self.buffer))
            chunk = os.read(self.rfd, 65536)
            if not chunk:
                line, self.buffer = self.buffer, b""
                return line
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line + b"\n"
    def round_trip(self, text):
        self.send(text.encode() + b"\n")
        answer = self.readline().decode()
        assert answer == "echo %s\n" % text, "%r after %r" % (answer, text)

def echo(via):
    connection = Connection(via, echo_port)
    for i in range(50):
        try:
            connection.round_trip("line %d" % i)
        except Exception as error:
            raise AssertionError("%d of 50 round trips, then: %s" % (i, error))

def greeting(via):
    connection = Connection(via, greeting_port)
    assert connection.readline() == b"220 hello\n"
    for i in range(3):
        connection.round_trip("after the greeting %d" % i)

def halfclose(via):
    connection = Connection(via, echo_port)
    connection.send(b"a\nb\nc\n")
    connection.shutdown_write()
    lines = []
    while True:
        line = connection.readline()
        if not line:
            break
        lines.append(line)
    assert lines == [b"echo a\n", b"echo b\n", b"echo c\n", b"bye 3\n"], lines

def reverse(via):
    # The server half-closes first; what the client sends after that still arrives.
    token = b"%s-%d" % (via.encode(), os.getpid())
    connection = Connection(via, echo_port)
    connection.send(b"reverse %s\n" % token)
    assert connection.readline() == b"ok\n"
    assert connection.readline() == b"", "no EOF after the server's half-close"
    for i in range(3):
        connection.send(b"after the server's half-close\n")
    connection.shutdown_write()
    query = Connection(via, echo_port)
    query.send(b"count %s\n" % token)
    answer = query.readline()
    assert answer == b"count 3\n", answer

def early(via):
    # The proxy's handshake, the data and the half-close at once, before the proxy answers.
    sock = socket.create_connection(("127.0.0.1", 3128), timeout=TIMEOUT)
    if via == "connect":
        sock.sendall(b"CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n\r\na\nb\n" % (host.encode(), echo_port, host.encode(), echo_port))
    else:
        sock.sendall(b"\x05\x01\x00\x05\x01\x00\x03" + bytes([len(host)]) + host.encode() + echo_port.to_bytes(2, "big") + b"a\nb\n")
    sock.shutdown(socket.SHUT_WR)
    answer = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        answer += chunk
    handshake = b"HTTP/1.1 200 Connection Established\r\n\r\n" if via == "connect" else b"\x05\x00\x05\x00"
    assert answer.startswith(handshake) and answer.endswith(b"echo a\necho b\nbye 2\n"), answer

def idle(via):
    connection = Connection(via, echo_port)
    connection.round_trip("before")
    time.sleep(4)
    connection.round_trip("after 4 s idle")

def keepalive(via):
    if via == "direct":
        client = http.client.HTTPConnection(host, http_port, timeout=TIMEOUT)
    elif via == "connect":
        client = http.client.HTTPConnection("127.0.0.1", 3128, timeout=TIMEOUT)
        client.set_tunnel(host, http_port)
    elif via == "socks":
        class SOCKSConnection(http.client.HTTPConnection):
            def connect(self):
                self.sock = open_socket("socks", http_port)
        client = SOCKSConnection(host, http_port, timeout=TIMEOUT)
    else:
        client = http.client.HTTPConnection("127.0.0.1", 3128, timeout=TIMEOUT)
    for i in range(1, 6):
        client.request("GET", "http://%s:%d/" % (host, http_port) if via == "proxy" else "/")
        body = client.getresponse().read().decode()
        # Plain HTTP through the proxy is one request per connection: http.client reconnects.
        expected = "request %d on this connection\n" % (1 if via == "proxy" else i)
        assert body == expected, "request %d: %r" % (i, body)

checks = {"early": early, "echo": echo, "greeting": greeting, "halfclose": halfclose, "http": keepalive, "idle": idle, "reverse": reverse}
results = []
def run(via, name):
    try:
        checks[name](via)
        results.append("%s %s: ok" % (via, name))
    except Exception as error:
        results.append("%s %s: %s: %s" % (via, name, type(error).__name__, error))

threads = []
for via in sys.argv[6:]:
    names = {"proxy": ["http"], "stdio": ["echo", "greeting", "halfclose", "idle", "reverse"],
             "direct": ["echo", "greeting", "halfclose", "http", "idle", "reverse"]}.get(via, list(checks))
    threads += [threading.Thread(target=run, args=(via, name)) for name in names]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print("".join(line + "\n" for line in sorted(results)), end="")
"""#
