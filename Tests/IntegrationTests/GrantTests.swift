import XCTest

/// Grants that cannot be turned against the host: no system directory, no private directory
/// of the sandbox, no home without asking, no symlink the sandbox could have planted. Each
/// refusal is tried for real, with a control showing the same attempt works without the wall.
final class GrantTests: XCTestCase {
    func write(_ text: String, to path: String, owner caller: Caller) {
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        if caller == .unprivileged { chown(path, Harness.unprivilegedIDs.uid, Harness.unprivilegedIDs.gid) }
    }

    func makeDirectory(_ path: String, owner caller: Caller) {
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        if caller == .unprivileged { chown(path, Harness.unprivilegedIDs.uid, Harness.unprivilegedIDs.gid) }
    }

    func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    /// `/`, the system directories, the sandbox's private ones and what lies below /proc and
    /// /sys: refused (125, the flag named, the command never runs), by `run` and `explain`;
    /// checked after `..` and symlinks.
    func testSystemAndPrivateDirectoriesCannotBeGranted() {
        for caller in Harness.callers {
            let project = Harness.makeProject(for: caller)
            let link = project + "-to-root"
            symlink("/", link)
            let refused: [[String]] = [
                ["--rw", "/"], ["--rw", "/proc"], ["--rw", "/sys"], ["--rw", "/dev"], ["--rw", "/tmp"], ["--rw", "/run"],
                ["--rw", "/etc"], ["--rw", "/usr"], ["--rw", "/var"], ["--rw", "/bin"], ["--rw", "/dev/shm"],
                ["--rw", "/proc/sys/kernel"], ["--rw", "/proc/self/../sys"], ["--rw", "../../../../../../.."], ["--rw", link],
                ["--ro", "/"], ["--ro", "/proc"], ["--ro", "/proc/1"], ["--ro", "/tmp"], ["--ro", "/run"],
                ["--project", "/etc"], ["--project", "/var"], ["--project", "/usr"],
            ]
            for arguments in refused {
                for command in ["run", "explain"] {
                    let result = Harness.sbx([command] + arguments + (command == "run" ? ["--", "/bin/touch", project + "/ran"] : []),
                                             as: caller, in: project)
                    XCTAssertEqual(result.status, 125, "\(caller) \(command) \(arguments): \(result.stderr)")
                    XCTAssertTrue(result.stderr.hasPrefix("sbx: \(arguments[0])"), "\(caller) \(command) \(arguments): \(result.stderr)")
                }
                XCTAssertFalse(exists(project + "/ran"), "\(caller) \(arguments): the command ran")
            }

            // A profile entry that resolves to / through '..' names its file, line and key.
            write("[filesystem]\nwrite = [\"${PROJECT}/../../../../../../../../\"]\n", to: project + "/up.toml", owner: caller)
            let up = Harness.sbx(["run", "--profile", "./up.toml", "--", "/bin/touch", project + "/ran"], as: caller, in: project)
            XCTAssertEqual(up.status, 125, "\(caller): \(up.stderr)")
            XCTAssertTrue(up.stderr.contains("up.toml:2:") && up.stderr.contains("filesystem.write: / is the whole machine"),
                          "\(caller): \(up.stderr)")
            XCTAssertFalse(exists(project + "/ran"))

            // The escape tried for real: the host's /tmp granted would take the marker out.
            let marker = "sbx-grant-marker-\(getpid())-\(caller == .current ? "c" : "u")"
            let escape = Harness.sbx(["run", "--rw", "/tmp", "--", "/bin/sh", "-c", "echo x > /tmp/\(marker)"], as: caller, in: project)
            XCTAssertEqual(escape.status, 125, "\(caller): \(escape.stderr)")
            XCTAssertFalse(exists("/tmp/" + marker), "\(caller): the host's /tmp was written")
            // Control: the same write to a directory below /tmp that is granted goes through,
            // and so does a grant below a system directory (/var/tmp).
            let granted = project + "-granted"
            makeDirectory(granted, owner: caller)
            let below = "/var/tmp/sbx-it-\(getpid())-\(caller == .current ? "c" : "u")"
            makeDirectory(below, owner: caller)
            defer { try? FileManager.default.removeItem(atPath: below) }
            let control = Harness.sbx(["run", "--rw", granted, "--rw", below, "--", "/bin/sh", "-c",
                                       "echo x > \(granted)/\(marker) && echo x > \(below)/\(marker)"], as: caller, in: project)
            XCTAssertEqual(control.status, 0, "\(caller): \(control.stderr)")
            XCTAssertTrue(exists(granted + "/" + marker) && exists(below + "/" + marker), "control \(caller)")
            // A device below the private /dev, as a profile for a VM would grant it.
            if exists("/dev/kvm") {
                let device = Harness.sbx(["run", "--rw", "/dev/kvm", "--", "/usr/bin/test", "-c", "/dev/kvm"], as: caller, in: project)
                XCTAssertEqual(device.status, 0, "\(caller): \(device.stderr)")
            }
        }
    }

