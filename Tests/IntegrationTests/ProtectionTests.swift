import XCTest

/// Protected paths that do not exist yet cannot be created from inside, and nothing that holds
/// them ever appears in the project on the host: not while a run lasts, not after it, not after
/// sbx is killed, whatever other runs in the same project do. Inside, git sees only the project.
/// Held by the creation guard (a Landlock layer and seccomp notification) where the kernel has
/// Landlock; by stubs in an overlay where it is off (`fallback`: nested user namespaces).
final class ProtectionTests: XCTestCase {
    /// Every way the command could make a protected name: each line prints "made" if it did.
    static let attempts = [
        "echo x > .envrc", "mkdir -p .git/hooks && echo x > .git/hooks/pre-commit", "mkdir .vscode && echo x > .vscode/tasks.json",
        "echo '{\"mcpServers\":{\"x\":{\"command\":\"evil\"}}}' > .mcp.json",
        "echo x > t1 && mv t1 .envrc", "echo x > t2 && ln t2 .mcp.json", "ln -s t3 .envrc", "ln -s .envrc l1 && echo x > l1",
        "mkdir -p d1/hooks && mv d1/hooks .git/hooks", "mkdir d2 && mv d2 .vscode", "mkfifo .envrc",
        "echo x > /proc/self/cwd/.envrc", "cd .git && echo x > ../.envrc",
        "python3 -c 'import os; os.close(os.open(\".envrc\", os.O_CREAT | os.O_WRONLY))'",
        "python3 -c 'import socket; socket.socket(socket.AF_UNIX).bind(\".envrc\")'",
    ]
    static let attempt = attempts.enumerated().map { "(\($1)) 2>/dev/null && echo made \($0)\n" }.joined() + "echo ok > done\n"
    /// A profile that turns the guard off (Landlock is off with nested user namespaces): the stubs hold.
    static let fallback = "extends = [\"default\"]\n[seccomp]\nnested_userns = true\n"
    static let git = "git -c user.email=t@t -c user.name=t -c init.defaultBranch=main"

    func entries(_ path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    }

    func makeRepository(for caller: Caller) -> String {
        let project = Harness.makeProject(for: caller)
        mkdir(project + "/.git", 0o755)
        if caller == .unprivileged { chown(project + "/.git", Harness.unprivilegedIDs.uid, Harness.unprivilegedIDs.gid) }
        return project
    }

    /// A git repository with one commit of one file, owned by `caller`.
    func makeCommittedRepository(for caller: Caller) -> String {
        let project = Harness.makeProject(for: caller)
        let owner = caller == .unprivileged ? "sbxtest:sbxtest" : "root:root"
        let git = Self.git + " -c safe.directory='*'"  // the project may be the test user's
        XCTAssertEqual(Harness.shell(["sh", "-c", "cd \(project) && \(git) init -q && echo a > a && \(git) add a && \(git) commit -qm one && chown -R \(owner) ."]), 0)
        return project
    }

    func hostGitStatus(_ project: String) -> String {
        let out = Harness.workRoot + "/status-\(UUID().uuidString)"
        _ = Harness.shell(["sh", "-c", "git -c safe.directory='*' -C \(project) status --porcelain --ignored > \(out) 2>&1"])
        return (try? String(contentsOfFile: out, encoding: .utf8)) ?? "unreadable"
    }

    /// A profile file outside the project (so that it is not an entry of it).
    func profile(_ text: String, for caller: Caller) -> String {
        let path = Harness.makeProject(for: caller, "profile") + "/p.toml"
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        chmod(path, 0o644)
        return path
    }

