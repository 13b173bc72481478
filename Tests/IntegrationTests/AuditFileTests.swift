import XCTest

/// README, "An audit file per run": where it is (`$XDG_STATE_HOME/sbx`, else
/// `~/.local/state/sbx`, else `/tmp/sbx-UID`), and the fields of its lines: the start
/// (command, profile, project, network), each proxy, `--host-port` or `--expose` connection and
/// each name the sandbox's DNS refused, the exit (status, wall time, findings).
final class AuditFileTests: XCTestCase {
    /// One run that makes every kind of line: a proxied request, a refused DNS lookup, a
    /// --host-port connection and an --expose connection from the host, then exit 3.
    func testEveryEventHasItsFields() throws {
        let site = Harness.makeProject(for: .current, "site")
        FileManager.default.createFile(atPath: site + "/hello", contents: Data("hello from upstream\n".utf8))
        chmod(site, 0o755)
        var failure = ""
        let upstream = try XCTUnwrap(LoopbackHTTPServer(serving: site, failure: &failure), failure)
        defer { upstream.stop() }
        let (p, hostPort) = (upstream.port, upstream.port)  // the same server, reached both ways
        let project = Harness.makeProject(for: .current)
        FileManager.default.createFile(atPath: project + "/page", contents: Data("page from the sandbox\n".utf8))
        let exposed = Int.random(in: 30000..<32000)
        let script = """
            curl -sS -m 10 http://up.test:\(p)/hello
            getent hosts refused.test || echo "refused: $?"
            python3 -m http.server \(exposed) --bind 127.0.0.1 >/dev/null 2>&1 &
            until curl -sf -o /dev/null --noproxy '*' http://127.0.0.1:\(exposed)/page; do sleep 0.1; done
            trap 'exit 3' TERM
            touch up; while :; do sleep 0.1; done
            """
        let argv = [Harness.binary, "run", "--allow-domain", "up.test:\(p)", "--add-host", "up.test=127.0.0.1",
                    "--expose", String(exposed), "--verbose", "--", "/bin/sh", "-c", script]
        // --host-port is a run of its own (below): its port would also be a rule's here.
        let sandbox = Harness.launch(argv, as: .current, in: project)
        XCTAssertTrue(sandbox.wait(until: { FileManager.default.fileExists(atPath: project + "/up") }, timeout: 30), sandbox.stderr)
        XCTAssertEqual(Harness.shell(["curl", "-sf", "-m", "10", "-o", "/dev/null", "http://127.0.0.1:\(exposed)/page"]), 0)
        kill(sandbox.pid, SIGTERM)  // forwarded to the command, whose trap exits 3
        let result = sandbox.finish()
        XCTAssertEqual(result.status, 3, result.stderr)
        XCTAssertTrue(result.stdout.hasPrefix("hello from upstream\n"), result.stdout)
        let events = try auditEvents(result)
        XCTAssertEqual(events.map { $0["event"] as? String ?? "?" }, ["start", "connection", "connection", "connection", "exit"])

        let start = events[0]
        XCTAssertEqual(start["command"] as? [String], ["/bin/sh", "-c", script])
        XCTAssertEqual(start["profile"] as? String, "default")
        XCTAssertEqual(start["project"] as? String, project)
        XCTAssertEqual(start["network"] as? String, "proxy")
        for event in events { XCTAssertTrue((event["time"] as? Double ?? 0) > 1_600_000_000, "time: \(event)") }

        let connections = Dictionary(events.filter { $0["event"] as? String == "connection" }.map { ($0["protocol"] as? String ?? "?", $0) },
                                     uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(Set(connections.keys), ["http", "dns", "expose"])
        let http = try XCTUnwrap(connections["http"])
        XCTAssertEqual(http["host"] as? String, "up.test")
        XCTAssertEqual(http["port"] as? Int, p)
        XCTAssertEqual(http["address"] as? String, "127.0.0.1")
        XCTAssertEqual(http["allowed"] as? Bool, true)
        XCTAssertEqual(http["rule"] as? String, "up.test:\(p)")
        XCTAssertTrue((http["bytes_down"] as? Int ?? 0) >= 20, "\(http)")
        XCTAssertEqual(http["bytes_up"] as? Int, 0, "plain HTTP's bytes_up is not counted (man/sbx.1): \(http)")
        let dns = try XCTUnwrap(connections["dns"])
        XCTAssertEqual(dns["host"] as? String, "refused.test")
        XCTAssertEqual(dns["allowed"] as? Bool, false)
        XCTAssertTrue(dns["address"] is NSNull, "\(dns)")
        XCTAssertTrue((dns["rule"] as? String ?? "").contains("not in allow-list"), "\(dns)")
        let expose = try XCTUnwrap(connections["expose"])
        XCTAssertEqual(expose["port"] as? Int, exposed)
        XCTAssertEqual(expose["host"] as? String, "sandbox")
        XCTAssertEqual(expose["address"] as? String, "127.0.0.1")
        XCTAssertEqual(expose["allowed"] as? Bool, true)
        XCTAssertEqual(expose["rule"] as? String, "--expose \(exposed)")
        XCTAssertTrue((expose["bytes_up"] as? Int ?? 0) >= 20, "the sandbox's server sent the page: \(expose)")
        XCTAssertTrue((expose["bytes_down"] as? Int ?? 0) > 0, "the host's client sent a request: \(expose)")

        let exit = events[4]
        XCTAssertEqual(exit["status"] as? Int, 3)
        let wall = try XCTUnwrap(exit["wall_seconds"] as? Double, "\(exit)")
        XCTAssertTrue(wall > 0.05 && wall < 60, "\(exit)")
        XCTAssertEqual((exit["findings"] as? [Any])?.count, 0, "\(exit)")

        // --host-port: its own line, with the port.
        let forwarded = Harness.sbx(["run", "--host-port", String(hostPort), "--verbose", "--", "/bin/sh", "-c",
                                     "curl -sS -m 10 http://127.0.0.1:\(hostPort)/hello"], as: .current, in: project)
        XCTAssertEqual(forwarded.stdout, "hello from upstream\n", forwarded.stderr)
        let lines = try auditEvents(forwarded)
        XCTAssertEqual(lines.first?["network"] as? String, "none")
        let line = try XCTUnwrap(lines.first { $0["protocol"] as? String == "host-port" }, "\(lines)")
        XCTAssertEqual(line["port"] as? Int, hostPort)
        XCTAssertEqual(line["host"] as? String, "127.0.0.1")
        XCTAssertEqual(line["address"] as? String, "127.0.0.1")
        XCTAssertEqual(line["allowed"] as? Bool, true)
        XCTAssertEqual(line["rule"] as? String, "--host-port \(hostPort)")
        XCTAssertTrue((line["bytes_down"] as? Int ?? 0) >= 20, "\(line)")
    }

    /// The audit path --verbose prints, for a run with `environment`.
    func auditPath(as caller: Caller, environment: [String: String]) throws -> String {
        let result = Harness.sbx(["run", "--verbose", "--", "/bin/true"], as: caller, in: Harness.makeProject(for: caller), environment: environment)
        XCTAssertEqual(result.status, 0, result.stderr)
        let path = try XCTUnwrap(result.stderr.split(separator: "\n").first { $0.hasPrefix("sbx: audit: ") }?.dropFirst(12), result.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: String(path)), String(path))
        return String(path)
    }

