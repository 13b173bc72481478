import XCTest

/// README, "A terminal that works": sbx does not detach the terminal, so `bash -i` keeps job
/// control. Under a real pty: Ctrl-Z stops a foreground job, `jobs` lists it, `fg` brings it
/// back and Ctrl-C ends it. The control: `tty = false` (a new session, no controlling
/// terminal) and bash says it has no job control, which the test would see.
final class JobControlTests: XCTestCase {
    /// Runs argv under a new pty. "full": types a session (sleep, Ctrl-Z, jobs, fg, Ctrl-C,
    /// exit); "start": only exit. Prints what the terminal showed, then "exit=N".
    static let driver = """
        import os, pty, re, select, sys, time
        mode = sys.argv[1]
        pid, master = pty.fork()
        if pid == 0:
            os.execv(sys.argv[2], sys.argv[2:])
        out = b''
        def read_until(token, timeout=10):
            global out
            end = time.time() + timeout
            while (token is None or token not in out) and time.time() < end:
                if select.select([master], [], [], 0.05)[0]:
                    try:
                        data = os.read(master, 4096)
                    except OSError:
                        return
                    if not data:
                        return
                    out += data
        read_until(b'$ ')
        if mode == 'full':
            os.write(master, b'sleep 30\\n'); read_until(b'sleep 30\\r\\n'); time.sleep(1)
            os.write(master, b'\\x1a'); read_until(b'Stopped')
            os.write(master, b'jobs; echo "jobs-$((6*7))"\\n'); read_until(b'jobs-42')
            os.write(master, b'fg\\n'); read_until(b'$ fg\\r\\n'); read_until(b'sleep 30\\r\\n'); time.sleep(0.5)
            os.write(master, b'\\x03'); time.sleep(0.5)
            os.write(master, b'echo "status-$?"\\n'); read_until(b'status-')
        os.write(master, b'exit 0\\n'); read_until(None)
        _, status = os.waitpid(pid, 0)
        text = re.sub(r'\\x1b\\[\\?2004[hl]', '', out.decode(errors='replace')).replace('\\r', '')
        sys.stdout.write(text + 'exit=%d\\n' % os.waitstatus_to_exitcode(status))
        """

    func session(_ mode: String, _ flags: [String] = [], as caller: Caller) -> RunResult {
        let project = Harness.makeProject(for: caller)
        FileManager.default.createFile(atPath: project + "/notty.toml", contents: Data("[process]\ntty = false\n".utf8))
        return Harness.launch(["/usr/bin/python3", "-c", Self.driver, mode, Harness.binary, "run"] + flags
                              + ["--env", "PS1=$ ", "--", "/bin/bash", "--norc", "--noprofile", "-i"], as: caller, in: project)
            .finish(timeout: 60)
    }

    func testBashKeepsJobControl() {
        for caller in Harness.callers {
            let out = session("full", as: caller).stdout
            XCTAssertFalse(out.contains("no job control"), "\(caller): \(out)")
            XCTAssertFalse(out.contains("cannot set terminal process group"), "\(caller): \(out)")
            XCTAssertEqual(out.components(separatedBy: "[1]+  Stopped                 sleep 30\n").count - 1, 2,
                           "\(caller): Ctrl-Z stops the job and jobs lists it: \(out)")
            XCTAssertTrue(out.contains("jobs-42\n"), "\(caller): \(out)")
            XCTAssertTrue(out.contains("status-130\n"), "\(caller): fg, then Ctrl-C ends the job: \(out)")
            XCTAssertTrue(out.hasSuffix("exit=0\n"), "\(caller): \(out)")
        }
    }

    func testWithoutTheTerminalBashSaysItHasNoJobControl() {
        let out = session("start", ["--profile", "./notty.toml"], as: .current).stdout
        XCTAssertTrue(out.contains("bash: no job control in this shell"), out)
        XCTAssertTrue(out.hasSuffix("exit=0\n"), out)
    }
}
