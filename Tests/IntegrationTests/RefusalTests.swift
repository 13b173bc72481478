import XCTest

/// When namespaces cannot be created, sbx refuses (125, with the cause and the fix) and never
/// runs the command unsandboxed.
final class RefusalTests: XCTestCase {
    func testNoUserNamespacesMeansNoRun() {
        let project = Harness.makeProject(for: .current)
        // user.max_user_namespaces is per user namespace: set to 0 in a throwaway one, it
        // forbids nesting there without touching the host's setting.
        let script = "echo 0 > /proc/sys/user/max_user_namespaces && exec \(Harness.binary) run -- /bin/touch \(project)/ran"
        let result = Harness.launch(["/usr/bin/unshare", "--user", "--map-root-user", "/bin/sh", "-c", script],
                                    as: .current, in: project).finish()
        XCTAssertEqual(result.status, 125, result.stderr)
        XCTAssertTrue(result.stderr.hasPrefix("sbx: cannot create the sandbox's namespaces"), result.stderr)
        XCTAssertTrue(result.stderr.contains("max_user_namespaces"), result.stderr)
        // The last line points to the command that checks the whole host.
        XCTAssertTrue(result.stderr.hasSuffix("\nsbx: 'sbx doctor' checks everything sbx needs from this host and gives the fixes\n"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: project + "/ran"), "the command ran unsandboxed")
    }
}
