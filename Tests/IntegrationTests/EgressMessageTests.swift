import XCTest

/// What egress says to a user: a URL pasted into --allow-domain is taken for its host and port,
/// and the summary of a run with refusals says how to allow a host.
final class EgressMessageTests: XCTestCase {
    func testAURLGivenToAllowDomainAllowsItsHostAndPortAndRefusalsSayHowToAllow() throws {
        let port = 21000 + Int(getpid() % 20000)
        let root = Harness.makeProject(for: .current, "upstream")
        FileManager.default.createFile(atPath: root + "/hello", contents: Data("hello\n".utf8))
        let upstream = Harness.launch(["/usr/bin/python3", "-m", "http.server", String(port), "--bind", "127.0.0.1"], as: .current, in: root)
        defer { kill(upstream.pid, SIGTERM); _ = upstream.finish() }
        XCTAssertTrue(upstream.wait(until: { Harness.shell(["curl", "-sf", "-o", "/dev/null", "http://127.0.0.1:\(port)/hello"]) == 0 }))
        let result = Harness.sbx(["run", "--allow-domain", "http://up.test:\(port)/some/path?q=1", "--add-host", "up.test=127.0.0.1",
                                  "--add-host", "other.test=127.0.0.1", "--", "/bin/sh", "-c",
                                  "curl -sS http://up.test:\(port)/hello; curl -sS http://other.test:\(port)/hello || true"],
                                 as: .current, in: Harness.makeProject(for: .current))
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.hasPrefix("hello\n"), result.stdout + result.stderr)
        XCTAssertTrue(result.stderr.contains("1 connection allowed, 1 refused (other.test:\(port) not in allow-list); "
                                             + "to allow a host: --allow-domain HOST[:PORT], or network.allow in a profile"), result.stderr)
    }

    /// A toolchain profile lists its registry but keeps the network off: a run that fails says
    /// how to turn it on, and `sbx explain` says so too. A run that succeeds, or a failing one
    /// whose profile lists no host (the control), says nothing of it.
    func testARunWithoutNetworkWhoseProfileListsHostsSaysHowToTurnItOn() {
        let project = Harness.makeProject(for: .current)
        let hint = "note: the network is off (network.mode = \"none\""
        let failed = Harness.sbx(["run", "--profile", "node", "--", "/bin/sh", "-c", "exit 3"], as: .current, in: project)
        XCTAssertEqual(failed.status, 3, failed.stderr)
        XCTAssertTrue(failed.stderr.contains(hint) && failed.stderr.contains("--net proxy"), failed.stderr)
        let passed = Harness.sbx(["run", "--profile", "node", "--", "/bin/true"], as: .current, in: project)
        XCTAssertFalse(passed.stderr.contains("network is off"), passed.stderr)
        let control = Harness.sbx(["run", "--", "/bin/sh", "-c", "exit 3"], as: .current, in: project)
        XCTAssertFalse(control.stderr.contains("network is off"), control.stderr)
        let explain = Harness.sbx(["explain", "--profile", "node"], as: .current, in: project)
        XCTAssertTrue(explain.stdout.contains("loopback only: active; the network is off"), explain.stdout)
    }
}