    /// A fake home (HOME points at it), with the parents of its persistence surface.
    func makeHome(for caller: Caller) -> String {
        let home = Harness.makeProject(for: caller) + "/home"
        for directory in ["", "/.config", "/.local"] { makeDirectory(home + directory, owner: caller) }
        return home
    }

    static let plant = """
        mkdir -p .local/bin && echo x > .local/bin/ls || echo ls-refused
        mkdir -p .config/autostart && echo x > .config/autostart/x.desktop || echo autostart-refused
        mkdir -p .config/systemd/user && echo x > .config/systemd/user/x.service || echo service-refused
        mkdir -p .ssh && echo x >> .ssh/authorized_keys || echo ssh-refused
        echo x >> .bashrc || echo bashrc-refused
        echo x > notes.txt && echo notes-written
        """

    /// The home (or a parent of it) as the project or a write root: refused without
    /// --allow-writable-home; with it, the home's startup files still cannot be planted.
    func testTheHomeIsGrantedOnlyWhenAskedAndItsStartupFilesStayReadOnly() {
        for caller in Harness.callers {
            let home = makeHome(for: caller)
            let parent = (home as NSString).deletingLastPathComponent
            let environment = ["HOME": home]
            for arguments in [[], ["--project", parent], ["--rw", home], ["--rw", parent]] {
                let result = Harness.sbx(["run"] + arguments + ["--", "/bin/touch", home + "/ran"], as: caller, in: home,
                                         environment: environment)
                XCTAssertEqual(result.status, 125, "\(caller) \(arguments): \(result.stderr)")
                XCTAssertTrue(result.stderr.contains("is your home directory or contains it")
                              && result.stderr.contains("--allow-writable-home"), "\(caller) \(arguments): \(result.stderr)")
                XCTAssertFalse(exists(home + "/ran"), "\(caller) \(arguments)")
            }

            let allowed = Harness.sbx(["run", "--allow-writable-home", "--", "/bin/sh", "-c", Self.plant], as: caller, in: home,
                                      environment: environment)
            XCTAssertEqual(allowed.status, 0, "\(caller): \(allowed.stderr)")
            XCTAssertEqual(allowed.stdout, "ls-refused\nautostart-refused\nservice-refused\nssh-refused\nbashrc-refused\nnotes-written\n",
                           "\(caller): \(allowed.stderr)")
            XCTAssertFalse(exists(home + "/.local/bin/ls") || exists(home + "/.config/autostart/x.desktop"), "\(caller): planted")
            XCTAssertFalse(exists(home + "/.local/bin") || exists(home + "/.config/autostart") || exists(home + "/.ssh"),
                           "\(caller): something was left in the home")
            XCTAssertTrue(exists(home + "/notes.txt"), "\(caller)")
            // The profile key says the same; a project's .sbx.toml cannot (it would widen).
            write("[filesystem]\nallow_writable_home = true\n", to: home + "/.sbx.toml", owner: caller)
            let fromProject = Harness.sbx(["run", "--", "/bin/true"], as: caller, in: home, environment: environment)
            XCTAssertEqual(fromProject.status, 125, "\(caller): \(fromProject.stderr)")
            XCTAssertTrue(fromProject.stderr.contains("filesystem.allow_writable_home"), "\(caller): \(fromProject.stderr)")
            let fromProfile = Harness.sbx(["run", "--profile", "./.sbx.toml", "--", "/bin/sh", "-c", "echo x > .local/bin/ls || echo ls-refused"],
                                          as: caller, in: home, environment: environment)
            XCTAssertEqual(fromProfile.stdout, "ls-refused\n", "\(caller): \(fromProfile.stderr)")

            // Control: the same directory, not the home, gets them all.
            let control = Harness.sbx(["run", "--no-project-profile", "--", "/bin/sh", "-c", Self.plant], as: caller, in: home,
                                      environment: ["HOME": makeHome(for: caller)])
            XCTAssertEqual(control.status, 0, "\(caller): \(control.stderr)")
            XCTAssertTrue(exists(home + "/.local/bin/ls") && exists(home + "/.config/autostart/x.desktop"), "control \(caller)")
        }
    }

