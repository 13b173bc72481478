import XCTest

/// Only a regular file is read as a profile, with an error naming the file otherwise.
final class ProfileFileTests: XCTestCase {
    /// A FIFO as a profile (`--profile`, or a project's .sbx.toml that is one) used to block
    /// every later run forever; a symlinked .sbx.toml is not followed.
    func testAProfileThatIsNotARegularFileIsRefused() throws {
        let project = Harness.makeProject(for: .current)
        let fifo = project + "/fifo.toml"
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        let given = Harness.sbx(["run", "--profile", fifo, "--", "/bin/true"], as: .current, in: project, timeout: 10)
        XCTAssertEqual(given.status, 125, given.stderr)
        XCTAssertEqual(given.stderr, "sbx: \(fifo): not a regular file (a FIFO): not read as a profile\n")

        // The default profile protects .sbx.toml, so the sandbox cannot make one (see
        // ProtectionTests.testTheProjectsProfileCannotBePlanted); one made otherwise (a
        // profile without that entry, another tool) is refused all the same.
        let made = Harness.sbx(["run", "--", "/usr/bin/mkfifo", ".sbx.toml"], as: .current, in: project)
        XCTAssertNotEqual(made.status, 0, made.stderr)
        XCTAssertEqual(mkfifo(project + "/.sbx.toml", 0o644), 0)
        for command in [["run", "--", "/bin/true"], ["explain"]] {
            let result = Harness.sbx(command, as: .current, in: project, timeout: 10)
            XCTAssertEqual(result.status, 125, "\(command[0]): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("\(project)/.sbx.toml: not a regular file (a FIFO)"), "\(command[0]): \(result.stderr)")
        }
        try FileManager.default.removeItem(atPath: project + "/.sbx.toml")
        try FileManager.default.createSymbolicLink(atPath: project + "/.sbx.toml", withDestinationPath: fifo)
        let linked = Harness.sbx(["run", "--", "/bin/true"], as: .current, in: project, timeout: 10)
        XCTAssertEqual(linked.status, 125, linked.stderr)
        XCTAssertTrue(linked.stderr.contains("\(project)/.sbx.toml: cannot read: a symbolic link"), linked.stderr)
    }
}
