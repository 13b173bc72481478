import XCTest

/// README: "One static binary". glibc's name service (getaddrinfo for the proxy, getpwuid for
/// the home when $HOME is unset) in a static binary loads no shared library for `files` and
/// `dns`. Checked in a mount namespace of the test's where the shared libraries are hidden (a
/// tmpfs over /usr/lib/x86_64-linux-gnu, which /lib and /lib64 lead to) and /etc/hosts names
/// `nss.test`: the proxy resolves it (no --add-host) for `sbx connect` run inside, itself
/// static; `sbx explain` without HOME finds the home in the password database; an Ubuntu-like
/// nsswitch.conf naming modules that cannot load changes nothing. The control: a dynamic
/// program does not even start there.
final class StaticBinaryTests: XCTestCase {
    func testNameServiceWorksWithoutSharedLibraries() throws {
        guard Harness.isRoot else { throw XCTSkip("needs root: a mount namespace hides the shared libraries from sbx") }
        let libraries = "/usr/lib/x86_64-linux-gnu"
        try XCTSkipUnless(FileManager.default.fileExists(atPath: libraries + "/libc.so.6"), "not an x86-64 Debian or Ubuntu layout")
        let site = Harness.makeProject(for: .current, "site")
        FileManager.default.createFile(atPath: site + "/hello", contents: Data("hello from upstream\n".utf8))
        var failure = ""
        let upstream = try XCTUnwrap(LoopbackHTTPServer(serving: site, failure: &failure), failure)
        defer { upstream.stop() }
        let p = upstream.port
        let files = Harness.makeProject(for: .current, "nss")
        FileManager.default.createFile(atPath: files + "/hosts", contents: Data("127.0.0.1 localhost\n127.0.0.1 nss.test\n".utf8))
        FileManager.default.createFile(atPath: files + "/nsswitch.conf", contents: Data("""
            passwd: files systemd
            group: files systemd
            hosts: files mdns4_minimal [NOTFOUND=return] resolve [!UNAVAIL=return] dns
            """.utf8))
        FileManager.default.createFile(atPath: files + "/request", contents: Data("GET /hello HTTP/1.0\r\nHost: nss.test\r\n\r\n".utf8))

        /// argv run with the libraries hidden, stdin from the request, after `mounts`.
        func hidden(_ argv: [String], mounts: String = "", environment: [String: String] = [:]) -> RunResult {
            let script = "\(mounts) mount --bind \(files)/hosts /etc/hosts && mount -t tmpfs -o size=1m tmpfs \(libraries) && exec \"$@\" < \(files)/request"
            return Harness.launch(["/usr/bin/unshare", "-m", "--propagation", "private", "/bin/sh", "-c", script, "sh"] + argv,
                                  as: .current, in: site, environment: environment).finish()
        }

        XCTAssertEqual(hidden(["/bin/true"]).status, 127, "control: the libraries are hidden, a dynamic program cannot start")
        let home = try XCTUnwrap(getpwuid(getuid()).map { String(cString: $0.pointee.pw_dir) })
        for mounts in ["", "mount --bind \(files)/nsswitch.conf /etc/nsswitch.conf &&"] {
            let run = hidden([Harness.binary, "run", "--allow-domain", "nss.test:\(p)", "--ro", Harness.binary, "--verbose", "--",
                              Harness.binary, "connect", "nss.test", String(p)], mounts: mounts)
            XCTAssertEqual(run.status, 0, "\(mounts): \(run.stderr)")
            XCTAssertTrue(run.stdout.hasPrefix("HTTP/1.0 200 OK"), "\(mounts): \(run.stdout)")
            XCTAssertTrue(run.stdout.hasSuffix("\r\n\r\nhello from upstream\n"), "\(mounts): \(run.stdout)")
            let connection = try XCTUnwrap(try auditEvents(run).first { $0["event"] as? String == "connection" })
            XCTAssertEqual(connection["address"] as? String, "127.0.0.1", "resolved from /etc/hosts: \(connection)")

            let explain = hidden([Harness.binary, "explain"], mounts: mounts, environment: ["HOME": ""])
            XCTAssertEqual(explain.status, 0, explain.stderr)
            XCTAssertTrue(explain.stdout.contains("filesystem.hide      \(home)/.ssh "), "the home from getpwuid: \(explain.stdout)")
        }
    }
}