    /// $XDG_STATE_HOME/sbx; without it (or when it is not absolute) ~/.local/state/sbx; when
    /// that cannot be made, /tmp/sbx-UID, a directory of the caller's that nobody else can enter.
    func testStateDirectoryAndItsFallback() throws {
        for caller in Harness.callers {
            let uid = caller == .current ? getuid() : Harness.unprivilegedIDs.uid
            let home = Harness.makeProject(for: caller, "home")
            let xdg = Harness.makeProject(for: caller, "xdg")
            XCTAssertTrue(try auditPath(as: caller, environment: ["HOME": home, "XDG_STATE_HOME": xdg]).hasPrefix(xdg + "/sbx/runs/"))
            XCTAssertTrue(try auditPath(as: caller, environment: ["HOME": home, "XDG_STATE_HOME": ""]).hasPrefix(home + "/.local/state/sbx/runs/"))
            XCTAssertTrue(try auditPath(as: caller, environment: ["HOME": home, "XDG_STATE_HOME": "relative/state"])
                .hasPrefix(home + "/.local/state/sbx/runs/"))

            // A home nobody can write into, not even root: an immutable directory.
            let locked = Harness.makeProject(for: caller, "lockedhome")
            XCTAssertEqual(Harness.shell(["chattr", "+i", locked]), 0, "chattr +i \(locked): this test needs a file system with the immutable flag")
            defer { Harness.shell(["chattr", "-i", locked]) }
            let fallback = "/tmp/sbx-\(uid)"
            let existed = FileManager.default.fileExists(atPath: fallback)
            let path = try auditPath(as: caller, environment: ["HOME": locked, "XDG_STATE_HOME": ""])
            XCTAssertTrue(path.hasPrefix(fallback + "/runs/"), path)
            var info = stat()
            XCTAssertEqual(lstat(fallback, &info), 0)
            XCTAssertEqual(info.st_uid, uid)
            XCTAssertEqual(info.st_mode & 0o777, 0o700)
            // Leave /tmp as it was: the audit file, and the directory when this test made it
            // (rmdir only: what another run may have put there meanwhile stays).
            unlink(path)
            if !existed { for directory in ["/runs", "/overlays", ""] { rmdir(fallback + directory) } }
        }
    }
}
