import XCTest

/// The base view: system read-only, project writable, host /tmp, /run, /dev/shm invisible.
final class FilesystemTests: XCTestCase {
    /// Runs a Python probe that prints one line per attempt.
    func probe(_ source: String, as caller: Caller, project: String, extra: [String] = [],
               environment: [String: String] = [:]) -> [String] {
        let result = Harness.sbx(["run"] + extra + python(source), as: caller, in: project, environment: environment)
        XCTAssertEqual(result.status, 0, "\(caller): \(result.stderr)")
        return result.stdout.split(separator: "\n").map(String.init)
    }

    /// A Python list literal of the strings. (Interpolating a Swift array of "'x'" strings
    /// gives ["'x'"]: paths with quote marks in them, which no attempt could ever open.)
    func pythonList(_ strings: [String]) -> String {
        "[" + strings.map { "'\($0)'" }.joined(separator: ", ") + "]"
    }

    static let tryOpen = """
        import os, errno, sys
        def attempt(path, flags):
            try:
                os.close(os.open(path, flags, 0o644)); return 'OPENED'
            except OSError as e:
                return errno.errorcode[e.errno]
        """

    /// Control, outside any sandbox and without writing: for each path, "True" when `caller`
    /// may open it for writing (an existing file) or create it (in its directory), that is,
    /// when only the sandbox's wall stands in the way.
    func writableOutside(_ paths: [String], as caller: Caller) -> [String: Bool] {
        let source = """
            import os
            for p in \(pythonList(paths)):
                print(p, os.access(p, os.W_OK) if os.path.exists(p) else os.access(os.path.dirname(os.path.normpath(p)), os.W_OK | os.X_OK))
            """
        let result = Harness.launch(["/usr/bin/python3", "-c", source], as: caller, in: "/tmp").finish()
        XCTAssertEqual(result.status, 0, "\(caller): \(result.stderr)")
        return Dictionary(uniqueKeysWithValues: result.stdout.split(separator: "\n").map {
            (String($0.split(separator: " ").dropLast().joined(separator: " ")), $0.hasSuffix(" True"))
        })
    }

    /// Each write outside the project is refused by the read-only mounts: EROFS where the
    /// caller could write outside the sandbox (the control), EACCES where an existing file is
    /// not the caller's to write anyway (the kernel checks permissions before the mount's
    /// read-only flag, and a mount's read-only flag before permissions when creating).
    func testWritesOutsideTheProjectFail() {
        for caller in Harness.callers {
            let home = Harness.home(of: caller)
            let name = "sbx-x-\(getpid())"
            // The project in the home directory, so that its parent is the host's (under /tmp
            // its parent would be in the sandbox's own /tmp, which is writable).
            let parent = home + "/.\(name)"
            let project = parent + "/project"
            XCTAssertEqual(Harness.shell(["mkdir", "-p", project]), 0)
            defer { try? FileManager.default.removeItem(atPath: parent) }
            if caller == .unprivileged { Harness.shell(["chown", "-R", Harness.testUser + ":", parent]) }
            let targets = ["/\(name)", "/etc/\(name)", "/usr/\(name)", "/var/tmp/\(name)", home + "/\(name)", home + "/.bashrc",
                           "/etc/passwd", project + "/../sbx-sibling"]
            let writable = writableOutside(targets, as: caller)
            XCTAssertTrue(targets.contains { writable[$0] == true }, "\(caller): the control found nothing writable outside: \(writable)")
            // Inside: whether the file (or its directory) is there, then the attempt.
            let source = Self.tryOpen + """

                for p in \(pythonList(targets)):
                    print(p, os.path.exists(p) or os.path.isdir(os.path.dirname(os.path.normpath(p))), attempt(p, os.O_WRONLY | os.O_CREAT | os.O_APPEND))
                """
            let lines = probe(source, as: caller, project: project)
            XCTAssertEqual(lines.count, targets.count, "\(caller): \(lines)")
            for (target, line) in zip(targets, lines) {
                let expected = writable[target] == true || !FileManager.default.fileExists(atPath: target) ? "EROFS" : "EACCES"
                XCTAssertEqual(line, "\(target) True \(expected)", "\(caller) (writable outside: \(writable[target] ?? false))")
            }
            for target in targets where target.hasSuffix(name) || target.hasSuffix("sbx-sibling") {
                XCTAssertFalse(FileManager.default.fileExists(atPath: target), target)
            }
        }
    }

    func testProjectIsWritableAtTheSamePathAndIsTheWorkingDirectory() throws {
        for caller in Harness.callers {
            let project = Harness.makeProject(for: caller)
            let lines = probe("import os; open('made-inside','w').write('ok'); print(os.getcwd())", as: caller, project: project)
            XCTAssertEqual(lines, [project])
            XCTAssertEqual(try String(contentsOfFile: project + "/made-inside", encoding: .utf8), "ok")
            var info = stat()
            stat(project + "/made-inside", &info)
            XCTAssertEqual(info.st_uid, caller == .unprivileged ? Harness.unprivilegedIDs.uid : geteuid())
        }
    }

    func testProjectFlagWithASubdirectoryAsWorkingDirectory() throws {
        let project = Harness.makeProject(for: .current)
        try FileManager.default.createDirectory(atPath: project + "/sub", withIntermediateDirectories: true)
        let lines = probe("import os; print(os.getcwd()); open('../top','w')", as: .current, project: project + "/sub",
                          extra: ["--project", project])
        XCTAssertEqual(lines, [project + "/sub"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: project + "/top"))
    }