    /// A link planted by one run cannot turn the next run's grant somewhere else: a
    /// project-internal link (`cache -> ../victim`) and one out of it (`ua/src -> DIR`, as
    /// `src -> /etc` would be). Naming the real path works.
    func testGrantsDoNotFollowLinksARunCouldHavePlanted() {
        for caller in Harness.callers {
            let base = Harness.makeProject(for: caller)
            let project = base + "/project", victim = base + "/victim", fakeEtc = base + "/etc"
            for directory in [project, victim, fakeEtc] { makeDirectory(directory, owner: caller) }
            let plant = Harness.sbx(["run", "--", "/bin/sh", "-c", "ln -s ../victim cache && mkdir ua && ln -s \(fakeEtc) ua/src"],
                                    as: caller, in: project)
            XCTAssertEqual(plant.status, 0, "\(caller): \(plant.stderr)")
            write("[filesystem]\nwrite = [\"${PROJECT}/cache/\"]\n", to: base + "/cache.toml", owner: caller)

            let attempts: [(arguments: [String], link: String, origin: String)] = [
                (["--profile", base + "/cache.toml"], project + "/cache", "cache.toml:2:"),
                (["--rw", "cache"], project + "/cache", "sbx: --rw: "),
                (["--rw", "ua/src"], project + "/ua/src", "sbx: --rw: "),
                (["--rw", "ua/src/sub/"], project + "/ua/src", "sbx: --rw: "),
            ]
            for attempt in attempts {
                for command in ["run", "explain"] {
                    let result = Harness.sbx([command] + attempt.arguments + (command == "run" ? ["--", "/bin/sh", "-c",
                                             "echo x > cache/evil; echo x > ua/src/evil; true"] : []), as: caller, in: project)
                    XCTAssertEqual(result.status, 125, "\(caller) \(command) \(attempt.arguments): \(result.stderr)")
                    XCTAssertTrue(result.stderr.contains(attempt.origin) && result.stderr.contains("\(attempt.link) is a symbolic link"),
                                  "\(caller) \(command) \(attempt.arguments): \(result.stderr)")
                }
            }
            XCTAssertFalse(exists(victim + "/evil") || exists(fakeEtc + "/evil") || exists(fakeEtc + "/sub"), "\(caller): written through a link")

            // Control: the real paths, named, are granted, and the same writes go through.
            let control = Harness.sbx(["run", "--rw", victim, "--rw", fakeEtc, "--", "/bin/sh", "-c",
                                       "echo x > cache/evil && echo x > ua/src/evil"], as: caller, in: project)
            XCTAssertEqual(control.status, 0, "\(caller): \(control.stderr)")
            XCTAssertTrue(exists(victim + "/evil") && exists(fakeEtc + "/evil"), "control \(caller)")
        }
    }

    /// A link the user made outside the writable roots is followed, but not into a hidden path.
    func testALinkCannotLeadAGrantIntoAHiddenPath() {
        for caller in Harness.callers {
            let base = Harness.makeProject(for: caller)
            let project = base + "/project", secret = base + "/secret"
            for directory in [project, secret + "/keys"] { makeDirectory(directory, owner: caller) }
            symlink(secret + "/keys", base + "/keys-link")
            write("[filesystem]\nhide = [\"\(secret)\"]\n", to: base + "/hide.toml", owner: caller)
            for option in ["--rw", "--ro"] {
                let result = Harness.sbx(["run", "--profile", base + "/hide.toml", option, base + "/keys-link", "--", "/bin/ls", base + "/keys-link"],
                                         as: caller, in: project)
                XCTAssertEqual(result.status, 125, "\(caller) \(option): \(result.stderr)")
                XCTAssertTrue(result.stderr.contains("into \(secret), which is hidden"), "\(caller) \(option): \(result.stderr)")
            }
            // Control: without the hide entry, the link is followed (and its target is what is
            // mounted: the link itself lies in /tmp, private inside).
            let control = Harness.sbx(["run", "--rw", base + "/keys-link", "--", "/bin/touch", secret + "/keys/made"], as: caller, in: project)
            XCTAssertEqual(control.status, 0, "\(caller): \(control.stderr)")
            XCTAssertTrue(exists(secret + "/keys/made"), "control \(caller)")
        }
    }
}
