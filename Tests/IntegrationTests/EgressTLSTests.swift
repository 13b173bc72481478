import XCTest

/// pip and git over HTTPS through the proxy (CONNECT), against a TLS server on the host's
/// 127.0.0.1 with a certificate made for the test: a package index with one wheel, and a git
/// repository served over "dumb" HTTP. Names are mapped with --add-host.
final class EgressTLSTests: XCTestCase {
    nonisolated(unsafe) static var server: Launched?
    /// Why the server is not there: the test fails with it (a broken setup is not a pass).
    nonisolated(unsafe) static var setupFailure: String?
    static let port = 40000 + Int(getpid() % 20000)
    static let root = Harness.workRoot + "/tls-upstream"

    /// The certificate, the wheel, the index, the repository, then the server.
    override class func setUp() {
        let setup = """
            set -e
            rm -rf "$0"; mkdir -p "$0/site/files" "$0/site/simple/sbxdemo"; cd "$0"
            openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=sbx-test -keyout key.pem -out cert.pem \\
                -addext subjectAltName=DNS:pkgs.test,DNS:git.test 2>/dev/null
            /usr/bin/python3 - <<'PY'
            import base64, hashlib, zipfile
            files = {"sbxdemo/__init__.py": 'GREETING = "hello from the wheel"\\n',
                     "sbxdemo-1.0.dist-info/METADATA": "Metadata-Version: 2.1\\nName: sbxdemo\\nVersion: 1.0\\n",
                     "sbxdemo-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\\nGenerator: sbx-tests\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"}
            digest = lambda data: base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record = "".join(f"{p},sha256={digest(t.encode())},{len(t.encode())}\\n" for p, t in files.items())
            files["sbxdemo-1.0.dist-info/RECORD"] = record + "sbxdemo-1.0.dist-info/RECORD,,\\n"
            wheel = "site/files/sbxdemo-1.0-py3-none-any.whl"
            with zipfile.ZipFile(wheel, "w") as z:
                for path, text in files.items(): z.writestr(path, text)
            sha = hashlib.sha256(open(wheel, "rb").read()).hexdigest()
            open("site/simple/sbxdemo/index.html", "w").write(
                f'<a href="../../files/sbxdemo-1.0-py3-none-any.whl#sha256={sha}">sbxdemo-1.0-py3-none-any.whl</a>\\n')
            PY
            git init -q --bare site/repo.git
            git init -q work; echo "hello from git" > work/README
            git -C work add README; git -C work -c user.name=t -c user.email=t@t.test commit -qm init
            git -C work push -q "$PWD/site/repo.git" HEAD:refs/heads/main
            git --git-dir site/repo.git symbolic-ref HEAD refs/heads/main; git --git-dir site/repo.git update-server-info
            cat > serve.py <<'PY'
            import functools, http.server, ssl, sys
            handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory="site")
            server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), handler)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); context.load_cert_chain("cert.pem", "key.pem")
            server.socket = context.wrap_socket(server.socket, server_side=True)
            server.serve_forever()
            PY
            chmod -R a+rX "$0"
            """
        let status = Harness.shell(["bash", "-c", setup, root])
        guard status == 0 else {
            setupFailure = "setting up the HTTPS server failed (openssl, python3, git; status \(status)): run scripts/install-deps"
            return
        }
        server = Harness.launch(["/usr/bin/python3", "serve.py", String(port)], as: .current, in: root)
        let ready = server!.wait(until: {
            Harness.shell(["curl", "-sf", "-o", "/dev/null", "--cacert", root + "/cert.pem", "--resolve", "pkgs.test:\(port):127.0.0.1",
                           "https://pkgs.test:\(port)/simple/sbxdemo/"]) == 0
        })
        if !ready { setupFailure = "the HTTPS server did not answer on 127.0.0.1:\(port): \(server!.stderr)" }
    }

    override class func tearDown() {
        if let server { kill(server.pid, SIGTERM); _ = server.finish() }
    }

    func testPipAndGitOverHTTPSThroughTheProxy() throws {
        let p = Self.port
        if let failure = Self.setupFailure { return XCTFail(failure) }
        for caller in Harness.callers {
            let project = Harness.makeProject(for: caller)
            try FileManager.default.copyItem(atPath: Self.root + "/cert.pem", toPath: project + "/ca.pem")
            let result = Harness.sbx(["run", "--allow-domain", "pkgs.test:\(p)", "--allow-domain", "git.test:\(p)",
                                      "--add-host", "pkgs.test=127.0.0.1", "--add-host", "git.test=127.0.0.1", "--",
                                      "/bin/sh", "-c", """
                python3 -m pip install -q --disable-pip-version-check --no-cache-dir --cert ./ca.pem \\
                    --index-url https://pkgs.test:\(p)/simple/ --target ./deps sbxdemo
                PYTHONPATH=./deps python3 -c 'import sbxdemo; print(sbxdemo.GREETING)'
                git -c http.sslCAInfo=./ca.pem clone -q https://git.test:\(p)/repo.git clone && cat clone/README
                git -c http.sslCAInfo=./ca.pem clone -q https://other.test:\(p)/repo.git other 2>/dev/null || echo "other refused"
                """], as: caller, in: project, timeout: 120)
            XCTAssertEqual(result.stdout, "hello from the wheel\nhello from git\nother refused\n", "\(caller): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("refused (other.test:\(p) not in allow-list)"), "\(caller): \(result.stderr)")
        }
    }
}
