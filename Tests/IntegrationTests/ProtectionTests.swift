import XCTest

/// Protected paths that do not exist yet cannot be created from inside, and the placeholders
/// that make this possible never stay on the host: not after a run, not after sbx is killed,
/// not while another run in the same project still needs them.
final class ProtectionTests: XCTestCase {
    static let attempt = """
        echo x > .envrc; mkdir -p .git/hooks; echo x > .git/hooks/pre-commit; mkdir -p .vscode
        echo x > .vscode/tasks.json; echo '{"mcpServers":{"x":{"command":"evil"}}}' > .mcp.json; echo ok > done
        """

    func entries(_ path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    }

    func makeRepository(for caller: Caller) -> String {
        let project = Harness.makeProject(for: caller)
        mkdir(project + "/.git", 0o755)
        if caller == .unprivileged { chown(project + "/.git", Harness.unprivilegedIDs.uid, Harness.unprivilegedIDs.gid) }
        return project
    }

    func testMissingProtectedPathsCannotBeCreatedAndNothingIsLeftBehind() {
        for caller in Harness.callers {
            let project = makeRepository(for: caller)
            let result = Harness.sbx(["run", "--", "/bin/sh", "-c", Self.attempt + "; cat .mcp.json"], as: caller, in: project)
            XCTAssertEqual(result.status, 0, "\(caller): \(result.stderr)")
            XCTAssertEqual(result.stdout, "{}\n", "\(caller): the placeholder of a JSON file reads as empty JSON")
            XCTAssertEqual(result.stderr.components(separatedBy: "Read-only file system").count - 1, 4, "\(caller): \(result.stderr)")
            XCTAssertEqual(entries(project), [".git", "done"], "\(caller): left behind or created")
            XCTAssertEqual(entries(project + "/.git"), [], "\(caller)")
            // Control: with the protections removed the same script creates them all.
            let unprotected = Harness.makeProject(for: caller)
            FileManager.default.createFile(atPath: unprotected + "/p.toml", contents: Data(
                "extends = [\"default\"]\n[filesystem]\nprotect = [\"!.envrc\", \"!.git/hooks/\", \"!.vscode/\", \"!.mcp.json\"]\n".utf8))
            mkdir(unprotected + "/.git", 0o755)
            if caller == .unprivileged { _ = Harness.shell(["chown", "-R", "sbxtest:sbxtest", unprotected]) }
            _ = Harness.sbx(["run", "--profile", "./p.toml", "--", "/bin/sh", "-c", Self.attempt], as: caller, in: unprotected)
            XCTAssertTrue(FileManager.default.fileExists(atPath: unprotected + "/.git/hooks/pre-commit"), "control \(caller)")
            XCTAssertTrue(FileManager.default.fileExists(atPath: unprotected + "/.envrc"), "control \(caller)")
        }
    }

    /// Without a .git, nothing can hold .git/hooks and .git/config; a run that creates them
    /// says so on stderr and in the audit file. With a .git, nothing is said: they were held.
    func testProtectedPathsCreatedUnderAMissingParentAreReported() throws {
        for caller in Harness.callers {
            let project = Harness.makeProject(for: caller)
            let result = Harness.sbx(["run", "--verbose", "--", "/bin/sh", "-c", "mkdir -p .git/hooks && echo x > .git/config"],
                                     as: caller, in: project)
            XCTAssertEqual(result.status, 0, result.stderr)
            let warning = "sbx: warning: the command created \(project)/.git/hooks, \(project)/.git/config, protected paths whose parent"
            XCTAssertTrue(result.stderr.contains(warning), "\(caller): \(result.stderr)")
            let path = try XCTUnwrap(result.stderr.split(separator: "\n").first { $0.hasPrefix("sbx: audit: ") }?.dropFirst(12))
            XCTAssertTrue(try String(contentsOfFile: String(path), encoding: .utf8).contains("\"findings\":[\"warning: the command created"))
            let held = Harness.sbx(["run", "--", "/bin/sh", "-c", "echo x > .git/config 2>/dev/null; true"], as: caller, in: makeRepository(for: caller))
            XCTAssertFalse(held.stderr.contains("warning"), "\(caller): \(held.stderr)")
        }
    }

