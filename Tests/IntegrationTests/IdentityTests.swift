import XCTest

/// Namespaces and privileges: the caller keeps their uid inside, with no capability at all.
final class IdentityTests: XCTestCase {
    func testUidKeptCapabilitiesGoneNoNewPrivs() {
        for caller in Harness.callers {
            let project = Harness.makeProject(for: caller)
            let result = Harness.sbx(["run", "--", "/bin/sh", "-c", "id -u; id -g; grep -E '^(Cap|NoNewPrivs)' /proc/self/status"],
                                     as: caller, in: project)
            XCTAssertEqual(result.status, 0, result.stderr)
            let lines = result.stdout.split(separator: "\n").map(String.init)
            let uid = caller == .unprivileged ? Harness.unprivilegedIDs.uid : geteuid()
            let gid = caller == .unprivileged ? Harness.unprivilegedIDs.gid : getegid()
            XCTAssertEqual(Array(lines.prefix(2)), ["\(uid)", "\(gid)"], "\(caller)")
            for name in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
                XCTAssertTrue(lines.contains("\(name):\t0000000000000000"), "\(name) \(caller): \(result.stdout)")
            }
            XCTAssertTrue(lines.contains("NoNewPrivs:\t1"), "\(caller)")
        }
    }

    func testEveryNamespaceIsNew() {
        let kinds = ["user", "mnt", "pid", "net", "ipc", "uts", "cgroup"]
        let script = kinds.map { "readlink /proc/self/ns/\($0)" }.joined(separator: "; ")
        for caller in Harness.callers {
            let project = Harness.makeProject(for: caller)
            let inside = Harness.sbx(["run", "--", "/bin/sh", "-c", script], as: caller, in: project)
            XCTAssertEqual(inside.status, 0, inside.stderr)
            let outside = kinds.map { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/\($0)")) ?? "?" }
            let insideLinks = inside.stdout.split(separator: "\n").map(String.init)
            XCTAssertEqual(insideLinks.count, kinds.count)
            for (kind, (a, b)) in zip(kinds, zip(insideLinks, outside)) {
                XCTAssertNotEqual(a, b, "\(kind) namespace shared with the host \(caller)")
            }
        }
    }

    func testHostnameIsSbx() {
        let result = Harness.sbx(["run", "--", "/bin/cat", "/proc/sys/kernel/hostname"], as: .current, in: Harness.makeProject(for: .current))
        XCTAssertEqual(result.stdout, "sbx\n")
    }

    func testSetuidRootBinaryGivesNothingBack() throws {
        // A setuid-root copy of id(1) in the project: outside, it runs with euid 0 (the control
        // that shows this test can fail); inside, nosuid and no_new_privs must keep our uid.
        try XCTSkipUnless(Harness.isRoot, "needs root to make a setuid-root file")
        let project = Harness.makeProject(for: .unprivileged)
        let binary = project + "/id-setuid"
        try FileManager.default.copyItem(atPath: "/usr/bin/id", toPath: binary)
        chmod(binary, 0o4755)
        let outside = Harness.launch([binary, "-u"], as: .unprivileged, in: project).finish()
        XCTAssertEqual(outside.stdout, "0\n", "control: the setuid bit works outside the sandbox")
        let inside = Harness.sbx(["run", "--", binary, "-u"], as: .unprivileged, in: project)
        XCTAssertEqual(inside.stdout, "\(Harness.unprivilegedIDs.uid)\n", inside.stderr)
    }

    func testPid1IsSbxInitAndHostProcessesAreInvisible() {
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["30"]
        try! sleeper.run()
        defer { sleeper.terminate(); sleeper.waitUntilExit() }
        for caller in Harness.callers {
            let script = """
                import os, errno
                print(open('/proc/1/cmdline','rb').read().split(b'\\0')[1].decode())
                print(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))
                try:
                    os.kill(\(sleeper.processIdentifier), 15); print('signalled')
                except OSError as e:
                    print(errno.errorcode[e.errno])
                """
            let result = Harness.sbx(["run"] + python(script), as: caller, in: Harness.makeProject(for: caller))
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(result.stdout, "__sbx_init\n[1, 2]\nESRCH\n", "\(caller)")
        }
        XCTAssertTrue(sleeper.isRunning)
    }
}

/// The init runs outside the command's seccomp filter, so the command must not be able to
/// take it over: it is non-dumpable, which denies ptrace and /proc/1/mem to a same-uid caller.
final class InitProtectionTests: XCTestCase {
    func testCommandCannotPtraceOrReadItsInit() {
        let source = """
            import ctypes, errno, os
            libc = ctypes.CDLL(None, use_errno=True)
            PTRACE_ATTACH = 16
            rc = libc.ptrace(PTRACE_ATTACH, 1, None, None)
            print('attach', 'OK' if rc == 0 else errno.errorcode[ctypes.get_errno()])
            if rc == 0: libc.ptrace(17, 1, None, None)  # PTRACE_DETACH, so a failure does not hang
            try:
                open('/proc/1/mem', 'rb'); print('mem OK')
            except OSError as e:
                print('mem', errno.errorcode[e.errno])
            """
        for caller in Harness.callers {
            let result = Harness.sbx(["run"] + python(source), as: caller, in: Harness.makeProject(for: caller))
            XCTAssertEqual(result.stdout, "attach EPERM\nmem EACCES\n", "\(caller): \(result.stderr)")
        }
    }
}
