import XCTest

/// The command's own status comes back; sbx's own failures are 125, told apart on stderr.
final class ExitStatusTests: XCTestCase {
    func testCommandStatusesPassThrough() {
        for caller in Harness.callers {
            let project = Harness.makeProject(for: caller)
            for (script, expected) in [("exit 0", 0), ("exit 1", 1), ("exit 42", 42), ("kill -TERM $$", 143), ("kill -KILL $$", 137)] {
                let result = Harness.sbx(["run", "--", "/bin/sh", "-c", script], as: caller, in: project)
                XCTAssertEqual(result.status, Int32(expected), "\(script) \(caller): \(result.stderr)")
            }
        }
    }

    func testNotFoundIs127AndNotExecutableIs126() {
        for caller in Harness.callers {
            let project = Harness.makeProject(for: caller)
            let missing = Harness.sbx(["run", "--", "no-such-command-sbx"], as: caller, in: project)
            XCTAssertEqual(missing.status, 127, "\(caller)")
            XCTAssertTrue(missing.stderr.hasPrefix("sbx: no-such-command-sbx: command not found"), missing.stderr)
            FileManager.default.createFile(atPath: project + "/data", contents: Data("x".utf8), attributes: [.posixPermissions: 0o644])
            let plain = Harness.sbx(["run", "--", "./data"], as: caller, in: project)
            XCTAssertEqual(plain.status, 126, "\(caller)")
            XCTAssertTrue(plain.stderr.hasPrefix("sbx: ./data: cannot execute: Permission denied"), plain.stderr)
        }
    }

    /// A bare command name is looked up in the sandbox's PATH (what --env sets), not sbx's.
    func testCommandIsFoundInTheSandboxPath() {
        for caller in Harness.callers {
            let project = Harness.makeProject(for: caller)
            XCTAssertEqual(Harness.shell(["mkdir", project + "/tools"]), 0)
            FileManager.default.createFile(atPath: project + "/tools/sbx-only-here", contents: Data("#!/bin/sh\necho found $0\n".utf8),
                                           attributes: [.posixPermissions: 0o755])
            let found = Harness.sbx(["run", "--env", "PATH=\(project)/tools:/usr/bin:/bin", "--", "sbx-only-here"], as: caller, in: project)
            XCTAssertEqual(found.status, 0, "\(caller): \(found.stderr)")
            XCTAssertEqual(found.stdout, "found \(project)/tools/sbx-only-here\n")
            // Control: with the default PATH it is not found.
            let missing = Harness.sbx(["run", "--", "sbx-only-here"], as: caller, in: project)
            XCTAssertEqual(missing.status, 127, "\(caller): \(missing.stderr)")
        }
    }

    /// Every run leaves its audit file: the command at the start, the status and wall time at the end.
    func testEveryRunHasAnAuditFile() throws {
        let project = Harness.makeProject(for: .current)
        let result = Harness.sbx(["run", "--verbose", "--", "/bin/sh", "-c", "exit 7"], as: .current, in: project)
        XCTAssertEqual(result.status, 7)
        let path = try XCTUnwrap(result.stderr.split(separator: "\n").first { $0.hasPrefix("sbx: audit: ") }?.dropFirst(12), result.stderr)
        let events = try String(contentsOfFile: String(path), encoding: .utf8).split(separator: "\n").map {
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        XCTAssertEqual(events.first?["command"] as? [String], ["/bin/sh", "-c", "exit 7"])
        XCTAssertEqual(events.last?["event"] as? String, "exit")
        XCTAssertEqual(events.last?["status"] as? Int, 7)
        XCTAssertNotNil(events.last?["wall_seconds"] as? Double)
    }

    func testOwnFailuresAre125WithAnSbxMessage() {
        let project = Harness.makeProject(for: .current)
        for arguments in [["run", "--no-such-flag", "--", "true"], ["run"], ["run", "--pass-fd", "9", "--", "true"],
                          ["run", "--project", "/nonexistent-sbx", "--", "true"], ["run", "--env", "=x", "--", "true"],
                          ["run", "--project", "/", "--", "true"]] {
            let result = Harness.sbx(arguments, as: .current, in: project)
            XCTAssertEqual(result.status, 125, "\(arguments)")
            XCTAssertTrue(result.stderr.hasPrefix("sbx: "), "\(arguments): \(result.stderr)")
        }
    }

    func testHelpExitsZero() {
        let result = Harness.sbx(["run", "--help"], as: .current, in: Harness.workRoot)
        XCTAssertEqual(result.status, 0)
        XCTAssertTrue(result.stdout.contains("--project"))
    }

    func testArgvIsPassedVerbatimNeverThroughAShell() {
        let arguments = ["a b", "\"q\"", "it's", "$HOME", "*", "", "--", "-x", "tab\there", "ünï"]
        for caller in Harness.callers {
            let project = Harness.makeProject(for: caller)
            let result = Harness.sbx(["run", "--", "/usr/bin/printf", "[%s]\\n"] + arguments, as: caller, in: project)
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(result.stdout, arguments.map { "[\($0)]\n" }.joined())
        }
    }
}

extension ExitStatusTests {
    func testWorkingDirectoryHiddenInTheSandboxIsAClearError() throws {
        let project = Harness.makeProject(for: .current)
        let elsewhere = Harness.makeProject(for: .current, "elsewhere")  // under /tmp, which is private
        let result = Harness.sbx(["run", "--project", project, "--", "/bin/true"], as: .current, in: elsewhere)
        XCTAssertEqual(result.status, 125)
        XCTAssertTrue(result.stderr.hasPrefix("sbx: the current directory \(elsewhere) is not visible"), result.stderr)
    }
}