    func testMissingProtectedPathsCannotBeCreatedAndNothingIsLeftBehind() {
        for caller in Harness.callers {
            for (mechanism, arguments) in [("guard", []), ("stubs", ["--profile", profile(Self.fallback, for: caller)])] {
                let project = makeRepository(for: caller)
                let result = Harness.sbx(["run"] + arguments + ["--", "/bin/sh", "-c", Self.attempt], as: caller, in: project)
                XCTAssertEqual(result.status, 0, "\(caller), \(mechanism): \(result.stderr)")
                XCTAssertEqual(result.stdout, "", "\(caller), \(mechanism): made")
                let made = Set(entries(project)).intersection([".envrc", ".mcp.json", ".vscode"])
                XCTAssertEqual(made, [], "\(caller), \(mechanism): created on the host")
                XCTAssertEqual(entries(project + "/.git"), [], "\(caller), \(mechanism)")
            }
            // Control: with the protections removed the same script creates them all.
            let unprotected = Harness.makeProject(for: caller)
            FileManager.default.createFile(atPath: unprotected + "/p.toml", contents: Data(
                "extends = [\"default\"]\n[filesystem]\nprotect = [\"!.envrc\", \"!.git/hooks/\", \"!.vscode/\", \"!.mcp.json\"]\n".utf8))
            mkdir(unprotected + "/.git", 0o755)
            if caller == .unprivileged { _ = Harness.shell(["chown", "-R", "sbxtest:sbxtest", unprotected]) }
            let control = Harness.sbx(["run", "--profile", "./p.toml", "--", "/bin/sh", "-c",
                                       Self.attempt.replacingOccurrences(of: "&& echo made", with: "&& rm -rf .envrc .mcp.json .vscode .git/hooks && echo made")],
                                      as: caller, in: unprotected)
            XCTAssertEqual(control.stdout.split(separator: "\n").count, Self.attempts.count, "control \(caller): \(control.stdout) \(control.stderr)")
        }
    }

    /// While a run that writes nothing lasts, the host's project is as before (`git status`
    /// empty, no new entry), and inside, git sees exactly what the host's git sees.
    func testARunLeavesNoTraceInTheProjectWhileItRuns() {
        for caller in Harness.callers {
            let project = makeCommittedRepository(for: caller)
            // The go-ahead comes through a directory of its own: see testHostChangesToTheProject....
            let sync = Harness.makeProject(for: caller, "sync")
            let run = Harness.launch([Harness.binary, "run", "--rw", sync, "--", "/bin/sh", "-c",
                                      "git status --porcelain --ignored; echo inside-done; while [ ! -e \(sync)/go ]; do sleep 0.05; done"],
                                     as: caller, in: project)
            XCTAssertTrue(run.wait(until: { run.stdout.contains("inside-done") }), "\(caller): \(run.stderr)")
            XCTAssertEqual(hostGitStatus(project), "", "\(caller): the host's git sees entries during the run")
            XCTAssertEqual(entries(project), [".git", "a"], "\(caller): during the run")
            FileManager.default.createFile(atPath: sync + "/go", contents: nil)
            let result = run.finish()
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(result.stdout, "inside-done\n", "\(caller): git inside sees sbx's stubs")
            XCTAssertEqual(hostGitStatus(project), "", "\(caller): after the run")
            XCTAssertEqual(entries(project), [".git", "a"], "\(caller): after the run")
        }
    }

    /// An agent's commit (`git add -A && git commit`) holds exactly the files the command wrote.
    func testGitAddAllCommitsOnlyWhatTheCommandWrote() {
        for caller in Harness.callers {
            let project = makeCommittedRepository(for: caller)
            let result = Harness.sbx(["run", "--", "/bin/sh", "-c", """
                mkdir src && echo x > src/new.c && echo b > a && git add -A && \(Self.git) commit -qm agent && git show --name-only --format= HEAD
                """], as: caller, in: project)
            XCTAssertEqual(result.status, 0, "\(caller): \(result.stderr)")
            XCTAssertEqual(result.stdout, "a\nsrc/new.c\n", "\(caller): \(result.stderr)")
            XCTAssertEqual(hostGitStatus(project), "", "\(caller): the host's tree is not what was committed")
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
            let warning = "sbx: warning: the command created \(project)/.git/hooks, \(project)/.git/config, protected paths that nothing held"
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
            let git = Self.git
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
            XCTAssertTrue(result.stderr.contains("Permission denied"), "\(caller): \(result.stderr)")
            XCTAssertEqual(entries(project), [".envrc", ".git"], "\(caller)")
        }
    }

