import XCTest

/// README: `GIT_SSH_COMMAND` sends ssh through `sbx connect HOST PORT`, so git over SSH works
/// where `host:PORT` is allowed. A real sshd (openssh-server, an install dependency) on the
/// host's 127.0.0.1, with a throwaway host key and configuration of its own, never the
/// system's; a bare repository cloned and pushed to from the sandbox, the host key checked.
/// The audit file says `connect` (sbx connect's CONNECT): the control, with sbx's
/// GIT_SSH_COMMAND dropped, reaches the same server through the transparent side instead, so
/// the check can tell the two apart.
final class GitOverSSHTests: XCTestCase {
    static let setup = """
        set -e
        D=$1; PORT=$2
        cd "$D"
        ssh-keygen -q -t ed25519 -N '' -f hostkey -C sbx-test-host
        ssh-keygen -q -t ed25519 -N '' -f key -C sbx-test-client
        cp key.pub authorized_keys
        cat > sshd_config <<CFG
        Port $PORT
        ListenAddress 127.0.0.1
        HostKey $D/hostkey
        AuthorizedKeysFile $D/authorized_keys
        PasswordAuthentication no
        KbdInteractiveAuthentication no
        UsePAM no
        StrictModes no
                PermitRootLogin prohibit-password
        CFG
        echo "[git.test]:$PORT $(cat hostkey.pub)" > known_hosts
        git init -q --bare repo.git
        git init -q work; echo "hello from git" > work/README
        git -C work add README; git -C work -c user.name=t -c user.email=t@t.test commit -qm init
        git -C work push -q "$D/repo.git" HEAD:refs/heads/main
        git --git-dir repo.git symbolic-ref HEAD refs/heads/main
        """

    /// A port free on the host's loopback right now.
    func freePort() throws -> Int {
        let out = Harness.launch(["/usr/bin/python3", "-c", "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"],
                                 as: .current, in: Harness.workRoot).finish()
        return try XCTUnwrap(Int(out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), out.stderr)
    }

    func testGitOverSSHGoesThroughSbxConnect() throws {
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd"), "/usr/sbin/sshd is missing: run scripts/install-deps")
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: "/usr/bin/ssh"), "/usr/bin/ssh is missing: run scripts/install-deps")
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd") else { return }
        for caller in Harness.callers {
            let user = caller == .unprivileged ? Harness.testUser : (getpwuid(getuid()).map { String(cString: $0.pointee.pw_name) } ?? "root")
            let server = Harness.makeProject(for: caller, "sshd")
            let port = try freePort()
            let made = Harness.launch(["/bin/bash", "-c", Self.setup, "setup", server, String(port)], as: caller, in: server).finish()
            XCTAssertEqual(made.status, 0, "\(caller): setting up the server's files: \(made.stderr)")
            // sshd as the caller, in the background on its own (its pid in sshd.pid, its log in
            // sshd.log). As root it wants /run/sshd: a /run of its own, in a mount namespace of
            // its own, leaves the host's /run alone.
            let sshd = ["/usr/sbin/sshd", "-f", server + "/sshd_config", "-E", server + "/sshd.log", "-o", "PidFile=\(server)/sshd.pid"]
            let started = Harness.isRoot && caller == .current
                ? Harness.launch(["/usr/bin/unshare", "-m", "--propagation", "private", "/bin/sh", "-c",
                                  "mount -t tmpfs -o size=1m tmpfs /run && mkdir -m 755 /run/sshd && exec \"$@\"", "sh"] + sshd,
                                 as: caller, in: server).finish()
                : Harness.launch(sshd, as: caller, in: server).finish()
            XCTAssertEqual(started.status, 0, "\(caller): sshd: \(started.stderr)")
            let log = { (try? String(contentsOfFile: server + "/sshd.log", encoding: .utf8)) ?? "" }
            let pid = { (try? String(contentsOfFile: server + "/sshd.pid", encoding: .utf8)).flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) } }
            defer { if let daemon = pid() { kill(daemon, SIGTERM) } }
            var ready = false
            for _ in 0..<500 where !ready {
                ready = log().contains("Server listening on 127.0.0.1 port \(port)") && pid() != nil
                usleep(20_000)
            }
            XCTAssertTrue(ready, "\(caller): sshd: \(log())")

            let project = Harness.makeProject(for: caller)
            for file in ["key", "known_hosts"] {
                XCTAssertEqual(Harness.shell(["cp", "-p", "\(server)/\(file)", project]), 0)
            }
            let script = { (ssh: String) in """
                export GIT_SSH_COMMAND="\(ssh) -i $PWD/key -o UserKnownHostsFile=$PWD/known_hosts -o StrictHostKeyChecking=yes -o BatchMode=yes"
                git clone -q ssh://\(user)@git.test:\(port)\(server)/repo.git "$2" && cat "$2"/README && cd "$2" &&
                echo "$1" > more && git add more && git -c user.name=t -c user.email=t@t.test commit -qm "$1" && git push -q origin HEAD:main && echo pushed
                """ }
            // The tests' sbx is under the host's /tmp, which the sandbox does not see: --ro shows it.
            let flags = ["run", "--ro", Harness.binary, "--allow-domain", "git.test:\(port)", "--add-host", "git.test=127.0.0.1", "--verbose", "--", "/bin/sh", "-c"]
            // sbx's GIT_SSH_COMMAND, with the key and the known host added to it.
            // A clone of its own per run: a repository in the project is protected in the next run
            // (its .git/config is a mount point, so it cannot be removed).
            let result = Harness.sbx(flags + [script("$GIT_SSH_COMMAND"), "sh", "through sbx connect", "clone1"], as: caller, in: project, timeout: 60)
            XCTAssertEqual(result.stdout, "hello from git\npushed\n", "\(caller): \(result.stderr)")
            let sides = connectionProtocols(try auditEvents(result))
            XCTAssertEqual(sides, ["connect", "connect"], "\(caller): clone and push through sbx connect: \(result.stderr)")
            let history = Harness.launch(["/usr/bin/git", "--git-dir", server + "/repo.git", "log", "--format=%s", "main"], as: caller, in: server).finish()
            XCTAssertEqual(history.stdout, "through sbx connect\ninit\n", "\(caller): the push reached the host's repository: \(history.stderr)")

            // The control: plain ssh, which the transparent side carries.
            let control = Harness.sbx(flags + [script("ssh"), "sh", "plain ssh", "clone2"], as: caller, in: project, timeout: 60)
            XCTAssertEqual(control.stdout, "hello from git\npushed\n", "\(caller) control: \(control.stderr)")
            XCTAssertEqual(connectionProtocols(try auditEvents(control)), ["transparent", "transparent"], "\(caller) control")
        }
    }
}
