import XCTest

/// Landlock holds where the mounts do not reach: a host directory passed in by file
/// descriptor is outside every writable mount point, so nothing can be created in it and no
/// file in it can be opened by path, though the mount namespace alone would allow both.
final class LandlockTests: XCTestCase {
    static let probe = """
        import os
        for attempt in (lambda: os.close(os.open('new', os.O_CREAT | os.O_WRONLY, dir_fd=3)),
                        lambda: print(open('/proc/self/fd/3/secret').read().strip())):
            try:
                attempt()
                print('done')
            except OSError as e:
                print(e.errno)
        """

    func run(_ profile: [String], as caller: Caller, in project: String, passing directory: String) -> RunResult {
        let command = ["/bin/sh", "-c", "exec 3<\"$0\"; exec \"$@\"", directory, Harness.binary, "run", "--pass-fd", "3"]
            + profile + python(Self.probe)
        return Harness.launch(command, as: caller, in: project).finish()
    }

    /// Standard streams redirected to files the sandbox cannot see (a log on the host): the
    /// command may reopen them (`>> /dev/stdout`) as they were opened, and no more: stdin,
    /// opened for reading, cannot be reopened for writing.
    func testStandardStreamsCanBeReopenedAsTheyWereOpened() throws {
        guard LandlockABI.available else { throw XCTSkip("this kernel has no Landlock (landlock_create_ruleset)") }
        for caller in Harness.callers {
            let project = Harness.makeProject(for: caller)
            let outside = Harness.makeProject(for: caller, "outside")  // under the host's /tmp: not in the sandbox
            let script = "echo hi >> /dev/stdout; (echo evil > /dev/stdin) 2>/dev/null || echo stdin-refused >> /dev/stdout"
            for (profile, expected) in [([String](), "hi\nstdin-refused\n"), (["--profile", project + "/p.toml"], "hi\n")] {
                FileManager.default.createFile(atPath: outside + "/in", contents: Data("input\n".utf8))
                FileManager.default.createFile(atPath: outside + "/out", contents: nil)
                FileManager.default.createFile(atPath: project + "/p.toml", contents: Data("[seccomp]\nnested_userns = true\n".utf8))
                _ = Harness.shell(["chmod", "a+rw", outside + "/in", outside + "/out"])
                let command = ["/bin/sh", "-c", "exec <\"$0\" >\"$1\"; shift; exec \"$@\"", outside + "/in", outside + "/out",
                               Harness.binary, "run"] + profile + ["--", "/bin/sh", "-c", script]
                let result = Harness.launch(command, as: caller, in: project).finish()
                XCTAssertEqual(result.status, 0, "\(caller): \(result.stderr)")
                XCTAssertEqual(try String(contentsOfFile: outside + "/out", encoding: .utf8), expected, "\(caller) \(profile)")
                // Without Landlock (the control) the write to stdin's file goes through.
                XCTAssertEqual(try String(contentsOfFile: outside + "/in", encoding: .utf8), profile.isEmpty ? "input\n" : "evil\n", "\(caller)")
            }
        }
    }

    func testADirectoryPassedByDescriptorCannotBeWrittenOrReadByPath() throws {
        // Skipped only on the kernel's word, asked independently of sbx.
        guard LandlockABI.available else { throw XCTSkip("this kernel has no Landlock (landlock_create_ruleset)") }
        for caller in Harness.callers {
            let project = Harness.makeProject(for: caller)
            let outside = Harness.makeProject(for: caller, "outside")  // under the host's /tmp: not in the sandbox
            FileManager.default.createFile(atPath: outside + "/secret", contents: Data("TOPSECRET\n".utf8))
            if caller == .unprivileged { chown(outside + "/secret", Harness.unprivilegedIDs.uid, Harness.unprivilegedIDs.gid) }
            let result = run([], as: caller, in: project, passing: outside)
            XCTAssertEqual(result.status, 0, "\(caller): \(result.stderr)")
            XCTAssertEqual(result.stdout, "\(EACCES)\n\(EACCES)\n", "\(caller)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: outside + "/new"), "\(caller) created a file outside")
            // Control: without Landlock (nested user namespaces turn it off) both work.
            FileManager.default.createFile(atPath: project + "/p.toml", contents: Data("[seccomp]\nnested_userns = true\n".utf8))
            let control = run(["--profile", "./p.toml"], as: caller, in: project, passing: outside)
            XCTAssertEqual(control.stdout, "done\nTOPSECRET\ndone\n", "control \(caller): \(control.stderr)")
        }
    }

    func testExplainSaysWhetherLandlockIsActive() {
        let project = Harness.makeProject(for: .current)
        let normal = Harness.sbx(["explain"], as: .current, in: project).stdout
        let line = normal.split(separator: "\n").first { $0.contains("landlock") }.map(String.init) ?? ""
        XCTAssertTrue(line.contains(LandlockABI.available ? "active" : "unavailable"), "kernel ABI \(LandlockABI.kernel): \(line)")
        FileManager.default.createFile(atPath: project + "/p.toml", contents: Data("[seccomp]\nnested_userns = true\n".utf8))
        let nested = Harness.sbx(["explain", "--profile", "./p.toml"], as: .current, in: project).stdout
        XCTAssertTrue(nested.contains("landlock") && nested.contains("off"), nested)
    }
}

/// The kernel's Landlock ABI, asked by a separate process (Python, ctypes), not through sbx's
/// own code: landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION), syscall 444 on
/// every architecture. 0 when the kernel has no Landlock (ENOSYS) or it is off (EOPNOTSUPP).
enum LandlockABI {
    static let kernel: Int = {
        let process = Process()
        let pipe = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", """
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            libc.syscall.restype = ctypes.c_long
            abi = libc.syscall(ctypes.c_long(444), None, ctypes.c_size_t(0), ctypes.c_uint32(1))
            print(abi if abi > 0 else 0, ctypes.get_errno() if abi < 0 else 0)
            """]
        process.standardOutput = pipe
        try! process.run()
        process.waitUntilExit()
        let fields = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: " ")
        precondition(process.terminationStatus == 0 && fields.count == 2, "the Landlock probe failed")
        let (abi, error) = (Int(fields[0]) ?? -1, Int32(fields[1].trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1)
        precondition(abi > 0 || error == ENOSYS || error == EOPNOTSUPP, "landlock_create_ruleset: unexpected errno \(error)")
        return abi
    }()
    static var available: Bool { kernel > 0 }
}
