import XCTest

/// Signals another process sends to sbx reach the command, each exactly once.
final class SignalTests: XCTestCase {
    static let names = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGWINCH", "SIGUSR1", "SIGUSR2"]

    func testForwardedSignalsArriveOnce() {
        let source = """
            import signal, sys, time
            got = []
            def handler(n, f):
                got.append(signal.Signals(n).name); print(signal.Signals(n).name, flush=True)
            for name in \(Self.names):
                signal.signal(getattr(signal, name), handler)
            print('ready', flush=True)
            while len(got) < \(Self.names.count):
                time.sleep(0.01)
            time.sleep(0.3)
            print('count', len(got), flush=True)
            """
        let numbers: [String: Int32] = ["SIGINT": SIGINT, "SIGTERM": SIGTERM, "SIGHUP": SIGHUP, "SIGQUIT": SIGQUIT,
                                        "SIGWINCH": SIGWINCH, "SIGUSR1": SIGUSR1, "SIGUSR2": SIGUSR2]
        for caller in Harness.callers {
            let run = Harness.launch([Harness.binary, "run"] + python(source), as: caller, in: Harness.makeProject(for: caller))
            XCTAssertTrue(run.wait(until: { run.stdout.contains("ready") }), run.stderr)
            for name in Self.names {
                kill(run.pid, numbers[name]!)
                XCTAssertTrue(run.wait(until: { run.stdout.contains(name) }, timeout: 5), "\(name) not forwarded \(caller)")
            }
            let result = run.finish()
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertTrue(result.stdout.hasSuffix("count \(Self.names.count)\n"), "\(caller): \(result.stdout)")
        }
    }

    func testSIGTERMEndsACommandThatDoesNotCatchIt() {
        for caller in Harness.callers {
            let run = Harness.launch([Harness.binary, "run", "--", "/bin/sh", "-c", "echo ready; exec sleep 100"],
                                     as: caller, in: Harness.makeProject(for: caller))
            XCTAssertTrue(run.wait(until: { run.stdout.contains("ready") }))
            kill(run.pid, SIGTERM)
            XCTAssertEqual(run.finish(timeout: 10).status, 143, "\(caller)")
        }
    }
}
