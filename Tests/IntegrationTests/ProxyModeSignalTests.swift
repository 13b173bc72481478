import XCTest

/// Proxy mode starts SwiftNIO threads in the supervisor. A SIGCHLD (or a forwarded signal)
/// delivered to one of them instead of the main thread used to be lost: the supervisor then
/// waited forever for the init's exit (about 3 runs in 200 hung).
final class ProxyModeSignalTests: XCTestCase {
    /// Runs that hang are killed after this many seconds and counted.
    static let watchdog: TimeInterval = 10

    func testProxyModeRunsNeverHang() {
        // Each caller: 300 runs as root, 150 more as sbxtest, 3 at a time.
        for caller in Harness.callers {
            // One project per concurrent run (written when runs sharing a project raced on the
            // host placeholders, gone since; ProtectionTests covers runs sharing one).
            let projects = (0..<3).map { _ in Harness.makeProject(for: caller) }
            let runs = caller == .current ? 300 : 150
            var hung: [String] = []
            var failed: [String] = []
            for _ in 0..<(runs / 3) {
                let batch = projects.map { project in
                    Harness.launch([Harness.binary, "run", "--quiet", "--allow-domain", "x.test", "--", "/bin/true"],
                                   as: caller, in: project)
                }
                for run in batch {
                    if !run.wait(until: { !run.process.isRunning }, timeout: Self.watchdog) {
                        hung.append(run.stderr)
                        kill(run.pid, SIGKILL)
                    }
                    run.process.waitUntilExit()
                    if run.process.terminationReason == .exit && run.process.terminationStatus != 0 {
                        failed.append("\(run.process.terminationStatus): \(run.stderr)")
                    }
                }
            }
            XCTAssertEqual(hung.count, 0, "\(caller): \(hung.count) of \(runs) proxy-mode runs hung")
            XCTAssertEqual(failed, [], "\(caller)")
        }
    }

    /// sbx blocks signals early now; the command must still start with none blocked. (Not
    /// SigIgn: signal 32, glibc's own, arrives ignored from the test runner and no sigaction can reset it.)
    func testTheCommandStartsWithNoSignalBlocked() {
        for caller in Harness.callers {
            let result = Harness.sbx(["run", "--quiet", "--allow-domain", "x.test", "--", "/bin/grep", "^SigBlk", "/proc/self/status"],
                                     as: caller, in: Harness.makeProject(for: caller))
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(result.stdout, "SigBlk:\t0000000000000000\n", "\(caller)")
        }
    }

    /// SIGINT and SIGTERM sent to sbx in proxy mode reach the command, which exits with its own code.
    func testSignalsAreForwardedInProxyMode() {
        for caller in Harness.callers {
            for (signal, code) in [(SIGINT, 42), (SIGTERM, 43)] {
                let name = signal == SIGINT ? "INT" : "TERM"
                let script = "trap 'exit \(code)' \(name); echo ready; while :; do sleep 0.05; done"
                let run = Harness.launch([Harness.binary, "run", "--quiet", "--allow-domain", "x.test", "--", "/bin/sh", "-c", script],
                                         as: caller, in: Harness.makeProject(for: caller))
                XCTAssertTrue(run.wait(until: { run.stdout.contains("ready") }), "\(caller): \(run.stderr)")
                kill(run.pid, signal)
                XCTAssertEqual(run.finish(timeout: Self.watchdog).status, Int32(code), "\(caller), SIG\(name)")
            }
        }
    }
}
