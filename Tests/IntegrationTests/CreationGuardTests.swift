import XCTest

/// The creation guard (Sources/SandboxCore/CreationGuard.swift) refuses the protected names
/// only: everything else an agent does next to them (the project root, mostly) works as
/// without it, through the init, and no race of the command's memory gets a protected name made.
final class CreationGuardTests: XCTestCase {
    static let git = "git -c user.email=t@t -c user.name=t -c init.defaultBranch=main"

    func committedRepository(for caller: Caller) -> String {
        let project = Harness.makeProject(for: caller)
        let owner = caller == .unprivileged ? "sbxtest:sbxtest" : "root:root"
        let git = Self.git + " -c safe.directory='*'"
        XCTAssertEqual(Harness.shell(["sh", "-c", "cd \(project) && \(git) init -q && echo a > a && \(git) add a && \(git) commit -qm one && chown -R \(owner) ."]), 0)
        return project
    }

    /// An agent's work in the project root, where the layer refuses every name and the init
    /// makes them: modes from the umask, O_EXCL and O_APPEND kept, renames in and out, links,
    /// FIFOs, directories removed and made again (`rm -rf build && mkdir build`), a nested
    /// repository, and a commit of exactly what was written.
    func testAnAgentsWorkInTheProjectRootWorks() {
        for caller in Harness.callers {
            let project = committedRepository(for: caller)
            let result = Harness.sbx(["run", "--", "/bin/sh", "-c", """
                set -e
                umask 077; echo a > private.txt; stat -c %a private.txt; umask 022
                mkdir build; echo o > build/out; rm -rf build; mkdir build; echo o2 > build/out2; cat build/out2
                echo r > new.txt; mv new.txt renamed.txt; mv renamed.txt build/; mv build/renamed.txt .; cat renamed.txt
                ln renamed.txt hard.txt; ln -s renamed.txt soft.txt; cat soft.txt
                mkfifo pipe; (cat pipe > got &); echo through > pipe; sleep 0.2; cat got; rm pipe got
                set -C; if (echo x > renamed.txt) 2>/dev/null; then echo clobbered; else echo noclobber; fi; set +C
                echo tail >> renamed.txt; cat renamed.txt
                python3 -c 'import os; fd = os.open("excl", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o640); os.write(fd, b"e"); print(oct(os.stat("excl").st_mode & 0o777))'
                python3 -c 'import os
                try:
                    os.open("excl", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
                except FileExistsError:
                    print("exists")
                try:
                    os.open("nodir/", os.O_CREAT | os.O_WRONLY)
                except IsADirectoryError:
                    print("trailing slash:", os.path.exists("nodir"))'
                exec 3>fd3.txt; echo three >&3; cat fd3.txt
                mkdir -p src; python3 -c 'import os
                open("n1", "w").close(); os.rename("n1", "src/n1"); os.rename("src/n1", "n2")
                open("src/n3", "w").close(); os.rename("n2", "src/n3"); os.link("src/n3", "hl"); os.link("hl", "src/hl2")
                print(sorted(os.listdir("src")), os.path.exists("hl"))'
                rm -r src hl
                python3 -c 'import socket
                server = socket.socket(socket.AF_UNIX); server.bind("app.sock"); server.listen()
                client = socket.socket(socket.AF_UNIX); client.connect("app.sock"); client.send(b"served")
                print(server.accept()[0].recv(6).decode())'
                rm app.sock
                \(Self.git) init -q sub; cd sub; echo s > s; git add s; \(Self.git) commit -qm sub; git log --format=%s; cd ..
                rm -rf sub private.txt hard.txt soft.txt excl fd3.txt
                git add -A; \(Self.git) commit -qm agent; git show --name-only --format= HEAD
                """], as: caller, in: project)
            XCTAssertEqual(result.status, 0, "\(caller): \(result.stderr)")
            XCTAssertEqual(result.stdout, """
                600
                o2
                r
                r
                through
                noclobber
                r
                tail
                0o640
                exists
                trailing slash: False
                three
                ['hl2', 'n3'] True
                served
                sub
                build/out2
                renamed.txt

                """, "\(caller): \(result.stderr)")
            XCTAssertEqual(try? String(contentsOfFile: project + "/renamed.txt", encoding: .utf8), "r\ntail\n", "\(caller): on the host")
        }
    }