    /// In a project the caller cannot write, nothing needs a stub and the run goes on.
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
        XCTAssertTrue(result.stderr.contains("Permission denied"), result.stderr)
        XCTAssertEqual(entries(project), [".git"])
    }

    /// sbx killed with SIGKILL at random instants of start-up and run: nothing ever appears in
    /// the project (300 kills with the guard, 100 with stubs), and the overlays' work
    /// directories the stubs' runs left in their state are swept later.
    func testKillingSbxAtRandomInstantsLeavesNothingInTheProject() {
        let caller = Harness.callers.last!
        let project = makeCommittedRepository(for: caller)
        let state = Harness.makeProject(for: caller, "state")
        let fallback = ["--profile", profile(Self.fallback, for: caller)]
        for round in 0..<400 {
            let run = Harness.launch([Harness.binary, "run"] + (round < 300 ? [] : fallback) + ["--", "/bin/sh", "-c", "echo x > .envrc; sleep 1"],
                                     as: caller, in: project, environment: ["XDG_STATE_HOME": state])
            usleep(UInt32.random(in: 0...60_000))
            kill(run.pid, SIGKILL)
            _ = run.finish()
            if entries(project) != [".git", "a"] {
                XCTFail("round \(round): the project holds \(entries(project))")
                break
            }
        }
        XCTAssertEqual(hostGitStatus(project), "")
        XCTAssertEqual(Harness.sbx(["run", "--", "/bin/true"], as: caller, in: Harness.makeProject(for: caller),
                                   environment: ["XDG_STATE_HOME": state]).status, 0)
        sleep(1)  // the killed runs' sandboxes end with their init (parent-death signal)
        XCTAssertEqual(Harness.sbx(["run", "--", "/bin/true"], as: caller, in: Harness.makeProject(for: caller),
                                   environment: ["XDG_STATE_HOME": state]).status, 0)
        XCTAssertEqual(entries(state + "/sbx/overlays"), [], "work directories of killed runs not swept")
    }

    /// Runs in one project, by two users and with two state directories, at once: none weakens
    /// another's protection, and none leaves anything in the project.
    func testConcurrentRunsByTwoUsersKeepEveryProtection() throws {
        let project = makeCommittedRepository(for: .current)
        chmod(project, 0o777)
        XCTAssertEqual(Harness.shell(["chmod", "-R", "a+rwX", project + "/.git"]), 0)
        let sync = Harness.makeProject(for: .current, "sync")
        let long = Harness.launch([Harness.binary, "run", "--rw", sync, "--", "/bin/sh", "-c",
                                   "echo started; while [ ! -e \(sync)/go ]; do sleep 0.05; done; " + Self.attempt],
                                  as: .current, in: project, environment: ["XDG_STATE_HOME": Harness.makeProject(for: .current, "stateA")])
        XCTAssertTrue(long.wait(until: { long.stdout.contains("started") }), long.stderr)
        for caller in Harness.callers {
            let short = Harness.sbx(["run", "--", "/bin/sh", "-c", "echo x > .envrc"], as: caller, in: project,
                                    environment: ["XDG_STATE_HOME": Harness.makeProject(for: caller, "stateB")])
            XCTAssertTrue(short.stderr.contains("cannot create .envrc: Permission denied"), "\(caller): \(short.stderr)")
            XCTAssertEqual(entries(project), [".git", "a"], "\(caller): during the long run")
        }
        FileManager.default.createFile(atPath: sync + "/go", contents: nil)
        let result = long.finish()
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, "started\n", "made")
        XCTAssertEqual(entries(project).filter { !$0.hasPrefix("t") && !$0.hasPrefix("d") && $0 != "l1" }, [".git", "a"])
        XCTAssertEqual(hostGitStatus(project).contains("envrc"), false)
    }

    /// What the host changes in the project while a run lasts is seen inside at once, and what
    /// the command writes to a file the host replaced lands in the host's new file. The stubs'
    /// overlay (`fallback`) does not: its view of a name it looked up stays as it was
    /// (docs/ARCHITECTURE.md), which this test pins down too, so a change to it is seen.
    func testHostChangesToTheProjectDuringARunAreSeenInside() {
        for (mechanism, arguments, expected) in [
            ("guard", [String](), "old\nold\nready\nnew\nnew\nfresh\nlooked-up\n"),
            ("stubs", ["--profile", profile(Self.fallback, for: .current)], "old\nold\nready\nnew\nold\nfresh\nlooked-up-missing\n"),
        ] {
            let project = makeCommittedRepository(for: .current)
            let sync = Harness.makeProject(for: .current, "sync")
            FileManager.default.createFile(atPath: project + "/edited", contents: Data("old\n".utf8))
            FileManager.default.createFile(atPath: project + "/replaced", contents: Data("old\n".utf8))
            let run = Harness.launch([Harness.binary, "run", "--ro", sync] + arguments + ["--", "/bin/sh", "-c", """
                cat edited replaced; ls looked-up 2>/dev/null; echo ready
                while [ ! -e \(sync)/go ]; do sleep 0.05; done
                cat edited replaced never-looked-up; ls looked-up 2>/dev/null || echo looked-up-missing
                echo inside >> replaced
                """], as: .current, in: project)
            XCTAssertTrue(run.wait(until: { run.stdout.contains("ready") }), run.stderr)
            XCTAssertEqual(Harness.shell(["sh", "-c", """
                cd \(project) && echo new > edited && echo new > r.tmp && mv r.tmp replaced && touch looked-up && echo fresh > never-looked-up
                """]), 0)
            FileManager.default.createFile(atPath: sync + "/go", contents: nil)
            let result = run.finish()
            XCTAssertEqual(result.stdout, expected, "\(mechanism): \(result.stderr)")
            let replaced = (try? String(contentsOfFile: project + "/replaced", encoding: .utf8)) ?? ""
            XCTAssertEqual(replaced, mechanism == "guard" ? "new\ninside\n" : "new\n", "\(mechanism): the command's write")
        }
    }

    /// A project on a mount where no work directory can be had (a tmpfs of its own, in a mount
    /// namespace of the test's): with stubs, its missing protected paths are not held, the run
    /// says so at the start, and reports at the end those the command created. Nothing else is
    /// weakened. The guard needs no work directory: there they are held.
    func testAProjectOnAMountWithoutAWorkDirectoryIsSaidNotHeld() throws {
        guard Harness.isRoot else { throw XCTSkip("mounting a tmpfs for the project needs root") }
        let mountPoint = Harness.makeProject(for: .current, "tmpfs")
        let inTmpfs = { (arguments: String) -> RunResult in
            Harness.launch(["/usr/bin/unshare", "-m", "--propagation", "private", "/bin/sh", "-c", """
                mount -t tmpfs -o mode=0755 tmpfs \(mountPoint) && cd \(mountPoint) && mkdir .git && \
                \(Harness.binary) run \(arguments) -- /bin/sh -c 'echo x > .envrc; echo x > .git/config; echo wrote' && ls -A
                """], as: .current, in: "/").finish()
        }
        let guarded = inTmpfs("")
        XCTAssertEqual(guarded.stdout, "wrote\n.git\n", guarded.stderr)
        XCTAssertFalse(guarded.stderr.contains("warning"), guarded.stderr)
        let script = """
            mount -t tmpfs -o mode=0755 tmpfs \(mountPoint) && cd \(mountPoint) && mkdir .git && \
            \(Harness.binary) run --profile \(profile(Self.fallback, for: .current)) -- /bin/sh -c 'echo x > .envrc; echo x > .git/config; echo wrote' && ls -A
            """
        let run = Harness.launch(["/usr/bin/unshare", "-m", "--propagation", "private", "/bin/sh", "-c", script],
                                 as: .current, in: "/")
        let outcome = run.finish()
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let lines = outcome.stderr.split(separator: "\n")
        let start = try XCTUnwrap(lines.first { $0.hasPrefix("sbx: warning: the missing protected paths") }, outcome.stderr)
        XCTAssertTrue(start.contains("\(mountPoint)/.envrc,") && start.contains("are not held in this run: \(mountPoint) is on another mount"), String(start))
        let end = try XCTUnwrap(lines.first { $0.hasPrefix("sbx: warning: the command created") }, outcome.stderr)
        XCTAssertTrue(end.contains("\(mountPoint)/.git/config, \(mountPoint)/.envrc, protected paths that nothing held"), String(end))
        XCTAssertEqual(outcome.stdout, "wrote\n.envrc\n.git\n", outcome.stderr)
    }

    /// A git on the host (an IDE refreshing the index) while the command commits: .git is the
    /// host's directory inside, not the overlay's view of it, so neither sees a stale index.
    func testGitOnTheHostAndInTheSandboxAtOnce() {
        for caller in Harness.callers {
            let project = makeCommittedRepository(for: caller)
            let sync = Harness.makeProject(for: caller, "sync")
            let run = Harness.launch([Harness.binary, "run", "--rw", sync, "--", "/bin/sh", "-c", """
                git status --short; echo ready; while [ ! -e \(sync)/go ]; do sleep 0.05; done
                echo c > c && git add c && \(Self.git) commit -qm inside && git log --format=%s
                """], as: caller, in: project)
            XCTAssertTrue(run.wait(until: { run.stdout.contains("ready") }), "\(caller): \(run.stderr)")
            let owner = caller == .unprivileged ? "setpriv --reuid=sbxtest --regid=sbxtest --init-groups" : ""
            XCTAssertEqual(Harness.shell(["sh", "-c", "cd \(project) && echo b > b && \(owner) \(Self.git) add b && \(owner) \(Self.git) commit -qm host"]), 0)
            FileManager.default.createFile(atPath: sync + "/go", contents: nil)
            let result = run.finish()
            XCTAssertEqual(result.status, 0, "\(caller): \(result.stderr)")
            XCTAssertEqual(result.stdout, "ready\ninside\nhost\none\n", "\(caller): \(result.stderr)")
        }
    }

    /// The project's .sbx.toml, which the next run reads, is protected like the rest: a FIFO
    /// or a profile planted there would hang or widen the next run.
    func testTheProjectsProfileCannotBePlanted() {
        for caller in Harness.callers {
            let project = makeRepository(for: caller)
            let result = Harness.sbx(["run", "--", "/bin/sh", "-c",
                                      "mkfifo .sbx.toml 2>/dev/null || echo fifo-refused; echo '[network]' > .sbx.toml || echo write-refused"],
                                     as: caller, in: project)
            XCTAssertEqual(result.stdout, "fifo-refused\nwrite-refused\n", "\(caller): \(result.stderr)")
            XCTAssertEqual(entries(project), [".git"], "\(caller)")
            // Control: without the entry, the same write lands on the host.
            let unprotected = makeRepository(for: caller)
            FileManager.default.createFile(atPath: unprotected + "/p.toml", contents: Data(
                "extends = [\"default\"]\n[filesystem]\nprotect = [\"!.sbx.toml\"]\n".utf8))
            _ = Harness.sbx(["run", "--profile", "./p.toml", "--", "/bin/sh", "-c", "echo 'description = \"x\"' > .sbx.toml"],
                            as: caller, in: unprotected)
            XCTAssertTrue(FileManager.default.fileExists(atPath: unprotected + "/.sbx.toml"), "control \(caller)")
        }
    }

    /// The profile's protected paths apply in every repository inside the project at any
    /// depth, in a submodule's git directory, and at each write root: git hooks and config, and
    /// the agents' settings, missing ones included.
    func testNestedRepositoriesSubmodulesAndWriteRootsAreProtected() {
        let attack = """
            for target in packages/app/.git/hooks/post-checkout packages/app/.git/config packages/app/.envrc \
                          .git/modules/lib/hooks/pre-commit .git/modules/lib/config deep/a/b/c/.git/hooks/x \
                          $0/.git/config $0/.envrc; do
                (echo '[core] fsmonitor = evil' >> $target) 2>/dev/null && echo "made $target"
            done; true
            """
        for caller in Harness.callers {
            for protected in [true, false] {
                let project = makeRepository(for: caller)
                let writeRoot = Harness.makeProject(for: caller, "writeroot")
                XCTAssertEqual(Harness.shell(["sh", "-c", """
                    cd \(project) && mkdir -p packages/app deep/a/b/c .git/modules/lib/hooks && git init -q packages/app \
                    && git init -q deep/a/b/c && touch .git/modules/lib/HEAD .git/modules/lib/config && git init -q \(writeRoot) \
                    && chown -R \(caller == .unprivileged ? "sbxtest:sbxtest" : "root:root") \(project) \(writeRoot)
                    """]), 0)
                let open = profile("extends = [\"default\"]\n[filesystem]\nprotect = [\"!.git/hooks/\", \"!.git/config\", \"!.envrc\"]\n",
                                   for: caller)
                let result = Harness.sbx(["run", "--rw", writeRoot] + (protected ? [] : ["--profile", open])
                                         + ["--", "/bin/sh", "-c", attack, writeRoot], as: caller, in: project)
                XCTAssertEqual(result.status, 0, "\(caller): \(result.stderr)")
                if protected {
                    XCTAssertEqual(result.stdout, "", "\(caller): \(result.stderr)")
                    XCTAssertFalse(FileManager.default.fileExists(atPath: project + "/packages/app/.envrc"), "\(caller)")
                    XCTAssertFalse(FileManager.default.fileExists(atPath: project + "/.git/modules/lib/hooks/pre-commit"), "\(caller)")
                } else {
                    XCTAssertEqual(result.stdout.split(separator: "\n").count, 8, "control \(caller): \(result.stdout) \(result.stderr)")
                }
            }
        }
    }

    /// A repository the command makes during the run has nothing protected while it runs: the
    /// run ends with a warning naming it. One that was there at the start is not named.
    func testRepositoriesMadeDuringTheRunAreNamedAtTheEnd() {
        for caller in Harness.callers {
            let project = makeRepository(for: caller)
            XCTAssertEqual(Harness.shell(["sh", "-c", "cd \(project) && git init -q old && chown -R \(caller == .unprivileged ? "sbxtest" : "root") old"]), 0)
            let result = Harness.sbx(["run", "--", "/bin/sh", "-c", "git init -q lib/new && echo evil > lib/new/.git/hooks/post-checkout"],
                                     as: caller, in: project)
            XCTAssertEqual(result.status, 0, "\(caller): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("warning: the command made the git repositories \(project)/lib/new, whose hooks"),
                          "\(caller): \(result.stderr)")
            XCTAssertFalse(result.stderr.contains("\(project)/old"), "\(caller): \(result.stderr)")
        }
    }

    /// `sbx explain` says how each missing protected path is held.
    func testExplainShowsHowMissingProtectedPathsAreHeld() {
        let project = makeRepository(for: .current)
        let result = Harness.sbx(["explain"], as: .current, in: project)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("\(project)/.envrc"), result.stdout)
        XCTAssertTrue(result.stdout.contains("missing: cannot be created inside"), result.stdout)
        XCTAssertTrue(result.stdout.contains("\(project)/.git/hooks"), result.stdout)
        let stubs = Harness.sbx(["explain", "--profile", profile(Self.fallback, for: .current)], as: .current, in: project)
        XCTAssertTrue(stubs.stdout.contains("held by an empty directory seen inside only"), stubs.stdout)
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
        // renameat2(RENAME_EXCHANGE) swaps the directory and the symlink atomically; the
        // flipper counts the swaps that succeeded.
        let flipper = Harness.launch(python("""
            import ctypes, os, time
            libc = ctypes.CDLL(None, use_errno=True)
            end, swaps = time.time() + 60, 0
            while time.time() < end and not os.path.exists('stop'):
                swaps += libc.renameat2(-100, b'.git/hooks', -100, b'.git/alt', 2) == 0
            print(swaps)
            """).dropFirst().map { $0 }, as: .current, in: project)
        defer { FileManager.default.createFile(atPath: project + "/stop", contents: nil); _ = flipper.finish() }
        // Each run says what it found at .git/hooks: the directory or the symlink.
        var outcomes: [String: Int] = [:]
        for _ in 0..<100 {
            let result = Harness.sbx(["run", "--hide", secret, "--", "/bin/sh", "-c",
                                      "if [ -L .git/hooks ]; then echo link; else echo dir; fi; cat .git/hooks/key"],
                                     as: .current, in: project)
            XCTAssertFalse(result.stdout.contains("TOPSECRET"), "a mount followed the swapped symlink")
            if result.status == 125 {
                XCTAssertTrue(result.stderr.contains("a symlink appeared"), result.stderr)
                outcomes["refused", default: 0] += 1
            } else {
                let seen = result.stdout.split(separator: "\n").first.map(String.init) ?? "status \(result.status): \(result.stderr)"
                outcomes[seen, default: 0] += 1
            }
        }
        FileManager.default.createFile(atPath: project + "/stop", contents: nil)
        let swaps = Int(flipper.finish().stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        print("symlink race: \(swaps) swaps, runs: \(outcomes)")
        // The race was run: the flipper swapped, and runs found each state.
        XCTAssertGreaterThanOrEqual(swaps, 2, "the flipper never swapped")
        XCTAssertGreaterThan(outcomes["dir", default: 0], 0, "no run found the directory: \(outcomes)")
        XCTAssertGreaterThan(outcomes["link", default: 0], 0, "no run found the symlink: \(outcomes)")
        // And every run either ran the command or was refused, saying why.
        XCTAssertEqual(outcomes.keys.filter { !["dir", "link", "refused"].contains($0) }, [], "\(outcomes)")
    }
}
