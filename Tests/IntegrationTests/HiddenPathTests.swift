import XCTest

/// Hidden paths inside a writable root (issue 13, item 4): the command can neither rename a
/// hidden path, nor a directory above it, to put one of its own in its place on the host; and
/// a protected path inside a `write` path that shows part of a hidden tree again stays
/// read-only. Each attempt has a control showing it works without the wall.
final class HiddenPathTests: XCTestCase {
    func write(_ text: String, to path: String) {
        try! FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    }

    func read(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

    func giveTo(_ caller: Caller, _ project: String) {
        if caller == .unprivileged { XCTAssertEqual(Harness.shell(["chown", "-R", "sbxtest:sbxtest", project]), 0) }
    }

    static let replace = """
        mv config config-moved; mv a a-moved && mkdir -p a/config && echo x > a/config/secrets.json
        mv w w-moved && mkdir -p w/x && echo x > w/x/secrets.json; echo done
        """

    func testAHiddenPathCannotBeReplacedByRenamingItOrItsParent() {
        for caller in Harness.callers {
            let project = Harness.makeProject(for: caller)
            write("real\n", to: project + "/config/secrets.json")
            write("real\n", to: project + "/a/config/secrets.json")
            write("real\n", to: project + "/w/x/secrets.json")
            // w/x: a hidden path that is a writable root itself, pinned in the project.
            write("[filesystem]\nhide = [\"${PROJECT}/config\", \"${PROJECT}/a/config\", \"${PROJECT}/w/x\"]\nwrite = [\"${PROJECT}/w/x\"]\n",
                  to: project + "/hide.toml")
            giveTo(caller, project)
            let result = Harness.sbx(["run", "--profile", "./hide.toml", "--", "/bin/sh", "-c", Self.replace], as: caller, in: project)
            XCTAssertEqual(result.stdout, "done\n", "\(caller): \(result.stderr)")
            for refusal in ["'config' to 'config-moved': Device or resource busy", "'a' to 'a-moved': Device or resource busy",
                            "'w' to 'w-moved': Device or resource busy"] {
                XCTAssertTrue(result.stderr.contains(refusal), "\(caller): \(refusal) expected in \(result.stderr)")
            }
            XCTAssertEqual(read(project + "/config/secrets.json"), "real\n", "\(caller)")
            XCTAssertEqual(read(project + "/a/config/secrets.json"), "real\n", "\(caller): the hidden directory was replaced")
            XCTAssertEqual(read(project + "/w/x/secrets.json"), "real\n", "\(caller): the hidden writable path was replaced")
            XCTAssertFalse(FileManager.default.fileExists(atPath: project + "/a-moved"), "\(caller)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: project + "/w-moved"), "\(caller)")

            // Control: nothing but the pins stands in the way. Without the hide entries the same
            // script replaces a/config on the host (as it did with them before the pins).
            let control = Harness.makeProject(for: caller)
            write("real\n", to: control + "/a/config/secrets.json")
            write("real\n", to: control + "/w/x/secrets.json")
            giveTo(caller, control)
            let unpinned = Harness.sbx(["run", "--", "/bin/sh", "-c", Self.replace], as: caller, in: control)
            XCTAssertEqual(unpinned.stdout, "done\n", "control \(caller): \(unpinned.stderr)")
            XCTAssertEqual(read(control + "/a/config/secrets.json"), "x\n", "control \(caller)")
            XCTAssertEqual(read(control + "/a-moved/config/secrets.json"), "real\n", "control \(caller)")
            XCTAssertEqual(read(control + "/w/x/secrets.json"), "x\n", "control \(caller)")
        }
    }

    func testAProtectedPathInAWritePathBelowAHiddenOneStaysReadOnly() {
        let attempt = "echo evil > config/public/.envrc || echo refused; echo ok > config/public/new; cat config/secret 2>/dev/null || echo hidden"
        for caller in Harness.callers {
            let project = Harness.makeProject(for: caller)
            write("keep\n", to: project + "/config/public/.envrc")
            write("s\n", to: project + "/config/secret")
            let profile = "[filesystem]\nhide = [\"${PROJECT}/config\"]\nwrite = [\"${PROJECT}/config/public\"]\n"
            write(profile + "protect = [\"${PROJECT}/config/public/.envrc\"]\n", to: project + "/kept.toml")
            write(profile, to: project + "/unprotected.toml")
            giveTo(caller, project)
            let result = Harness.sbx(["run", "--profile", "./kept.toml", "--", "/bin/sh", "-c", attempt], as: caller, in: project)
            XCTAssertEqual(result.stdout, "refused\nhidden\n", "\(caller): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("Read-only file system"), "\(caller): \(result.stderr)")
            XCTAssertEqual(read(project + "/config/public/.envrc"), "keep\n", "\(caller)")
            XCTAssertEqual(read(project + "/config/public/new"), "ok\n", "\(caller): the write path is not writable")
            // Control: without the protect entry the same write goes through to the host.
            let control = Harness.sbx(["run", "--profile", "./unprotected.toml", "--", "/bin/sh", "-c", attempt], as: caller, in: project)
            XCTAssertEqual(control.stdout, "hidden\n", "control \(caller): \(control.stderr)")
            XCTAssertEqual(read(project + "/config/public/.envrc"), "evil\n", "control \(caller)")
        }
    }

    /// `sbx explain` names the pinned parent of a hidden path and the protected path kept
    /// inside a hidden tree.
    func testExplainShowsPinnedParentsOfHiddenPathsAndTheKeptProtectedPath() {
        let project = Harness.makeProject(for: .current)
        write("x\n", to: project + "/a/config/secrets.json")
        write("keep\n", to: project + "/config/public/.envrc")
        write("""
            [filesystem]
            hide = ["${PROJECT}/a/config", "${PROJECT}/config"]
            write = ["${PROJECT}/config/public"]
            protect = ["${PROJECT}/config/public/.envrc"]

            """, to: project + "/p.toml")
        let result = Harness.sbx(["explain", "--profile", "./p.toml"], as: .current, in: project)
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        XCTAssertTrue(lines.contains { $0.hasPrefix(project + "/a ") && $0.contains("read-write")
                && $0.contains("pinned: a parent of a hidden path") }, result.stdout)
        XCTAssertTrue(lines.contains { $0.hasPrefix(project + "/config/public/.envrc ") && $0.contains("read-only")
                && $0.contains("inside the hidden \(project)/config, shown again by \(project)/config/public") }, result.stdout)
    }
}