    /// Thousands of names made in the project root, one notification each: all there, in order.
    func testManyNamesInTheProjectRoot() {
        let project = committedRepository(for: .current)
        let result = Harness.sbx(["run", "--", "/bin/sh", "-c",
                                  "i=0; while [ $i -lt 2000 ]; do echo $i > f$i; i=$((i+1)); done; ls | grep -c '^f'; cat f1999"],
                                 as: .current, in: project, timeout: 120)
        XCTAssertEqual(result.stdout, "2000\n1999\n", result.stderr)
    }

    /// The guard reads a path from the command's memory, which another thread can change
    /// meanwhile: a thread flips a name between a harmless one and .envrc while another opens,
    /// renames onto or links to it, in the root (where the init creates) and from a
    /// subdirectory (where the kernel does). Landlock refuses .envrc whichever side wins, so it
    /// never exists; both names were tried (the harmless one made, .envrc refused).
    func testRacingThePathNeverMakesAProtectedName() {
        let attacker = """
            import ctypes, os, sys, threading, time
            libc = ctypes.CDLL(None, use_errno=True)
            os.mkdir("sub")
            open("source", "w").close()
            results = []
            for operation in ("open", "rename", "link"):
                for harmless in (b"harmless", b"sub/harmless"):
                    name = ctypes.create_string_buffer(64)
                    stop = []
                    def flip():
                        i = 0
                        while not stop:
                            name.value = (harmless, b".envrc")[i & 1]
                            i += 1
                    thread = threading.Thread(target=flip)
                    thread.start()
                    made = refused = 0
                    end = time.time() + 1
                    while time.time() < end and not os.path.lexists(".envrc"):
                        if operation == "open":
                            fd = libc.open(name, os.O_CREAT | os.O_WRONLY, 0o644)
                            ok = fd >= 0
                            if ok: libc.close(fd)
                        elif operation == "rename":
                            open("moved", "w").close()
                            ok = libc.rename(b"moved", name) == 0
                        else:
                            ok = libc.link(b"source", name) == 0
                        if ok:
                            made += 1
                            for path in (harmless.decode(),):
                                if os.path.lexists(path): os.unlink(path)
                        elif ctypes.get_errno() == 13:
                            refused += 1
                    stop.append(1)
                    thread.join()
                    results.append((operation, harmless.decode(), made > 0, refused > 0))
            print("envrc" if os.path.lexists(".envrc") else "no-envrc")
            print(all(m and r for _, _, m, r in results), results)
            """
        for caller in Harness.callers {
            let project = committedRepository(for: caller)
            let result = Harness.sbx(["run", "--", "/usr/bin/python3", "-c", attacker], as: caller, in: project, timeout: 60)
            let lines = result.stdout.split(separator: "\n")
            XCTAssertEqual(lines.first, "no-envrc", "\(caller): \(result.stdout) \(result.stderr)")
            XCTAssertEqual(lines.dropFirst().first?.hasPrefix("True"), true, "\(caller): \(result.stdout) \(result.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: project + "/.envrc"), "\(caller)")
            // Control: without the protection, the same attacker makes .envrc.
            let open = Harness.makeProject(for: caller, "profile") + "/p.toml"
            FileManager.default.createFile(atPath: open, contents: Data("extends = [\"default\"]\n[filesystem]\nprotect = [\"!.envrc\"]\n".utf8))
            chmod(open, 0o644)
            let control = Harness.sbx(["run", "--profile", open, "--", "/usr/bin/python3", "-c", attacker],
                                      as: caller, in: committedRepository(for: caller), timeout: 60)
            XCTAssertEqual(control.stdout.split(separator: "\n").first, "envrc", "control \(caller): \(control.stdout) \(control.stderr)")
        }
    }
}
