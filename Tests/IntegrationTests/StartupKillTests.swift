import XCTest

/// sbx killed with SIGKILL at any moment of its start-up ends the whole run: the clone3 child
/// used to miss a parent that died before PR_SET_PDEATHSIG and block forever in the handshake,
/// holding the caller's stdout (11 runs in 100 left such a process).
/// Uses `KillHarness`, with busy loops on every core and the kills spread over a start-up.
final class StartupKillTests: XCTestCase {
    func testKillingSbxDuringStartUpLeavesNothingRunning() {
        // Busy loops on every core: the clone3 child then often runs late, after its parent
        // is already dead, which is the window the old code missed.
        let hogs = (0..<(2 * sysconf(Int32(_SC_NPROCESSORS_ONLN)))).map { _ in
            Harness.launch(["/bin/sh", "-c", "while :; do :; done"], as: .current, in: Harness.workRoot)
        }
        defer { for hog in hogs { kill(hog.pid, SIGKILL); hog.process.waitUntilExit() } }
        for caller in Harness.callers {
            let project = Harness.makeProject(for: caller)
            // The kills are spread over a whole start-up as this machine runs it now, so some
            // land on each step (clone3 comes some tens of milliseconds in).
            let clock = Date()
            XCTAssertEqual(Harness.sbx(["run", "--", "/bin/true"], as: caller, in: project).status, 0)
            let startUp = Date().timeIntervalSince(clock)
            let runs = caller == .current ? 150 : 75
            var stuck: [String] = []
            for index in 0..<runs {
                let marker = KillHarness.makeMarker()
                let delay = startUp * Double(index % 31) / 30
                let outcome = KillHarness.startAndKill(["run", "--", "/bin/sh", "-c", "echo started; sleep 30", marker],
                                                       marker: marker, as: caller, in: project, after: delay)
                if !outcome.pipeClosed || !outcome.survivors.isEmpty {
                    stuck.append("after \(Int(delay * 1000)) ms: pipe closed \(outcome.pipeClosed), left \(outcome.survivors)")
                    for survivor in outcome.survivors { kill(Int32(survivor.prefix { $0 != ":" })!, SIGKILL) }
                }
            }
            XCTAssertEqual(stuck, [], "\(caller): \(stuck.count) of \(runs) killed runs left processes")
        }
    }
}