    /// A git worktree: commits work when the main repository is granted, and its hooks and
    /// config (what .git/hooks and .git/config mean there) stay read-only.
    func testAGitWorktreeCommitsButCannotWriteTheMainRepositorysHooks() throws {
        for caller in Harness.callers {
            let base = Harness.makeProject(for: caller)
            let git = "git -c user.email=t@t -c user.name=t -c init.defaultBranch=main"
            XCTAssertEqual(Harness.shell(["sh", "-c", "cd \(base) && mkdir main && cd main && \(git) init -q && \(git) commit -q --allow-empty -m one && \(git) worktree add -q ../wt 2>/dev/null && chown -R \(caller == .unprivileged ? "sbxtest:sbxtest" : "root:root") \(base)"]), 0)
            let result = Harness.sbx(["run", "--rw", base + "/main/.git", "--", "/bin/sh", "-c", """
                \(git) commit -q --allow-empty -m two && echo committed
                echo evil > \(base)/main/.git/hooks/pre-commit || echo hook-refused
                echo '[core]' >> \(base)/main/.git/config || echo config-refused
                """], as: caller, in: base + "/wt")
            XCTAssertEqual(result.stdout, "committed\nhook-refused\nconfig-refused\n", "\(caller): \(result.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: base + "/main/.git/hooks/pre-commit"))
        }
    }

    /// A dangling symlink at a protected path: writing through it would create its target.
    func testADanglingSymlinkAtAProtectedPathIsHeldAtItsTarget() {
        for caller in Harness.callers {
            let project = makeRepository(for: caller)
            symlink("envrc.real", project + "/.envrc")
            let result = Harness.sbx(["run", "--", "/bin/sh", "-c", "echo evil > .envrc"], as: caller, in: project)
            XCTAssertTrue(result.stderr.contains("Read-only file system"), "\(caller): \(result.stderr)")
            XCTAssertEqual(entries(project), [".envrc", ".git"], "\(caller)")
        }
    }

    /// In a project the caller cannot write, nothing needs a placeholder and the run goes on.
    func testAProjectTheCallerCannotWriteStillRuns() throws {
        guard Harness.isRoot else { throw XCTSkip("needs a second user") }
        let project = makeRepository(for: .current)  // owned by root
        chmod(project, 0o755)
        let result = Harness.sbx(["run", "--", "/bin/true"], as: .unprivileged, in: project)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(entries(project), [".git"])
    }

    /// A home the caller cannot write (HOME kept across setpriv or sudo -u): the state goes to
    /// /tmp/sbx-UID and protection still holds.
    func testAHomeThatIsNotTheCallersStillProtects() throws {
        guard Harness.isRoot else { throw XCTSkip("needs a second user") }
        let project = makeRepository(for: .unprivileged)
        let result = Harness.sbx(["run", "--", "/bin/sh", "-c", "echo x > .envrc"], as: .unprivileged, in: project,
                                 environment: ["HOME": "/root", "XDG_STATE_HOME": ""])
        XCTAssertTrue(result.stderr.contains("Read-only file system"), result.stderr)
        XCTAssertEqual(entries(project), [".git"])
    }

    func testPlaceholdersLeftByAKilledSbxAreSweptByTheNextRun() {
        for caller in Harness.callers {
            let project = makeRepository(for: caller)
            let run = Harness.launch([Harness.binary, "run", "--", "/bin/sleep", "60"], as: caller, in: project)
            XCTAssertTrue(run.wait(until: { FileManager.default.fileExists(atPath: project + "/.envrc") }), "\(caller): \(run.stderr)")
            kill(run.pid, SIGKILL)
            _ = run.finish()
            XCTAssertTrue(FileManager.default.fileExists(atPath: project + "/.envrc"), "\(caller): stale placeholder expected")
            let elsewhere = Harness.makeProject(for: caller)
            XCTAssertEqual(Harness.sbx(["run", "--", "/bin/true"], as: caller, in: elsewhere).status, 0)
            XCTAssertEqual(entries(project), [".git"], "\(caller): not swept")
            XCTAssertEqual(entries(project + "/.git"), [], "\(caller): not swept")
        }
    }

    /// Two runs in one project: the one that ends first leaves the other's protection in place.
    func testConcurrentRunsShareThePlaceholders() {
        let caller = Harness.callers.last!
        let project = makeRepository(for: caller)
        let long = Harness.launch([Harness.binary, "run", "--", "/bin/sh", "-c", "while [ ! -e go ]; do sleep 0.05; done; " + Self.attempt],
                                  as: caller, in: project)
        XCTAssertTrue(long.wait(until: { FileManager.default.fileExists(atPath: project + "/.envrc") }), long.stderr)
        XCTAssertEqual(Harness.sbx(["run", "--", "/bin/true"], as: caller, in: project).status, 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: project + "/.envrc"), "the short run removed the long run's placeholder")
        FileManager.default.createFile(atPath: project + "/go", contents: nil)
        let result = long.finish()
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stderr.components(separatedBy: "Read-only file system").count - 1, 4, result.stderr)
        XCTAssertEqual(entries(project), [".git", "done", "go"])
    }
}

/// A symlink swapped in while the sandbox is set up must not redirect a mount: a protected
/// .git/hooks flipping between a directory and a symlink to a hidden secret, as fast as the
/// host allows, during many runs. Each run either sees the real hooks directory or refuses.
final class SymlinkRaceTests: XCTestCase {
    func testASymlinkSwappedDuringSetupNeverRedirectsAMount() throws {
        let project = Harness.makeProject(for: .current)
        let secret = Harness.makeProject(for: .current, "secret")
        FileManager.default.createFile(atPath: secret + "/key", contents: Data("TOPSECRET".utf8))
        XCTAssertEqual(Harness.shell(["mkdir", "-p", project + "/.git/hooks"]), 0)
        symlink("../../" + (secret as NSString).lastPathComponent, project + "/.git/alt")
        // renameat2(RENAME_EXCHANGE) swaps the directory and the symlink atomically.
        let flipper = Harness.launch(python("""
            import ctypes, os, time
            libc = ctypes.CDLL(None, use_errno=True)
            end = time.time() + 60
            while time.time() < end and not os.path.exists('stop'):
                libc.renameat2(-100, b'.git/hooks', -100, b'.git/alt', 2)
            """).dropFirst().map { $0 }, as: .current, in: project)
        defer { FileManager.default.createFile(atPath: project + "/stop", contents: nil); _ = flipper.finish() }
        var refused = 0
        for _ in 0..<100 {
            let result = Harness.sbx(["run", "--hide", secret, "--", "/bin/cat", ".git/hooks/key"], as: .current, in: project)
            XCTAssertFalse(result.stdout.contains("TOPSECRET"), "a mount followed the swapped symlink")
            if result.status == 125 {
                XCTAssertTrue(result.stderr.contains("a symlink appeared"), result.stderr)
                refused += 1
            }
        }
        print("symlink race: \(refused) of 100 runs refused")
    }
}
