import XCTest

/// README, "Egress through sbx's proxy": `HTTP_PROXY`, `ALL_PROXY` and tools' own proxy
/// variables are set (`--env` can change them); `--host-port` works in proxy mode too; the
/// sandbox's own servers cannot listen on the rules' ports. Each with real tools against a
/// server on the host's 127.0.0.1 (a name mapped with --add-host), and the audit file telling
/// which side of sbx carried each connection: through the proxy (`http`) or, for a program
/// that ignores the variables, the transparent side.
final class ProxyVariableTests: XCTestCase {
    nonisolated(unsafe) static var server: LoopbackHTTPServer?
    nonisolated(unsafe) static var setupFailure = ""
    static let root = Harness.workRoot + "/proxy-variables-upstream"

    /// A wheel and a find-links page for pip, a packument for npm, a file for curl.
    override class func setUp() {
        let setup = """
            set -e
            rm -rf "$0"; mkdir -p "$0/files" "$0/npm"; cd "$0"
            echo "hello from upstream" > hello
            /usr/bin/python3 - <<'PY'
            import base64, hashlib, json, zipfile
            files = {"sbxdemo/__init__.py": 'GREETING = "hello"\\n',
                     "sbxdemo-1.0.dist-info/METADATA": "Metadata-Version: 2.1\\nName: sbxdemo\\nVersion: 1.0\\n",
                     "sbxdemo-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\\nGenerator: sbx-tests\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"}
            digest = lambda data: base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record = "".join(f"{p},sha256={digest(t.encode())},{len(t.encode())}\\n" for p, t in files.items())
            files["sbxdemo-1.0.dist-info/RECORD"] = record + "sbxdemo-1.0.dist-info/RECORD,,\\n"
            with zipfile.ZipFile("files/sbxdemo-1.0-py3-none-any.whl", "w") as z:
                for path, text in files.items(): z.writestr(path, text)
            open("files/index.html", "w").write('<a href="sbxdemo-1.0-py3-none-any.whl">sbxdemo-1.0-py3-none-any.whl</a>\\n')
            json.dump({"name": "sbxdemo", "dist-tags": {"latest": "1.2.3"},
                       "versions": {"1.2.3": {"name": "sbxdemo", "version": "1.2.3"}}}, open("npm/sbxdemo", "w"))
            PY
            chmod -R a+rX "$0"
            """
        guard Harness.shell(["bash", "-c", setup, root]) == 0 else {
            setupFailure = "setting up the upstream's files failed (python3): run scripts/install-deps"
            return
        }
        server = LoopbackHTTPServer(serving: root, failure: &setupFailure)
    }

    override class func tearDown() { server?.stop() }

    var p: Int { Self.server?.port ?? 0 }

    override func setUpWithError() throws {
        // A setup failure fails the tests: it is not a reason to skip them.
        if Self.server == nil { throw SetupFailure(Self.setupFailure) }
    }

    func run(_ flags: [String], _ script: String, as caller: Caller = .current, environment: [String: String] = [:]) -> RunResult {
        let project = Harness.makeProject(for: caller)
        return Harness.sbx(["run", "--allow-domain", "up.test:\(p)", "--add-host", "up.test=127.0.0.1", "--verbose"] + flags
                           + ["--", "/bin/sh", "-c", script], as: caller, in: project, environment: environment, timeout: 90)
    }

