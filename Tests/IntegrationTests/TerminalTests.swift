import XCTest

/// Under a real terminal: the terminal passes through, Ctrl-C and resizes reach the command
/// exactly once, and terminal input injection (TIOCSTI, TIOCLINUX) is refused.
final class TerminalTests: XCTestCase {
    /// Runs argv under a new pty, types Ctrl-C after "ready", resizes after "int=", and prints
    /// everything the program wrote, then "exit=N".
    static let driver = """
        import os, pty, select, sys, time, fcntl, termios, struct
        pid, master = pty.fork()
        if pid == 0:
            os.execv(sys.argv[1], sys.argv[1:])
        out = b''
        def read_until(token, timeout=10):
            global out
            end = time.time() + timeout
            while token not in out and time.time() < end:
                if select.select([master], [], [], 0.05)[0]:
                    try:
                        out += os.read(master, 4096)
                    except OSError:
                        break
        read_until(b'ready')
        os.write(master, b'\\x03')
        read_until(b'int=')
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack('HHHH', 33, 111, 0, 0))
        read_until(b'done')
        _, status = os.waitpid(pid, 0)
        sys.stdout.write(out.decode(errors='replace').replace('\\r', '') + 'exit=%d\\n' % os.waitstatus_to_exitcode(status))
        """

    /// The command: checks its tty, tries injection, counts SIGINT and SIGWINCH.
    static let payload = """
        import os, signal, time, termios, errno, ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        def inject(fd, request):
            # Through libc, so the request keeps all 64 bits (Python's fcntl.ioctl truncates).
            rc = libc.ioctl(fd, ctypes.c_ulong(request), ctypes.c_char_p(b'x'))
            return 'INJECTED' if rc == 0 else errno.errorcode[ctypes.get_errno()]
        print('tty', os.isatty(0), inject(0, termios.TIOCSTI), inject(0, termios.TIOCSTI | (1 << 32)),
              inject(0, 0x541C), flush=True)
        counts = {'INT': 0, 'WINCH': 0}
        signal.signal(signal.SIGINT, lambda n, f: counts.__setitem__('INT', counts['INT'] + 1))
        signal.signal(signal.SIGWINCH, lambda n, f: counts.__setitem__('WINCH', counts['WINCH'] + 1))
        print('ready', flush=True)
        while counts['INT'] == 0: time.sleep(0.01)
        time.sleep(0.3)
        print('int=%d' % counts['INT'], flush=True)
        while counts['WINCH'] == 0: time.sleep(0.01)
        time.sleep(0.3)
        print('winch=%d size=%s' % (counts['WINCH'], tuple(os.get_terminal_size(0))), flush=True)
        print('done', flush=True)
        """

    /// argv run under a fresh pty, printing what it wrote (no keys typed).
    static func driverRunning(_ argv: [String]) -> [String] {
        let quiet = """
            import os, pty, sys
            pid, master = pty.fork()
            if pid == 0:
                os.execv(sys.argv[1], sys.argv[1:])
            out = b''
            while True:
                try:
                    data = os.read(master, 4096)
                except OSError:
                    break
                if not data:
                    break
                out += data
            os.waitpid(pid, 0)
            sys.stdout.write(out.decode(errors='replace').replace('\\r', ''))
            """
        return ["/usr/bin/python3", "-c", quiet] + argv
    }

    func testTerminalPassesThroughSignalsArriveOnceAndInjectionIsRefused() {
        for caller in Harness.callers {
            let project = Harness.makeProject(for: caller)
            let run = Harness.launch(["/usr/bin/python3", "-c", Self.driver, Harness.binary, "run"] + python(Self.payload),
                                     as: caller, in: project).finish(timeout: 40)
            XCTAssertTrue(run.stdout.contains("tty True EPERM EPERM EPERM"), "\(caller): \(run.stdout) \(run.stderr)")
            XCTAssertTrue(run.stdout.contains("int=1"), "\(caller): \(run.stdout)")
            XCTAssertTrue(run.stdout.contains("winch=1 size=(111, 33)"), "\(caller): \(run.stdout)")
            XCTAssertTrue(run.stdout.hasSuffix("exit=0\n"), "\(caller): \(run.stdout)")
        }
    }

    func testInjectionWorksWithoutTheSandbox() throws {
        // The control for the test above: on this kernel TIOCSTI really injects, so EPERM
        // inside comes from sbx's filter and not from the kernel's legacy_tiocsti switch.
        let legacy = try? String(contentsOfFile: "/proc/sys/dev/tty/legacy_tiocsti", encoding: .utf8)
        try XCTSkipIf(legacy?.hasPrefix("0") == true, "the kernel refuses TIOCSTI itself")
        let source = """
            import os, fcntl, termios
            m, s = os.openpty(); fcntl.ioctl(s, termios.TIOCSTI, b'x'); print('INJECTED')
            """
        XCTAssertEqual(Harness.launch(["/usr/bin/python3", "-c", source], as: .current, in: Harness.workRoot).finish().stdout,
                       "INJECTED\n")
    }

    func testForeignABISyscallKillsTheProcess() throws {
        // getpid through the i386 entry point (int 0x80) from a 64-bit program: the filter
        // must kill it (SIGSYS) so 32-bit entry points cannot bypass argument checks.
        let project = Harness.makeProject(for: .current)
        let source = project + "/int80.c"
        try "int main(void){long r; __asm__ volatile(\"int $0x80\":\"=a\"(r):\"a\"(20L)); return r > 0 ? 0 : 1;}"
            .write(toFile: source, atomically: true, encoding: .utf8)
        // gcc is an install dependency: without it this fails, it is not skipped.
        let compiled = Harness.shell(["cc", "-o", project + "/int80", source])
        XCTAssertEqual(compiled, 0, "cannot compile the probe: run scripts/install-deps")
        guard compiled == 0 else { return }
        XCTAssertEqual(Harness.launch([project + "/int80"], as: .current, in: project).finish().status, 0,
                       "control: int 0x80 works outside")
        XCTAssertEqual(Harness.sbx(["run", "--", project + "/int80"], as: .current, in: project).status, 128 + SIGSYS)
    }

    func testX32SyscallKillsTheProcess() throws {
        // getpid through the x32 ABI (the syscall instruction, with __X32_SYSCALL_BIT in the
        // number): outside, the kernel answers (ENOSYS where x32 is not built in, as on Debian
        // and Ubuntu); inside, the filter kills the process (SIGSYS).
        let project = Harness.makeProject(for: .current)
        let source = project + "/x32.c"
        try """
            int main(void){long r; __asm__ volatile("syscall":"=a"(r):"a"(0x40000000L|39L):"rcx","r11","memory");
            return r == -38 || r > 0 ? 0 : 1;}
            """.write(toFile: source, atomically: true, encoding: .utf8)
        let compiled = Harness.shell(["cc", "-o", project + "/x32", source])
        XCTAssertEqual(compiled, 0, "cannot compile the probe: run scripts/install-deps")
        guard compiled == 0 else { return }
        XCTAssertEqual(Harness.launch([project + "/x32"], as: .current, in: project).finish().status, 0,
                       "control: the x32 call returns outside")
        XCTAssertEqual(Harness.sbx(["run", "--", project + "/x32"], as: .current, in: project).status, 128 + SIGSYS)
    }
}
