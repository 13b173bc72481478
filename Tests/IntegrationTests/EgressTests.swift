import XCTest

/// The egress proxy with real clients in a real sandbox, against upstream servers on the host's
/// 127.0.0.1 (names mapped with --add-host, which the private-address rule lets through only
/// because the entry names that exact host).
final class EgressTests: XCTestCase {
    nonisolated(unsafe) static var upstream: Launched?
    static let port = 20000 + Int(getpid() % 20000)
    static let root = Harness.workRoot + "/egress-upstream"

    /// One HTTP server for the whole class, serving `root`: a small file and a 20 MB one.
    override class func setUp() {
        try? FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: root + "/hello", contents: Data("hello from upstream\n".utf8))
        var big = Data(count: 20 << 20)
        big.withUnsafeMutableBytes { for i in 0..<$0.count { $0[i] = UInt8(truncatingIfNeeded: i &* 2654435761 >> 13) } }
        FileManager.default.createFile(atPath: root + "/big", contents: big)

        upstream = Harness.launch(["/usr/bin/python3", "-m", "http.server", String(port), "--bind", "127.0.0.1"], as: .current, in: root)
        _ = upstream!.wait(until: { Harness.shell(["curl", "-sf", "-o", "/dev/null", "http://127.0.0.1:\(port)/hello"]) == 0 })
    }

    override class func tearDown() {
        if let upstream { kill(upstream.pid, SIGTERM); _ = upstream.finish() }
    }

    func run(_ flags: [String], _ script: String, as caller: Caller = .current) -> RunResult {
        let project = Harness.makeProject(for: caller)
        return Harness.sbx(["run"] + flags + ["--", "/bin/sh", "-c", script], as: caller, in: project, timeout: 60)
    }

    var p: Int { Self.port }

    func testAllowedHostWorksOverHTTPConnectAndSOCKS() {
        for caller in Harness.callers {
            let result = run(["--allow-domain", "up.test:\(p)", "--add-host", "up.test=127.0.0.1"], """
                curl -sS http://up.test:\(p)/hello
                curl -sS -p http://up.test:\(p)/hello
                curl -sS --socks5-hostname 127.0.0.1:3128 http://up.test:\(p)/hello
                python3 -c 'import urllib.request; print(urllib.request.urlopen("http://up.test:\(p)/hello").read().decode(), end="")'
                python3 -c 'import requests; print(requests.get("http://up.test:\(p)/hello").text, end="")'
                """, as: caller)
            XCTAssertEqual(result.status, 0, "\(caller): \(result.stderr)")
            XCTAssertEqual(result.stdout, String(repeating: "hello from upstream\n", count: 5), "\(caller): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("sbx: 5 connections allowed, 0 refused"), result.stderr)
        }
    }

    func testRefusalsNameTheHostAndTheReason() {
        let result = run(["--allow-domain", "up.test:\(p)", "--allow-domain", "*.wild.test:\(p)", "--add-host", "up.test=127.0.0.1",
                          "--add-host", "a.wild.test=127.0.0.1", "--add-host", "wild.test=127.0.0.1"], """
            curl -s http://up.test:\(p + 1)/hello; echo
            curl -s http://other.test:\(p)/hello; echo
            curl -s --noproxy '' http://127.0.0.1:\(p)/hello; echo
            curl -s http://a.wild.test:\(p)/hello; echo
            curl -s http://wild.test:\(p)/hello; echo
            curl -s -o /dev/null -w '%{http_connect}\\n' -p https://other.test/; true
            """)
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines, [
            "sbx: up.test:\(p + 1) not in allow-list",
            "sbx: other.test:\(p) not in allow-list",
            "sbx: 127.0.0.1:\(p) not in allow-list",
            "sbx: a.wild.test resolves to 127.0.0.1, a loopback, link-local or private address that *.wild.test:\(p) does not name",
            "sbx: wild.test:\(p) not in allow-list",
            "403",
        ], result.stdout)
        XCTAssertTrue(result.stderr.contains("0 connections allowed, 6 refused"), result.stderr)
    }

    func testDenyWinsAndAnUnlistedNameIsNotResolved() throws {
        let project = Harness.makeProject(for: .current)
        FileManager.default.createFile(atPath: project + "/p.toml", contents: Data("[network]\nmode = \"proxy\"\nallow = [\"up.test:\(p)\"]\ndeny = [\"up.test\"]\n".utf8))
        let denied = Harness.sbx(["run", "--profile", "./p.toml", "--add-host", "up.test=127.0.0.1", "--verbose", "--", "/bin/sh", "-c",
                                  "curl -s http://up.test:\(p)/hello; echo; curl -s http://unlisted.test/"], as: .current, in: project)
        XCTAssertTrue(denied.stdout.hasPrefix("sbx: up.test:\(p) denied by up.test\n"), denied.stdout)
        let path = try XCTUnwrap(denied.stderr.split(separator: "\n").first { $0.hasPrefix("sbx: audit: ") }?.dropFirst(12))
        let lines = try String(contentsOfFile: String(path), encoding: .utf8).split(separator: "\n")
        let events = try lines.map { try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        XCTAssertEqual(events.map { $0["event"] as? String }, ["start", "connection", "connection", "exit"])
        XCTAssertEqual(events.last?["status"] as? Int, 0)
        let unlisted = events[2]
        XCTAssertEqual(unlisted["host"] as? String, "unlisted.test")
        XCTAssertEqual(unlisted["allowed"] as? Bool, false)
        XCTAssertTrue(unlisted["address"] is NSNull, "an unlisted name was resolved: \(unlisted)")
    }

    func testSOCKSRefusalIsReplyTwo() {
        let result = run(["--allow-domain", "up.test:\(p)"], """
            python3 - <<'EOF'
            import socket
            s = socket.create_connection(("127.0.0.1", 3128))
            s.sendall(b"\\x05\\x01\\x00")
            assert s.recv(2) == b"\\x05\\x00"
            name = b"evil.test"
            s.sendall(b"\\x05\\x01\\x00\\x03" + bytes([len(name)]) + name + (443).to_bytes(2, "big"))
            print(s.recv(10)[1])
            EOF
            """)
        XCTAssertEqual(result.stdout, "2\n", result.stderr)
    }

    func testLargeTransfersAreIntactAndManyConnectionsWork() throws {
        let expected = Harness.shell(["sh", "-c", "sha256sum < \(Self.root)/big > \(Self.root)/big.sum"])
        XCTAssertEqual(expected, 0)
        let sum = try String(contentsOfFile: Self.root + "/big.sum", encoding: .utf8)
        let result = run(["--allow-domain", "up.test:\(p)", "--add-host", "up.test=127.0.0.1", "--quiet"], """
            curl -sS -p http://up.test:\(p)/big | sha256sum
            curl -sS http://up.test:\(p)/big | sha256sum
            for i in $(seq 40); do curl -sS -o /dev/null -w '%{http_code}\\n' http://up.test:\(p)/hello & done | sort | uniq -c | tr -s ' '
            """)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, sum + sum + " 40 200\n", result.stderr)
        XCTAssertEqual(result.stderr, "", "--quiet")
    }

    func testMalformedRequestsAreRefusedAndTheProxyKeepsServing() {
        let result = run(["--allow-domain", "up.test:\(p)", "--add-host", "up.test=127.0.0.1"], """
            python3 - <<'EOF'
            import socket
            for garbage in [b"\\x00\\x01\\x02\\r\\n\\r\\n", b"GET\\r\\n\\r\\n", b"GET / HTTP/1.1\\r\\nHost: up.test\\r\\n\\r\\n",
                            b"CONNECT nohost HTTP/1.1\\r\\n\\r\\n", b"GET http://up.test:\(p)/ HTTP/1.1\\r\\n" + b"X: " + b"a" * 200000 + b"\\r\\n\\r\\n",
                            b"\\x05\\xff"]:
                s = socket.create_connection(("127.0.0.1", 3128))
                s.sendall(garbage)
                s.shutdown(socket.SHUT_WR)
                reply = b""
                while b"\\r\\n" not in reply:
                    chunk = s.recv(4096)
                    if not chunk: break
                    reply += chunk
                print(reply.split(b"\\r\\n")[0].decode() or "closed")
            EOF
            curl -sS http://up.test:\(p)/hello
            """)
        XCTAssertEqual(result.status, 0, result.stderr)
        // Each HTTP attempt gets the proxy's 400 (never the upstream's answer), the bad SOCKS
        // greeting a closed connection, and the proxy still serves the next client.
        XCTAssertEqual(result.stdout, String(repeating: "HTTP/1.1 400 Bad Request\n", count: 5) + "closed\nhello from upstream\n", result.stderr)
    }

    /// Bad entries stop check, explain and run in any mode (fail closed), naming file, line and key.
    func testBadNetworkEntriesAreErrorsEverywhere() {
        let project = Harness.makeProject(for: .current)
        for (text, message) in [("[network]\nallow = [\"a b.test\"]\n", "network.allow: 'a b.test': not a host name"),
                                ("[network]\nmode = \"proxy\"\nports = [70000]\n", "network.ports: 70000 is not a port"),
                                ("[network.hosts]\n\"up.test\" = \"127.0.0.1, nope\"\n", "p.toml:2:1: network.hosts.up.test: 'nope' is not an IPv4"),
                                ("[network.hosts]\n\"a b\" = \"127.0.0.1\"\n", "network.hosts.a b: 'a b' is not a host name")] {
            FileManager.default.createFile(atPath: project + "/p.toml", contents: Data(text.utf8))
            for command in [["profile", "check", "./p.toml"], ["explain", "--profile", "./p.toml"], ["run", "--profile", "./p.toml", "--", "/bin/true"]] {
                let result = Harness.sbx(command, as: .current, in: project)
                XCTAssertEqual(result.status, 125, "\(command)")
                XCTAssertTrue(result.stderr.contains("p.toml:") && result.stderr.contains(message), "\(command): \(result.stderr)")
            }
        }
        // A profile's hosts table works like --add-host; --add-host replaces an entry of it.
        FileManager.default.createFile(atPath: project + "/h.toml", contents: Data("""
            [network]
            mode = "proxy"
            allow = ["up.test:\(p)", "other.test:\(p)"]
            [network.hosts]
            "Up.Test" = "127.0.0.1"
            "other.test" = "127.0.0.1"
            """.utf8))
        let mapped = Harness.sbx(["run", "--profile", "./h.toml", "--add-host", "other.test=127.0.0.2", "--quiet", "--", "/bin/sh", "-c",
                                  "curl -sS http://up.test:\(p)/hello; curl -s -o /dev/null -w '%{http_code}\\n' http://other.test:\(p)/hello"],
                                 as: .current, in: project)
        XCTAssertEqual(mapped.stdout, "hello from upstream\n502\n", mapped.stderr)
        // --add-host names are normalised like the rules' (case, trailing dot).
        let result = run(["--allow-domain", "up.test:\(p)", "--add-host", "Up.Test.=127.0.0.1"], "curl -sS http://up.test:\(p)/hello")
        XCTAssertEqual(result.stdout, "hello from upstream\n", result.stderr)
        // ... and IDNA: a rule in Unicode, a client that sends the xn-- form (CONNECT, SOCKS).
        let idn = run(["--allow-domain", "bücher.test:\(p)", "--add-host", "xn--bcher-kva.test=127.0.0.1"], """
            curl -sS -p http://xn--bcher-kva.test:\(p)/hello
            curl -sS --socks5-hostname 127.0.0.1:3128 http://xn--bcher-kva.test:\(p)/hello
            """)
        XCTAssertEqual(idn.stdout, "hello from upstream\nhello from upstream\n", idn.stderr)
    }

    /// `sbx connect`, ssh's ProxyCommand for git over SSH: a tunnel through the proxy between
    /// stdin/stdout and an allowed host:port; a refused one is an error that names the reason.
    func testConnectTunnelsStdioForSSH() {
        for caller in Harness.callers {
            // The tests' copy of sbx lives in the host's /tmp, which the sandbox does not see.
            let result = run(["--allow-domain", "up.test:\(p)", "--add-host", "up.test=127.0.0.1", "--quiet", "--ro", Harness.binary], """
                printf 'GET /hello HTTP/1.0\\r\\nHost: up.test\\r\\n\\r\\n' | \(Harness.binary) connect up.test \(p) | tail -1
                \(Harness.binary) connect evil.test 22 </dev/null; echo "status $?"
                echo "$GIT_SSH_COMMAND"
                """, as: caller)
            XCTAssertEqual(result.stdout, "hello from upstream\nstatus 125\nssh -o ProxyCommand='\(Harness.binary) connect %h %p'\n",
                           "\(caller): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("sbx: evil.test:22: evil.test:22 not in allow-list"), result.stderr)
        }
    }

    /// A name with several addresses: one that refuses the connection, then the one that
    /// answers; the client gets the answer (through CONNECT, SOCKS and plain HTTP).
    func testTheNextAddressIsTriedWhenOneDoesNotAnswer() {
        let result = run(["--allow-domain", "up.test:\(p)", "--add-host", "up.test=127.0.0.2", "--add-host", "up.test=127.0.0.1", "--quiet"], """
            curl -sS -m 10 http://up.test:\(p)/hello
            curl -sS -m 10 -p http://up.test:\(p)/hello
            curl -sS -m 10 --socks5-hostname 127.0.0.1:3128 http://up.test:\(p)/hello
            """)
        XCTAssertEqual(result.stdout, String(repeating: "hello from upstream\n", count: 3), result.stderr)
    }

    /// --host-port: the host's 127.0.0.1:PORT at the sandbox's 127.0.0.1:PORT, that port only,
    /// in either network mode.
    func testHostPortReachesAHostLoopbackService() {
        for caller in Harness.callers {
            let result = run(["--host-port", String(p)], """
                curl -sS http://127.0.0.1:\(p)/hello
                curl -s http://127.0.0.1:\(p + 1)/hello; echo "other port: $?"
                """, as: caller)
            XCTAssertEqual(result.stdout, "hello from upstream\nother port: 7\n", "\(caller): \(result.stderr)")
        }
        XCTAssertEqual(run(["--host-port", "3128", "--net", "proxy"], "true").status, 125)
        // Nothing listening on the host: the sandbox's connection is closed, and the run says why.
        let empty = run(["--host-port", String(p + 4), "--verbose"], "curl -s http://127.0.0.1:\(p + 4)/ || echo closed")
        XCTAssertEqual(empty.stdout, "closed\n", empty.stderr)
        let path = empty.stderr.split(separator: "\n").first { $0.hasPrefix("sbx: audit: ") }.map { String($0.dropFirst(12)) } ?? ""
        XCTAssertTrue(((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").contains("--host-port \(p + 4): nothing listens on the host"), path)
    }

    /// --expose: a server on the sandbox's loopback (127.0.0.1 or ::1) at the host's
    /// 127.0.0.1:PORT; without it, the host cannot reach the sandbox's servers.
    func testExposeReachesASandboxServerFromTheHost() throws {
        let (v4, v6) = (p + 2, p + 3)
        for caller in Harness.callers {
            let project = Harness.makeProject(for: caller)
            FileManager.default.createFile(atPath: project + "/page", contents: Data("page from the sandbox\n".utf8))
            let serve = """
                python3 -m http.server \(v4) --bind 127.0.0.1 & python3 -m http.server \(v6) --bind ::1 &
                until curl -sf -o /dev/null http://127.0.0.1:\(v4)/page && curl -sf -o /dev/null -g 'http://[::1]:\(v6)/page'; do sleep 0.1; done
                : > up; wait
                """
            for exposed in [true, false] {
                try? FileManager.default.removeItem(atPath: project + "/up")
                let flags = exposed ? ["--expose", String(v4), "--expose", String(v6)] : []
                let sandbox = Harness.launch([Harness.binary, "run"] + flags + ["--", "/bin/sh", "-c", serve], as: caller, in: project)
                XCTAssertTrue(sandbox.wait(until: { FileManager.default.fileExists(atPath: project + "/up") }, timeout: 20), sandbox.stderr)
                for port in [v4, v6] {
                    let copy = "\(project)/copy-\(port)"
                    let status = Harness.shell(["curl", "-sf", "-m", "10", "-o", copy, "http://127.0.0.1:\(port)/page"])
                    if exposed {
                        XCTAssertEqual(status, 0, "\(caller) port \(port): \(sandbox.stderr)")
                        XCTAssertEqual(try? String(contentsOfFile: copy, encoding: .utf8), "page from the sandbox\n", "\(caller)")
                    } else {
                        XCTAssertEqual(status, 7, "\(caller): without --expose the host must not reach port \(port)")
                    }
                }
                kill(sandbox.pid, SIGTERM)
                _ = sandbox.finish()
            }
        }
        // A port the host already uses stops the run before the command starts.
        let project = Harness.makeProject(for: .current)
        let taken = Harness.sbx(["run", "--expose", String(p), "--", "/bin/touch", "ran"], as: .current, in: project)
        XCTAssertEqual(taken.status, 125)
        XCTAssertTrue(taken.stderr.contains("--expose \(p): cannot listen on the host's 127.0.0.1:\(p)"), taken.stderr)
        // Nothing listening inside: the host's connection is closed, and the audit file says why.
        let empty = Harness.launch([Harness.binary, "run", "--verbose", "--expose", String(v4), "--", "/bin/sh", "-c",
                                    "touch up; sleep 20"], as: .current, in: project)
        XCTAssertTrue(empty.wait(until: { FileManager.default.fileExists(atPath: project + "/up") }, timeout: 20), empty.stderr)
        XCTAssertNotEqual(Harness.shell(["curl", "-sf", "-m", "10", "-o", "/dev/null", "http://127.0.0.1:\(v4)/"]), 0)
        kill(empty.pid, SIGTERM)
        let ended = empty.finish()
        let path = try XCTUnwrap(ended.stderr.split(separator: "\n").first { $0.hasPrefix("sbx: audit: ") }?.dropFirst(12))
        XCTAssertTrue(try String(contentsOfFile: String(path), encoding: .utf8).contains("--expose \(v4): nothing listens there in the sandbox"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: project + "/ran"))
    }

    /// Programs that ignore the proxy variables: the sandbox's DNS gives an allowed name an
    /// address from 198.18.0.0/15, and a connection to it goes through the rules like CONNECT.
    /// Unlisted names do not resolve; other ports and addresses it did not give out go nowhere.
    func testTransparentSideServesProgramsThatIgnoreTheProxy() throws {
        // Node.js is an install dependency (scripts/install-deps): without it this fails.
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: "/usr/bin/node"), "/usr/bin/node is missing: run scripts/install-deps")
        for caller in Harness.callers {
            let result = run(["--allow-domain", "up.test:\(p)", "--add-host", "up.test=127.0.0.1", "--verbose"], """
                unset HTTP_PROXY HTTPS_PROXY ALL_PROXY http_proxy https_proxy all_proxy
                getent hosts up.test | cut -d. -f1,2
                getent hosts evil.test; echo "evil: $?"
                python3 -c 'import urllib.request as u; print(u.build_opener(u.ProxyHandler({})).open("http://up.test:\(p)/hello").read().decode(), end="")'
                node -e 'fetch("http://up.test:\(p)/hello").then(r => r.text()).then(t => process.stdout.write(t))'
                curl -sS --socks5 127.0.0.1:3128 http://up.test:\(p)/hello  # resolved here, then SOCKS to the address
                curl -s --noproxy '*' http://up.test:\(p + 1)/hello; echo "other port: $?"
                curl -s --noproxy '*' http://198.18.200.1:\(p)/hello || echo "not given out: closed"
                """, as: caller)
            XCTAssertEqual(result.stdout, """
                198.18
                evil: 2
                hello from upstream
                hello from upstream
                hello from upstream
                other port: 7
                not given out: closed

                """, "\(caller): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("sbx: 3 connections allowed, 2 refused (evil.test not in allow-list (DNS lookup)"), result.stderr)
            let path = try XCTUnwrap(result.stderr.split(separator: "\n").first { $0.hasPrefix("sbx: audit: ") }?.dropFirst(12))
            let audit = try String(contentsOfFile: String(path), encoding: .utf8)
            XCTAssertEqual(audit.components(separatedBy: "\"protocol\":\"transparent\",\"host\":\"up.test\"").count - 1, 2, audit)
        }
    }

    /// The DNS answer is not a pass: the connection is decided by the rules, port and deny
    /// entries included.
    func testTransparentConnectionsAreDecidedByTheRules() {
        let project = Harness.makeProject(for: .current)
        FileManager.default.createFile(atPath: project + "/p.toml", contents: Data("""
            [network]
            mode = "proxy"
            allow = ["up.test:\(p)", "up.test:\(p + 1)"]
            deny = ["up.test:\(p + 1)"]
            [network.hosts]
            "up.test" = "127.0.0.1"
            """.utf8))
        let result = Harness.sbx(["run", "--profile", "./p.toml", "--", "/bin/sh", "-c", """
            unset HTTP_PROXY HTTPS_PROXY ALL_PROXY http_proxy https_proxy all_proxy
            curl -sS --noproxy '*' http://up.test:\(p)/hello
            curl -s --noproxy '*' http://up.test:\(p + 1)/hello || echo "denied port: closed"
            """], as: .current, in: project)
        XCTAssertEqual(result.stdout, "hello from upstream\ndenied port: closed\n", result.stderr)
        XCTAssertTrue(result.stderr.contains("1 connection allowed, 1 refused (up.test:\(p + 1) denied by up.test:\(p + 1))"), result.stderr)
    }

    func testWithoutProxyModeThereIsNoProxy() {
        let result = run([], "curl -s -x http://127.0.0.1:3128 http://up.test:\(p)/hello; echo $?")
        XCTAssertEqual(result.stdout, "7\n", "curl must fail to connect: \(result.stdout) \(result.stderr)")
    }
}