    /// Every proxy variable the README promises, with the proxy's address, as each caller.
    func testProxyVariablesAreSet() {
        let proxy = "http://127.0.0.1:3128"
        let expected = [
            "ALL_PROXY=socks5h://127.0.0.1:3128", "all_proxy=socks5h://127.0.0.1:3128",
            "CARGO_HTTP_PROXY=\(proxy)", "CLOUDSDK_PROXY_ADDRESS=127.0.0.1", "CLOUDSDK_PROXY_PORT=3128", "CLOUDSDK_PROXY_TYPE=http",
            "GIT_SSH_COMMAND=ssh -o ProxyCommand='\(Harness.binary) connect %h %p'",
            "GRPC_PROXY=\(proxy)", "grpc_proxy=\(proxy)", "HTTP_PROXY=\(proxy)", "http_proxy=\(proxy)",
            "HTTPS_PROXY=\(proxy)", "https_proxy=\(proxy)",
            "JAVA_TOOL_OPTIONS=-Dhttp.proxyHost=127.0.0.1 -Dhttp.proxyPort=3128 -Dhttps.proxyHost=127.0.0.1 -Dhttps.proxyPort=3128 "
                + "-Dhttp.nonProxyHosts=localhost|127.0.0.1",
            "NO_PROXY=localhost,127.0.0.1,::1", "no_proxy=localhost,127.0.0.1,::1", "NODE_USE_ENV_PROXY=1",
            "npm_config_https_proxy=\(proxy)", "npm_config_proxy=\(proxy)", "PIP_PROXY=\(proxy)",
            "YARN_HTTP_PROXY=\(proxy)", "YARN_HTTPS_PROXY=\(proxy)",
        ].sorted()
        let grep = "env | grep -E '^([A-Za-z_]*_PROXY|[a-z_]*_proxy|JAVA_TOOL_OPTIONS|CLOUDSDK_[A-Z_]*|GIT_SSH_COMMAND|NODE_USE_ENV_PROXY)=' | LC_ALL=C sort"
        for caller in Harness.callers {
            let result = run([], grep, as: caller)
            XCTAssertEqual(result.stdout.split(separator: "\n").map(String.init), expected.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) },
                           "\(caller): \(result.stderr)")
        }
        // Not in proxy mode: none of them.
        let project = Harness.makeProject(for: .current)
        let plain = Harness.sbx(["run", "--", "/bin/sh", "-c", grep], as: .current, in: project)
        XCTAssertEqual(plain.stdout, "", plain.stderr)
    }

    /// pip reads PIP_PROXY and npm npm_config_proxy or npm_config_https_proxy (either will
    /// do for an http registry): with every generic variable unset, each
    /// still goes through the proxy (`http` in the audit file). The control, with the tool's
    /// own variable unset too, reaches the upstream through the transparent side: the audit
    /// file tells the two apart.
    func testToolsUseTheirOwnProxyVariables() throws {
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: "/usr/bin/npm"), "npm is missing: run scripts/install-deps")
        let generic = "unset HTTP_PROXY HTTPS_PROXY ALL_PROXY http_proxy https_proxy all_proxy"
        let pip = "python3 -m pip download -q --no-cache-dir --disable-pip-version-check --no-deps --no-index "
            + "--trusted-host up.test --find-links http://up.test:\(p)/files/ -d out sbxdemo && ls out"
        let npm = "export npm_config_cache=$PWD/npm-cache npm_config_update_notifier=false npm_config_audit=false npm_config_fund=false; "
            + "npm view sbxdemo version --registry http://up.test:\(p)/npm/"
        let tools: [(name: String, variable: String, command: String, output: String)] = [
            ("pip", "PIP_PROXY", pip, "sbxdemo-1.0-py3-none-any.whl\n"),
            ("npm", "npm_config_proxy npm_config_https_proxy", npm, "1.2.3\n"),
        ]
        for caller in Harness.callers {
            for tool in tools {
                let own = run([], "\(generic); \(tool.command)", as: caller)
                XCTAssertEqual(own.stdout, tool.output, "\(caller) \(tool.name): \(own.stderr)")
                let ownSides = Set(connectionProtocols(try auditEvents(own)))
                XCTAssertEqual(ownSides, ["http"], "\(caller) \(tool.name) with only \(tool.variable): \(own.stderr)")

                let control = run([], "\(generic); unset \(tool.variable); \(tool.command)", as: caller)
                XCTAssertEqual(control.stdout, tool.output, "\(caller) \(tool.name) control: \(control.stderr)")
                XCTAssertEqual(Set(connectionProtocols(try auditEvents(control))), ["transparent"],
                               "\(caller) \(tool.name) without \(tool.variable): \(control.stderr)")
            }
        }
    }

    /// `--env NAME=VALUE` and `--env NAME` (from the caller's environment) replace the proxy's
    /// values, and the programs follow: curl through a proxy that is not there fails, and a
    /// NO_PROXY naming the host sends curl around the proxy (to the transparent side).
    func testEnvReplacesTheProxyVariables() throws {
        let curl = "echo \"$http_proxy $NO_PROXY $no_proxy $PIP_PROXY\"; curl -sS -m 10 http://up.test:\(p)/hello; echo \"curl: $?\""
        let unchanged = run([], curl)
        XCTAssertEqual(unchanged.stdout, "http://127.0.0.1:3128 localhost,127.0.0.1,::1 localhost,127.0.0.1,::1 http://127.0.0.1:3128\n"
                       + "hello from upstream\ncurl: 0\n", unchanged.stderr)
        XCTAssertEqual(connectionProtocols(try auditEvents(unchanged)), ["http"])

        let elsewhere = run(["--env", "http_proxy=http://127.0.0.1:9", "--env", "PIP_PROXY=http://127.0.0.1:9"], curl)
        XCTAssertEqual(elsewhere.stdout.split(separator: "\n").first, "http://127.0.0.1:9 localhost,127.0.0.1,::1 localhost,127.0.0.1,::1 http://127.0.0.1:9",
                       elsewhere.stderr)
        XCTAssertTrue(elsewhere.stdout.hasSuffix("curl: 7\n"), "curl must have tried the proxy --env named: \(elsewhere.stdout)")
        XCTAssertEqual(connectionProtocols(try auditEvents(elsewhere)), [])

        let around = run(["--env", "NO_PROXY", "--env", "no_proxy"], curl, environment: ["NO_PROXY": "up.test", "no_proxy": "up.test"])
        XCTAssertEqual(around.stdout, "http://127.0.0.1:3128 up.test up.test http://127.0.0.1:3128\nhello from upstream\ncurl: 0\n", around.stderr)
        XCTAssertEqual(connectionProtocols(try auditEvents(around)), ["transparent"])
    }

    /// `--host-port PORT` in proxy mode: the host's 127.0.0.1:PORT at the sandbox's, that port
    /// only, next to the proxy. The control: in proxy mode without the flag, nothing there.
    func testHostPortWorksInProxyMode() throws {
        var failure = ""
        let other = try XCTUnwrap(LoopbackHTTPServer(serving: Self.root, failure: &failure), failure)
        defer { other.stop() }
        let third = try XCTUnwrap(LoopbackHTTPServer(serving: Self.root, failure: &failure), failure)
        defer { third.stop() }
        let q = other.port
        let script = """
            curl -sS -m 10 --noproxy '*' http://127.0.0.1:\(q)/hello; echo "host-port: $?"
            curl -s -m 10 --noproxy '*' http://127.0.0.1:\(third.port)/hello; echo "another port: $?"
            curl -sS -m 10 http://up.test:\(p)/hello
            """
        for caller in Harness.callers {
            let result = run(["--host-port", String(q)], script, as: caller)
            XCTAssertEqual(result.stdout, "hello from upstream\nhost-port: 0\nanother port: 7\nhello from upstream\n", "\(caller): \(result.stderr)")
            XCTAssertEqual(connectionProtocols(try auditEvents(result)), ["host-port", "http"], "\(caller)")
        }
        let without = run([], script)
        XCTAssertTrue(without.stdout.hasPrefix("host-port: 7\n"), without.stdout)
    }

    /// Where sbx's transparent side listens (the rules' ports, here up.test's), and on the
    /// proxy's 3128, the sandbox's own servers cannot: on any of its IPv4 addresses, nor on
    /// IPv6 (the init holds [::]:PORT). The control: the same binds succeed without proxy mode,
    /// and on a port no rule names.
    func testServersInsideCannotListenOnTheRulePorts() throws {
        var failure = ""
        let other = try XCTUnwrap(LoopbackHTTPServer(serving: Self.root, failure: &failure), failure)
        defer { other.stop() }
        let free = other.port  // taken on the host's loopback, not in the sandbox's
        let probe = """
            import errno, socket, sys
            for port in map(int, sys.argv[1:]):
                for family, address in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET, "0.0.0.0"), (socket.AF_INET, "198.18.0.1"),
                                        (socket.AF_INET6, "::"), (socket.AF_INET6, "::1")):
                    s = socket.socket(family, socket.SOCK_STREAM)
                    try:
                        s.bind((address, port)); s.listen(); r = "listening"
                    except OSError as e:
                        r = errno.errorcode[e.errno]
                    print(port, address, r)
                    s.close()
            """
        let expected = { (port: Int, answer: String) in
            ["127.0.0.1", "0.0.0.0", "198.18.0.1", "::", "::1"].map { "\(port) \($0) \(answer)\n" }.joined()
        }
        for caller in Harness.callers {
            let project = Harness.makeProject(for: caller)
            let proxied = Harness.sbx(["run", "--allow-domain", "up.test:\(p)", "--add-host", "up.test=127.0.0.1", "--"]
                                      + ["/usr/bin/python3", "-c", probe, String(p), "3128", String(free)], as: caller, in: project)
            XCTAssertEqual(proxied.stdout, expected(p, "EADDRINUSE") + expected(3128, "EADDRINUSE") + expected(free, "listening"),
                           "\(caller): \(proxied.stderr)")
            let plain = Harness.sbx(["run", "--", "/usr/bin/python3", "-c", probe, String(p), "3128"], as: caller, in: project)
            XCTAssertEqual(plain.stdout, expected(p, "listening") + expected(3128, "listening"), "\(caller) control: \(plain.stderr)")
        }
    }
}
