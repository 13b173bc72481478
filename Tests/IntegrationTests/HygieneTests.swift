import XCTest

/// What a command inherits: only fds 0-2 and an allow-listed environment, unless asked.
final class HygieneTests: XCTestCase {

    func testInheritedFileDescriptorsAreClosedUnlessPassed() {
        let probe = """
            import os
            for fd in (5, 6):
                try:
                    print(fd, os.read(fd, 64).decode().strip())
                except OSError as e:
                    print(fd, e.errno)
            """
        for caller in Harness.callers {
            let project = Harness.makeProject(for: caller)
            for (name, content) in [("secret", "s3cret\n"), ("shared", "shared\n"), ("probe.py", probe)] {
                FileManager.default.createFile(atPath: project + "/" + name, contents: Data(content.utf8),
                                               attributes: [.posixPermissions: 0o644])
            }
            // The shell opens 5 and 6 without close-on-exec, as a parent process might leak them.
            let script = "exec 5<secret 6<shared; exec \(Harness.binary) run --pass-fd 6 -- /usr/bin/python3 probe.py"
            let result = Harness.launch(["/bin/sh", "-c", script], as: caller, in: project).finish()
            XCTAssertEqual(result.stdout, "5 9\n6 shared\n", "\(caller): \(result.stderr)")  // 9 = EBADF
        }
    }

    func testOnlyStandardDescriptorsAreOpen() {
        for caller in Harness.callers {
            let project = Harness.makeProject(for: caller)
            let result = Harness.sbx(["run", "--", "/bin/ls", "/proc/self/fd"], as: caller, in: project)
            // ls itself opens one fd to read the directory.
            XCTAssertEqual(result.stdout.split(separator: "\n").count, 4, "\(caller): \(result.stdout)")
        }
    }

    func testEnvironmentIsAnAllowList() {
        let host = ["AWS_SECRET_ACCESS_KEY": "aws-s3cret", "GITHUB_TOKEN": "ghp-s3cret", "SSH_AUTH_SOCK": "/tmp/agent",
                    "LC_TIME": "C", "TERM": "xterm-test", "PASS_ME": "passed", "LD_PRELOAD": "/tmp/evil.so"]
        for caller in Harness.callers {
            let result = Harness.sbx(["run", "--env", "PASS_ME", "--env", "SET_ME=a=b", "--env", "UNSET_ONE", "--", "/usr/bin/env"],
                                     as: caller, in: Harness.makeProject(for: caller), environment: host)
            XCTAssertEqual(result.status, 0, result.stderr)
            let env = Set(result.stdout.split(separator: "\n").map(String.init))
            for leaked in ["aws-s3cret", "ghp-s3cret", "/tmp/agent", "/tmp/evil.so"] {
                XCTAssertFalse(result.stdout.contains(leaked), "\(caller) leaked \(leaked)")
            }
            for expected in ["LC_TIME=C", "TERM=xterm-test", "PASS_ME=passed", "SET_ME=a=b", "HOME=\(Harness.home(of: caller))"] {
                XCTAssertTrue(env.contains(expected), "\(caller) missing \(expected): \(env)")
            }
            XCTAssertFalse(env.contains { $0.hasPrefix("UNSET_ONE=") })
        }
    }

    /// Every run leaves an audit file in STATE/runs; at 200 the oldest go, down to 150.
    func testAuditFilesArePrunedOldestFirst() throws {
        let project = Harness.makeProject(for: .current)
        let state = project + "/state"
        try FileManager.default.createDirectory(atPath: state + "/sbx/runs", withIntermediateDirectories: true)
        // Seconds from 1000 to 1199, written out of order; 999 (older, fewer digits) last.
        for seconds in (1000..<1199).reversed() + [999] {
            FileManager.default.createFile(atPath: "\(state)/sbx/runs/\(seconds)-1.jsonl", contents: Data())
        }
        let result = Harness.sbx(["run", "--", "/bin/true"], as: .current, in: project, environment: ["XDG_STATE_HOME": state])
        XCTAssertEqual(result.status, 0, result.stderr)
        let left = try FileManager.default.contentsOfDirectory(atPath: state + "/sbx/runs").filter { $0.hasSuffix("-1.jsonl") }
        XCTAssertEqual(left.count, 150)
        XCTAssertEqual(Set(left), Set((1049..<1199).map { "\($0)-1.jsonl" }), "the newest 150 stay")
    }

    /// sbx's state (other runs' audit files, the overlays' work directories, cached tool answers)
    /// is hidden inside, even under the writable project: nothing to read, nothing to plant.
    func testSbxStateIsHiddenInside() {
        for caller in Harness.callers {
            let project = Harness.makeProject(for: caller)
            let state = project + "/state"
            let environment = ["XDG_STATE_HOME": state]
            XCTAssertEqual(Harness.sbx(["run", "--", "/bin/true"], as: caller, in: project, environment: environment).status, 0)
            XCTAssertFalse((try? FileManager.default.contentsOfDirectory(atPath: state + "/sbx/runs"))?.isEmpty ?? true, "an audit file")
            let result = Harness.sbx(["run", "--", "/bin/sh", "-c", """
                test -d '\(state)/sbx' && ls -A '\(state)/sbx' | wc -l
                touch '\(state)/sbx/planted' 2>/dev/null || echo refused
                """], as: caller, in: project, environment: environment)
            XCTAssertEqual(result.stdout, "0\nrefused\n", "\(caller): \(result.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: state + "/sbx/planted"))
        }
    }
}
