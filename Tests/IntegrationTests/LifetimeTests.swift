import XCTest

/// No process of the sandbox outlives sbx, nor the command; orphans are reaped.
final class LifetimeTests: XCTestCase {
    /// A payload that forks, calls setsid (leaving the command's session) and keeps writing.
    func escapingWriter(_ file: String) -> String {
        "setsid /bin/sh -c 'while :; do echo x >> \(file); sleep 0.05; done' &"
    }

    func fileSize(_ path: String) -> Int {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? -1
    }

    func assertStopsGrowing(_ file: String, _ message: String) {
        usleep(300_000)
        let before = fileSize(file)
        usleep(600_000)
        XCTAssertGreaterThan(before, 0, message)
        XCTAssertEqual(fileSize(file), before, "still written after the sandbox ended: \(message)")
    }

    func testKillingSbxWithSIGKILLEndsTheWholeTree() {
        for caller in Harness.callers {
            let project = Harness.makeProject(for: caller)
            let beat = project + "/beat"
            let run = Harness.launch([Harness.binary, "run", "--", "/bin/sh", "-c", escapingWriter(beat) + " sleep 1000"],
                                     as: caller, in: project)
            XCTAssertTrue(run.wait(until: { self.fileSize(beat) > 0 }), "payload never started: \(run.stderr)")
            kill(run.pid, SIGKILL)
            _ = run.finish()
            assertStopsGrowing(beat, "\(caller)")
        }
    }

    func testCommandExitEndsTheRestOfTheSandbox() {
        for caller in Harness.callers {
            let project = Harness.makeProject(for: caller)
            let beat = project + "/beat"
            let result = Harness.sbx(["run", "--", "/bin/sh", "-c", escapingWriter(beat) + " sleep 0.3; exit 3"],
                                     as: caller, in: project)
            XCTAssertEqual(result.status, 3, result.stderr)
            assertStopsGrowing(beat, "\(caller)")
        }
    }

    func testOrphansAreReaped() {
        // The inner shell exits at once, leaving `sleep 0.2` to pid 1; a second later no
        // process of the sandbox may be a zombie.
        let script = "/bin/sh -c 'sleep 0.2 & exit 0'; sleep 1; cat /proc/[0-9]*/stat"
        for caller in Harness.callers {
            let result = Harness.sbx(["run", "--", "/bin/sh", "-c", script], as: caller, in: Harness.makeProject(for: caller))
            XCTAssertEqual(result.status, 0, result.stderr)
            let states = result.stdout.split(separator: "\n").compactMap { line in
                line.range(of: ") ").map { line[$0.upperBound...].prefix(1) }
            }
            XCTAssertFalse(states.isEmpty)
            XCTAssertFalse(states.contains("Z"), "zombie left \(caller): \(result.stdout)")
        }
    }
}