    func testHostTmpDevShmAndRunAreNotVisible() throws {
        let secret = "/tmp/sbx-it-secret-\(getpid())"
        let shm = "/dev/shm/sbx-it-secret-\(getpid())"
        FileManager.default.createFile(atPath: secret, contents: Data("s".utf8), attributes: [.posixPermissions: 0o644])
        FileManager.default.createFile(atPath: shm, contents: Data("s".utf8), attributes: [.posixPermissions: 0o644])
        defer { unlink(secret); unlink(shm) }
        for caller in Harness.callers {
            let project = Harness.makeProject(for: caller)
            let source = """
                import os
                print(os.path.exists('\(secret)'), os.path.exists('\(shm)'), sorted(os.listdir('/run')), sorted(os.listdir('/dev/shm')))
                open('/dev/shm/sbx-it-written', 'w').write('x')
                open('/tmp/sbx-it-written', 'w').write('x')
                """
            XCTAssertEqual(probe(source, as: caller, project: project), ["False False [] []"], "\(caller)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: "/dev/shm/sbx-it-written"))
            XCTAssertFalse(FileManager.default.fileExists(atPath: "/tmp/sbx-it-written"))
        }
    }

    func testRuntimeDirectoryIsHiddenEvenOutsideRunAndTmp() throws {
        for caller in Harness.callers {
            let project = Harness.makeProject(for: caller)
            // In the home directory, which is otherwise visible read-only.
            let runtime = Harness.home(of: caller) + "/.sbx-it-runtime-\(getpid())"
            try FileManager.default.createDirectory(atPath: runtime, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: runtime) }
            FileManager.default.createFile(atPath: runtime + "/bus", contents: Data("secret".utf8))
            if caller == .unprivileged {
                chown(runtime, Harness.unprivilegedIDs.uid, Harness.unprivilegedIDs.gid)
                chown(runtime + "/bus", Harness.unprivilegedIDs.uid, Harness.unprivilegedIDs.gid)
            }
            let lines = probe("import os; print(os.listdir('\(runtime)'), os.path.exists('\(Harness.home(of: caller))'))",
                              as: caller, project: project, environment: ["XDG_RUNTIME_DIR": runtime])
            XCTAssertEqual(lines, ["[] True"], "\(caller)")
        }
    }

    /// EROFS where the caller could open the file for writing outside the sandbox (the
    /// control), else EACCES. A file this kernel does not have (no /proc/sysrq-trigger without
    /// CONFIG_MAGIC_SYSRQ) is left out, as the host says, not the sandbox.
    func testProcAndSysCannotReachTheHostKernel() {
        // Opening for write is the attempt; nothing is ever written.
        let targets = ["/proc/sysrq-trigger", "/proc/sys/vm/drop_caches", "/proc/sys/kernel/core_pattern",
                       "/sys/kernel/mm/transparent_hugepage/enabled", "/sys/power/state"].filter { FileManager.default.fileExists(atPath: $0) }
        XCTAssertTrue(targets.contains("/proc/sys/vm/drop_caches"), "\(targets)")
        for caller in Harness.callers {
            let writable = writableOutside(targets, as: caller)
            let source = Self.tryOpen + "\nfor p in \(pythonList(targets)):\n    print(p, os.path.exists(p), attempt(p, os.O_WRONLY))\n"
            let lines = probe(source, as: caller, project: Harness.makeProject(for: caller))
            XCTAssertEqual(lines.count, targets.count, "\(caller): \(lines)")
            for (target, line) in zip(targets, lines) {
                XCTAssertEqual(line, "\(target) True \(writable[target] == true ? "EROFS" : "EACCES")",
                               "\(caller) (writable outside: \(writable[target] ?? false))")
            }
            if caller == .current && Harness.isRoot {
                XCTAssertTrue(targets.allSatisfy { writable[$0] == true }, "control: root can write these outside: \(writable)")
            }
        }
    }

    func testDevIsMinimalAndWorks() {
        let source = """
            import os
            print(sorted(os.listdir('/dev')))
            open('/dev/null','w').write('x'); print(len(open('/dev/urandom','rb').read(8)), open('/dev/zero','rb').read(2))
            m, s = os.openpty(); print(os.ttyname(s).startswith('/dev/pts/'))
            """
        for caller in Harness.callers {
            XCTAssertEqual(probe(source, as: caller, project: Harness.makeProject(for: caller)),
                           ["['fd', 'full', 'null', 'ptmx', 'pts', 'random', 'shm', 'stderr', 'stdin', 'stdout', 'tty', 'urandom', 'zero']",
                            "8 b'\\x00\\x00'", "True"], "\(caller)")
        }
    }

    func testWritableSubmountOfAReadOnlyDirectoryStaysReadOnly() throws {
        // A tmpfs mounted below a bound directory, in a private mount namespace so the host
        // never sees it: a non-recursive read-only bind would leave it writable.
        try XCTSkipUnless(Harness.isRoot, "needs root to mount the writable submount")
        let mountPoint = "/mnt/sbx-it-submount-\(getpid())"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        defer { rmdir(mountPoint) }
        let project = Harness.makeProject(for: .current)
        let script = "mount -t tmpfs tmpfs \(mountPoint) && touch \(mountPoint)/outside-ok && " +
            "\(Harness.binary) run -- /bin/sh -c 'touch \(mountPoint)/inside 2>&1; ls \(mountPoint)'"
        let result = Harness.launch(["/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script],
                                    as: .current, in: project).finish()
        XCTAssertTrue(result.stdout.contains("Read-only file system"), result.stdout + result.stderr)
        XCTAssertTrue(result.stdout.contains("outside-ok"), "control: the submount is visible and was writable outside")
        XCTAssertFalse(result.stdout.contains("\ninside"), result.stdout)
    }
}
