import XCTest

/// Host unix sockets at paths the sandbox sees (outside /tmp and /run, which are private) are
/// covered unless a profile names them in `filesystem.sockets`: a read-only mount does not stop
/// connect(). Covered: the sockets bound when the run starts. Not covered: one a host program
/// binds at a visible path while the run lasts (pinned below, and said in sbx.1).
final class SocketTests: XCTestCase {
    /// A directory under /var/tmp (visible inside, read-only), removed after the test.
    func makeVisibleDirectory() -> String {
        let directory = "/var/tmp/sbx-it-sockets-\(getpid())-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        chmod(directory, 0o755)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: directory) }
        return directory
    }

    /// A host server on `path` answering "hello" to each connection, for `seconds`.
    func serve(_ path: String, after delay: Double = 0, seconds: Int = 20) -> Launched {
        let server = Harness.launch(["/usr/bin/python3", "-c", """
            import os, socket, time
            time.sleep(\(delay))
            s = socket.socket(socket.AF_UNIX)
            s.bind(\"\(path)\")
            os.chmod(\"\(path)\", 0o777)
            s.listen(8)
            s.settimeout(\(seconds))
            try:
                while True:
                    c, _ = s.accept()
                    c.sendall(b"hello")
                    c.close()
            except OSError:
                pass
            """], as: .current, in: "/")
        addTeardownBlock { kill(server.pid, SIGTERM); _ = server.finish() }
        return server
    }

    static let probe = """
        import socket, sys, time
        time.sleep(float(sys.argv[2]))
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(sys.argv[1])
            print(s.recv(16).decode())
        except OSError as e:
            print("refused")
        """

    func testAHostSocketAtAVisiblePathIsUnreachableUnlessNamed() {
        let directory = makeVisibleDirectory()
        let path = directory + "/other.sock"
        let server = serve(path)
        XCTAssertTrue(server.wait(until: { FileManager.default.fileExists(atPath: path) }))
        for caller in Harness.callers {
            let project = Harness.makeProject(for: caller)
            let result = Harness.sbx(["run", "--", "/usr/bin/python3", "-c", Self.probe, path, "0"], as: caller, in: project)
            XCTAssertEqual(result.stdout, "refused\n", "\(caller): \(result.stderr)")
            // Control: named in the profile, the same connect reaches the server.
            FileManager.default.createFile(atPath: project + "/p.toml", contents: Data(
                "extends = [\"default\"]\n[filesystem]\nsockets = [\"\(path)\"]\n".utf8))
            let named = Harness.sbx(["run", "--profile", "./p.toml", "--", "/usr/bin/python3", "-c", Self.probe, path, "0"],
                                    as: caller, in: project)
            XCTAssertEqual(named.stdout, "hello\n", "\(caller): \(named.stderr)")
            let explain = Harness.sbx(["explain"], as: caller, in: project)
            XCTAssertTrue(explain.stdout.contains("a unix socket of the host's"), explain.stdout)
        }
    }

    /// The limit, pinned: a socket the host binds at a visible path after the start is reached.
    func testAHostSocketBoundDuringTheRunIsNotCovered() {
        let path = makeVisibleDirectory() + "/later.sock"
        _ = serve(path, after: 1.5)
        let result = Harness.sbx(["run", "--", "/usr/bin/python3", "-c", Self.probe, path, "3"], as: .current,
                                 in: Harness.makeProject(for: .current))
        XCTAssertEqual(result.stdout, "hello\n", result.stderr)
    }

    /// The sandbox's own sockets in the project keep working (a language server, a test database).
    func testTheSandboxsOwnSocketInTheProjectWorks() {
        for caller in Harness.callers {
            let result = Harness.sbx(["run", "--", "/usr/bin/python3", "-c", """
                import os, socket, threading
                s = socket.socket(socket.AF_UNIX); s.bind("own.sock"); s.listen(1)
                def answer():
                    c, _ = s.accept(); c.sendall(b"own"); c.close()
                threading.Thread(target=answer).start()
                c = socket.socket(socket.AF_UNIX); c.connect("own.sock"); print(c.recv(8).decode())
                """], as: caller, in: Harness.makeProject(for: caller))
            XCTAssertEqual(result.stdout, "own\n", "\(caller): \(result.stderr)")
        }
    }

    func testANamedPathThatIsNotASocketIsRefused() {
        let project = Harness.makeProject(for: .current)
        FileManager.default.createFile(atPath: project + "/p.toml", contents: Data(
            "extends = [\"default\"]\n[filesystem]\nsockets = [\"/etc/hostname\"]\n".utf8))
        let result = Harness.sbx(["run", "--profile", "./p.toml", "--", "/bin/true"], as: .current, in: project)
        XCTAssertEqual(result.status, 125, result.stderr)
        XCTAssertTrue(result.stderr.contains("p.toml:3:") && result.stderr.contains("filesystem.sockets")
                      && result.stderr.contains("is not a unix socket"), result.stderr)
    }
}
