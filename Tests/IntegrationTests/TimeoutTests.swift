import XCTest

/// --timeout ends a run that takes too long: SIGTERM first (124, as timeout(1) reports it),
/// SIGKILL of the whole sandbox after the grace period for a command that ignores it (137).
final class TimeoutTests: XCTestCase {
    func testTimeoutSendsSIGTERMThenKills() {
        let caller = Harness.callers.last!
        let project = Harness.makeProject(for: caller)
        let start = Date()
        let polite = Harness.sbx(["run", "--timeout", "1s", "--", "/bin/sleep", "30"], as: caller, in: project)
        XCTAssertEqual(polite.status, 124, polite.stderr)
        XCTAssertTrue(polite.stderr.contains("sbx: timed out after 1s: the command was sent SIGTERM"), polite.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)

        // Ignores SIGTERM, and leaves a child behind that would keep writing. The grace is
        // 1 s here (SBX_TEST_GRACE_SECONDS, debug builds only); the VM lane checks the real 10 s.
        let killedAt = Date()
        let stubborn = Harness.sbx(["run", "--timeout", "1s", "--", "/bin/sh", "-c",
                                    "trap '' TERM; (trap '' TERM; while :; do date > tick; sleep 0.1; done) & while :; do sleep 1; done"],
                                   as: caller, in: project, environment: ["SBX_TEST_GRACE_SECONDS": "1"], timeout: 40)
        XCTAssertEqual(stubborn.status, 137, stubborn.stderr)
        XCTAssertTrue(stubborn.stderr.contains("killed after 1 s of grace"), stubborn.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(killedAt), 8, "the test-only grace was not applied")
        let tick = try? String(contentsOfFile: project + "/tick", encoding: .utf8)
        usleep(500_000)
        XCTAssertEqual(try? String(contentsOfFile: project + "/tick", encoding: .utf8), tick, "a process of the sandbox outlived it")

        // A command that finishes in time keeps its own status.
        XCTAssertEqual(Harness.sbx(["run", "--timeout", "30s", "--", "/bin/sh", "-c", "exit 3"], as: caller, in: project).status, 3)
    }
}
