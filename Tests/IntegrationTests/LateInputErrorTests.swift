import XCTest

/// Bad input stops sbx with 125 and a clear message before the run starts: no audit file.
final class LateInputErrorTests: XCTestCase {
    /// A fresh XDG_STATE_HOME, so a test can count the audit files a run leaves.
    private func privateState() -> String {
        let path = Harness.workRoot + "/state-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    private func auditFiles(_ state: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: state + "/sbx/runs")) ?? []
    }

    /// Input errors found late used to leave an audit file with a "start" and no "exit".
    func testInputErrorsStopTheRunBeforeItsAuditFile() throws {
        let project = Harness.makeProject(for: .current)
        let profile = project + "/seccomp.toml"
        try "[seccomp]\ndeny = [\"nosuchcall\"]\n".write(toFile: profile, atomically: true, encoding: .utf8)
        let cases: [([String], String)] = [
            (["--hide", "/"], "sbx: --hide: '/' is the root directory: hiding it would hide everything"),
            (["--pass-fd", "99"], "sbx: --pass-fd 99: file descriptor 99 is not open"),
            (["--env", "=v"], "sbx: --env '=v': expected NAME or NAME=VALUE"),
            (["--host-port", "0"], "sbx: --host-port 0: not a port (1-65535)"),
            (["--profile", profile], "sbx: \(profile):2:9: seccomp.deny: 'nosuchcall': unknown syscall"),
        ]
        for (flags, message) in cases {
            let state = privateState()
            let result = Harness.sbx(["run"] + flags + ["--", "/bin/true"], as: .current, in: project,
                                     environment: ["XDG_STATE_HOME": state])
            XCTAssertEqual(result.status, 125, "\(flags): \(result.stderr)")
            XCTAssertTrue(result.stderr.hasPrefix(message), "\(flags): \(result.stderr)")
            XCTAssertEqual(auditFiles(state), [], "\(flags): an audit file for a run that never started")
        }
        // A run stopped by the host (its --expose port taken) has none either.
        let port = 22000 + Int(getpid() % 20000)
        let listener = Harness.launch(["/usr/bin/python3", "-c", """
            import socket, time
            s = socket.socket(); s.bind(("127.0.0.1", \(port))); s.listen(1); print("listening", flush=True); time.sleep(20)
            """], as: .current, in: project)
        defer { kill(listener.pid, SIGTERM); _ = listener.finish() }
        XCTAssertTrue(listener.wait(until: { listener.stdout.contains("listening") }))
        let taken = privateState()
        let refused = Harness.sbx(["run", "--expose", String(port), "--", "/bin/true"], as: .current, in: project,
                                  environment: ["XDG_STATE_HOME": taken])
        XCTAssertEqual(refused.status, 125, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("--expose \(port): cannot listen on the host's 127.0.0.1:\(port)"), refused.stderr)
        XCTAssertEqual(auditFiles(taken), [], "an audit file for a run that never started")
        // A run that starts still has one.
        let state = privateState()
        XCTAssertEqual(Harness.sbx(["run", "--", "/bin/true"], as: .current, in: project, environment: ["XDG_STATE_HOME": state]).status, 0)
        XCTAssertEqual(auditFiles(state).count, 1)
    }
}
