import SandboxCore
import XCTest

/// Profiles change what a real sandbox sees: hidden paths are hidden, a hidden home is empty,
/// granted paths are writable, bad profiles stop the run with the file, line and key.
final class ProfileRunTests: XCTestCase {
    /// A directory in the caller's home holding a secret, removed after the test.
    func makeSecret(for caller: Caller) throws -> String {
        let secret = Harness.home(of: caller) + "/.sbx-it-secret-\(getpid())-\(caller == .current ? "c" : "u")"
        try FileManager.default.createDirectory(atPath: secret, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: secret + "/key", contents: Data("TOPSECRET".utf8), attributes: [.posixPermissions: 0o600])
        FileManager.default.createFile(atPath: secret + "-file", contents: Data("TOPSECRET".utf8), attributes: [.posixPermissions: 0o600])
        if caller == .unprivileged {
            for path in [secret, secret + "/key", secret + "-file"] { chown(path, Harness.unprivilegedIDs.uid, Harness.unprivilegedIDs.gid) }
        }
        addTeardownBlock { try? FileManager.default.removeItem(atPath: secret); unlink(secret + "-file") }
        return secret
    }

    func write(_ text: String, to path: String, owner caller: Caller) {
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o644])
        if caller == .unprivileged { chown(path, Harness.unprivilegedIDs.uid, Harness.unprivilegedIDs.gid) }
    }

    func testHiddenPathsAreHiddenDirectlyThroughSymlinksAndDotDot() throws {
        for caller in Harness.callers {
            let project = Harness.makeProject(for: caller)
            let secret = try makeSecret(for: caller)
            symlink(secret + "/key", project + "/link-to-key")
            symlink(secret, project + "/link-to-dir")
            let probe = """
                import os
                for p in ['\(secret)/key', '\(project)/link-to-key', '\(project)/link-to-dir/key',
                          '\(project)/../../..\(secret)/key', '/proc/self/root\(secret)/key', '\(secret)-file']:
                    try:
                        print(repr(open(p).read()))
                    except OSError as e:
                        print(type(e).__name__)
                print(os.listdir('\(secret)'))
                """
            let flags = ["--hide", secret, "--hide", secret + "-file"]
            let result = Harness.sbx(["run"] + flags + python(probe), as: caller, in: project)
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertFalse(result.stdout.contains("TOPSECRET"), "\(caller) read the secret: \(result.stdout)")
            XCTAssertEqual(result.stdout.split(separator: "\n").last, "[]", "\(caller): \(result.stdout)")
            // Control: without --hide the same probe reads it.
            let control = Harness.sbx(["run"] + python(probe), as: caller, in: project)
            XCTAssertTrue(control.stdout.contains("TOPSECRET"), "control \(caller): \(control.stdout) \(control.stderr)")
        }
    }

    /// A profile's deny rule that repeats a built-in one (TIOCSTI) with its own errno loads,
    /// and its errno is the answer; the control without it gets the built-in EPERM.
    func testADenyRuleRepeatingABuiltInOneLoadsWithItsErrno() {
        let project = Harness.makeProject(for: .current)
        write("extends = [\"default\"]\n[seccomp]\ndeny = [\"ioctl(a1 & 0xffffffff == 0x5412):ECONNREFUSED\"]\n",
              to: project + "/p.toml", owner: .current)
        let probe = python("""
            import fcntl, termios
            try:
                fcntl.ioctl(0, termios.TIOCSTI, b'x')
            except OSError as e:
                print(e.errno)
            """)
        let result = Harness.sbx(["run", "--profile", "./p.toml"] + probe, as: .current, in: project)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, "111\n", result.stderr)
        let control = Harness.sbx(["run"] + probe, as: .current, in: project)
        XCTAssertEqual(control.stdout, "1\n", control.stderr)
    }

    /// A home under /tmp (a CI runner's) is seen read-only as `home = "read-only"` says, its
    /// secrets hidden, instead of vanishing with the private /tmp. Control: a hidden home.
    func testAHomeUnderTmpIsSeenReadOnly() throws {
        for caller in Harness.callers {
            let home = Harness.makeProject(for: caller, "home")
            try FileManager.default.createDirectory(atPath: home + "/.ssh", withIntermediateDirectories: true)
            write("visible\n", to: home + "/notes", owner: caller)
            write("TOPSECRET\n", to: home + "/.ssh/id_ed25519", owner: caller)
            let script = "cat \(home)/notes; cat \(home)/.ssh/id_ed25519 2>/dev/null; echo x > \(home)/new 2>/dev/null || echo refused"
            let result = Harness.sbx(["run", "--", "/bin/sh", "-c", script], as: caller, in: Harness.makeProject(for: caller),
                                     environment: ["HOME": home])
            XCTAssertEqual(result.stdout, "visible\nrefused\n", "\(caller): \(result.stderr)")
            let project = Harness.makeProject(for: caller)
            write("extends = [\"default\"]\n[filesystem]\nhome = \"hidden\"\n", to: project + "/p.toml", owner: caller)
            let hidden = Harness.sbx(["run", "--profile", "./p.toml", "--", "/bin/sh", "-c", script], as: caller, in: project,
                                     environment: ["HOME": home])
            XCTAssertEqual(hidden.stdout, "refused\n", "\(caller): \(hidden.stderr)")
        }
    }

    /// A home that is a private directory itself, or in /proc or /dev, is never bound in: the
    /// bind would put the host's /tmp (its sockets) or /proc (its processes) over the sandbox's.
    /// The control: the same probe on the host sees the host's.
    func testAHomeInAPrivateDirectoryNeverBringsTheHostsIn() throws {
        let marker = Harness.makeProject(for: .current, "marker")  // under the host's /tmp
        let probe = "tr '\\0' ' ' < /proc/1/cmdline | cut -c1-14; ls \(marker) 2>/dev/null || echo no-host-tmp"
        for home in ["/proc", "/proc/1", "/tmp", "/dev"] {
            let result = Harness.sbx(["run", "--", "/bin/sh", "-c", probe], as: .current, in: Harness.makeProject(for: .current),
                                     environment: ["HOME": home])
            XCTAssertEqual(result.stdout, "sbx __sbx_init\nno-host-tmp\n", "HOME=\(home): \(result.stderr)")
        }
        let control = Harness.launch(["/bin/sh", "-c", probe], as: .current, in: "/").finish()
        XCTAssertNotEqual(control.stdout, "sbx __sbx_init\nno-host-tmp\n", control.stderr)
    }

    func testProfileFileHidesAndGrants() throws {
        for caller in Harness.callers {
            let project = Harness.makeProject(for: caller)
            let secret = try makeSecret(for: caller)
            let extra = Harness.makeProject(for: caller, "extra")  // under /tmp: invisible unless granted
            write("""
                description = "test"
                [filesystem]
                hide = ["\(secret)"]
                write = ["\(extra)"]
                [process]
                hostname = "tested"
                """, to: project + "/p.toml", owner: caller)
            let script = "cat \(secret)/key; echo ok > \(extra)/out && hostname"
            let result = Harness.sbx(["run", "--profile", "./p.toml", "--", "/bin/sh", "-c", script], as: caller, in: project)
            XCTAssertFalse(result.stdout.contains("TOPSECRET"), "\(caller)")
            XCTAssertEqual(result.stdout, "tested\n", "\(caller): \(result.stderr)")
            XCTAssertEqual(try String(contentsOfFile: extra + "/out", encoding: .utf8), "ok\n")
        }
    }

    func testHiddenHomeShowsOnlyTheProjectAndGrants() throws {
        for caller in Harness.callers {
            let home = Harness.home(of: caller)
            let project = home + "/sbx-it-project-\(getpid())"
            try FileManager.default.createDirectory(atPath: project, withIntermediateDirectories: true)
            addTeardownBlock { try? FileManager.default.removeItem(atPath: project) }
            let secret = try makeSecret(for: caller)
            if caller == .unprivileged { chown(project, Harness.unprivilegedIDs.uid, Harness.unprivilegedIDs.gid) }
            write("[filesystem]\nhome = \"hidden\"\n", to: project + "/strict.toml", owner: caller)
            let probe = """
                import os
                print(sorted(os.listdir('\(home)')), os.path.exists('\(secret)/key'))
                open('\(project)/written', 'w').write('x')
                try:
                    open('\(home)/new-file', 'w')
                except OSError as e:
                    print(type(e).__name__)
                """
            let result = Harness.sbx(["run", "--profile", "./strict.toml"] + python(probe), as: caller, in: project)
            XCTAssertEqual(result.stdout, "['\((project as NSString).lastPathComponent)'] False\nOSError\n", "\(caller): \(result.stderr)")
            XCTAssertTrue(FileManager.default.fileExists(atPath: project + "/written"))
        }
    }

    func testProtectedPathInTheProjectIsReadOnly() throws {
        for caller in Harness.callers {
            let project = Harness.makeProject(for: caller)
            try FileManager.default.createDirectory(atPath: project + "/.git/hooks", withIntermediateDirectories: true)
            if caller == .unprivileged {
                for path in [project + "/.git", project + "/.git/hooks"] { chown(path, Harness.unprivilegedIDs.uid, Harness.unprivilegedIDs.gid) }
            }
            write("[filesystem]\nprotect = [\".git/hooks\"]\n", to: project + "/p.toml", owner: caller)
            let result = Harness.sbx(["run", "--profile", "./p.toml", "--", "/bin/sh", "-c",
                                      "echo evil > .git/hooks/pre-commit; echo fine > .git/ok"], as: caller, in: project)
            XCTAssertTrue(result.stderr.contains("Read-only file system"), "\(caller): \(result.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: project + "/.git/hooks/pre-commit"))
            XCTAssertTrue(FileManager.default.fileExists(atPath: project + "/.git/ok"))
            // Around it: rename the parent away and build a new one, or remove the parent.
            let around = Harness.sbx(["run", "--profile", "./p.toml", "--", "/bin/sh", "-c",
                                      "mv .git .gitx; mv .git/hooks .git/h; rm -rf .git; mkdir -p .git/hooks; echo evil > .git/hooks/pre-commit"],
                                     as: caller, in: project)
            XCTAssertTrue(around.stderr.contains("busy"), "\(caller): \(around.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: project + "/.git/hooks/pre-commit"), "\(caller) got around the protection")
            XCTAssertFalse(FileManager.default.fileExists(atPath: project + "/.gitx"))
        }
    }

    func testBadProfileStopsTheRunWithFileLineAndKey() {
        let project = Harness.makeProject(for: .current)
        write("[network]\nmode = \"none\"\ndney = [\"x\"]\n", to: project + "/bad.toml", owner: .current)
        let result = Harness.sbx(["run", "--profile", "./bad.toml", "--", "/bin/touch", "ran"], as: .current, in: project)
        XCTAssertEqual(result.status, 125)
        XCTAssertTrue(result.stderr.contains("bad.toml:3:1: network.dney: unknown key; did you mean 'network.deny'?"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: project + "/ran"))
        let check = Harness.sbx(["profile", "check", "./bad.toml"], as: .current, in: project)
        XCTAssertEqual(check.status, 125)
        XCTAssertEqual(check.stderr, result.stderr)
    }

    func testProjectProfileThatWidensIsRefused() {
        let project = Harness.makeProject(for: .current)
        write("[filesystem]\nwrite = [\"~/.bashrc\"]\n", to: project + "/.sbx.toml", owner: .current)
        let refused = Harness.sbx(["run", "--", "/bin/touch", "ran"], as: .current, in: project)
        XCTAssertEqual(refused.status, 125)
        XCTAssertTrue(refused.stderr.contains("would widen the sandbox (filesystem.write adds"), refused.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: project + "/ran"))
        XCTAssertEqual(Harness.sbx(["run", "--no-project-profile", "--", "/bin/touch", "ran"], as: .current, in: project).status, 0)
        // A fixed address for a name is how a private address passes the proxy: a widening.
        write("[network.hosts]\n\"api.example.test\" = \"169.254.169.254\"\n", to: project + "/.sbx.toml", owner: .current)
        let hosts = Harness.sbx(["run", "--", "/bin/true"], as: .current, in: project)
        XCTAssertEqual(hosts.status, 125)
        XCTAssertTrue(hosts.stderr.contains("would widen the sandbox (network.hosts maps api.example.test"), hosts.stderr)
    }

    func testProjectProfileThatNarrowsApplies() throws {
        let project = Harness.makeProject(for: .current)
        FileManager.default.createFile(atPath: project + "/.env", contents: Data("TOPSECRET".utf8))
        write("[filesystem]\nhide = [\".env\"]\n", to: project + "/.sbx.toml", owner: .current)
        let result = Harness.sbx(["run", "--", "/bin/cat", ".env"], as: .current, in: project)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, "")
    }

    /// On a host where a memory limit cannot be applied (this project's hybrid machines).
    func testUnavailableProtectionRefusesUnlessOptional() throws {
        if RunCgroup.preflight(CgroupLimits(memoryBytes: 1 << 30)) == nil { throw XCTSkip("limits can be applied on this host") }
        let project = Harness.makeProject(for: .current)
        let refused = Harness.sbx(["run", "--memory", "1G", "--", "/bin/touch", "ran"], as: .current, in: project)
        XCTAssertEqual(refused.status, 125)
        XCTAssertTrue(refused.stderr.contains("limits.memory = 1G (--memory) cannot be applied"), refused.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: project + "/ran"))
        write("[limits]\nmemory = \"1G\"\noptional = [\"memory\"]\n", to: project + "/p.toml", owner: .current)
        // Optional: a warning, and RLIMIT_AS stands in (ulimit -v reports KiB).
        let allowed = Harness.sbx(["run", "--profile", "./p.toml", "--", "/bin/sh", "-c", "ulimit -v"], as: .current, in: project)
        XCTAssertEqual(allowed.status, 0, allowed.stderr)
        XCTAssertTrue(allowed.stderr.contains("sbx: warning: limits.memory = 1G is not applied; RLIMIT_AS stands in"), allowed.stderr)
        XCTAssertEqual(allowed.stdout, "1048576\n")
    }

    func testNoTTYMeansNewSessionWithoutControllingTerminal() {
        let project = Harness.makeProject(for: .current)
        write("[process]\ntty = false\n", to: project + "/p.toml", owner: .current)
        let probe = "import os\ntry:\n    os.open('/dev/tty', os.O_RDWR); print('tty')\nexcept OSError as e:\n    print(e.errno)\nprint(os.getsid(0) == os.getpid())"
        let driver = TerminalTests.driverRunning([Harness.binary, "run", "--profile", "./p.toml"] + python(probe))
        let result = Harness.launch(driver, as: .current, in: project).finish()
        XCTAssertTrue(result.stdout.contains("6\nTrue\n"), result.stdout + result.stderr)  // ENXIO: no controlling terminal
    }

    /// Every built-in profile starts a real sandbox, hides an SSH key and keeps the project's git
    /// hooks read-only, for root and for an unprivileged user.
    func testEveryBuiltinProfileRunsHidesKeysAndProtectsHooks() throws {
        let profiles = Harness.sbx(["profile", "list"], as: .current, in: "/").stdout
            .split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
        XCTAssertTrue(profiles.contains("default") && profiles.contains("claude-code"), "\(profiles)")
        for caller in Harness.callers {
            let project = Harness.makeProject(for: caller)
            let ssh = Harness.home(of: caller) + "/.ssh"
            let createdSSH = mkdir(ssh, 0o700) == 0
            let key = ssh + "/sbx-it-key-\(getpid())"
            write("TOPSECRET", to: key, owner: caller)
            addTeardownBlock { unlink(key); if createdSSH { rmdir(ssh) } }
            if caller == .unprivileged { chown(ssh, Harness.unprivilegedIDs.uid, Harness.unprivilegedIDs.gid) }
            XCTAssertEqual(Harness.shell(["mkdir", "-p", project + "/.git/hooks"]), 0)
            write("#!/bin/sh\n", to: project + "/.git/hooks/pre-commit", owner: caller)
            if caller == .unprivileged { _ = Harness.shell(["chown", "-R", "sbxtest:sbxtest", project + "/.git"]) }
            let probe = """
                for p in ['\(key)']:
                    try:
                        print(repr(open(p).read()))
                    except OSError as e:
                        print(type(e).__name__)
                try:
                    open('.git/hooks/pre-commit', 'a').write('evil')
                    print('hook written')
                except OSError as e:
                    print(type(e).__name__)
                open('ok', 'w').write('project writable')
                """
            for profile in profiles {
                let result = Harness.sbx(["run", "--profile", profile] + python(probe), as: caller, in: project)
                XCTAssertEqual(result.status, 0, "\(profile) \(caller): \(result.stderr)")
                XCTAssertFalse(result.stdout.contains("TOPSECRET"), "\(profile) \(caller) read the key: \(result.stdout)")
                XCTAssertFalse(result.stdout.contains("hook written"), "\(profile) \(caller) wrote a hook")
                XCTAssertEqual(try String(contentsOfFile: project + "/ok", encoding: .utf8), "project writable", profile)
                unlink(project + "/ok")
            }
            // Control: with the key's directory not hidden, the same probe reads it.
            write("extends = [\"default\"]\n[filesystem]\nhide = [\"!~/.ssh\"]\nprotect = [\"!.git/hooks/\"]\n",
                  to: project + "/p.toml", owner: caller)
            let control = Harness.sbx(["run", "--profile", "./p.toml"] + python(probe), as: caller, in: project)
            XCTAssertTrue(control.stdout.contains("TOPSECRET") && control.stdout.contains("hook written"),
                          "control \(caller): \(control.stdout) \(control.stderr)")
        }
    }

    func testExplainShowsOriginsAndJSONParses() throws {
        let project = Harness.makeProject(for: .current)
        mkdir(project + "/.git", 0o755)
        let text = Harness.sbx(["explain", "--hide", "/opt/x", "--hide", "/usr/share/doc"], as: .current, in: project)
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("filesystem.hide") && text.stdout.contains("--hide"), text.stdout)
        // The resulting tree: each path, its mode, and why.
        let view = text.stdout.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
        XCTAssertTrue(view.contains("\(project) read-write the project"), text.stdout)
        XCTAssertTrue(view.contains("/usr/share/doc hidden filesystem.hide (--hide)"), text.stdout)
        XCTAssertTrue(view.contains { $0.hasPrefix("\(project)/.git/hooks read-only filesystem.protect, missing: cannot be created inside") }, text.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: project + "/.git/hooks"), "explain created something")
        let json = Harness.sbx(["explain", "--json"], as: .current, in: project)
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], json.stdout)
    }
}
