import Foundation
import XCTest

/// `sbx doctor` on this host (which runs sandboxes): exit 0 for every caller, one line per
/// check, JSON that parses; and where user namespaces are refused, exit 1 with the cause and fix.
final class DoctorTests: XCTestCase {
    static let checks = ["user namespaces", "namespaces", "seccomp", "landlock", "cgroup v2", "state directory", "overlayfs"]

    func testEveryCheckOnItsOwnLineAndExitZero() {
        for caller in Harness.callers {
            let project = Harness.makeProject(for: caller)
            let started = Date()
            let result = Harness.sbx(["doctor"], as: caller, in: project)
            XCTAssertLessThan(Date().timeIntervalSince(started), 1, "\(caller): doctor should take well under a second")
            XCTAssertEqual(result.status, 0, "\(caller): \(result.stdout)\(result.stderr)")
            let lines = result.stdout.split(separator: "\n").map(String.init)
            XCTAssertEqual(lines.count, Self.checks.count, "\(caller): \(result.stdout)")
            for (line, name) in zip(lines, Self.checks) {
                XCTAssertTrue(line.hasPrefix(name + " "), "\(caller): \(line)")
                let status = line.dropFirst(18).prefix { $0 != " " }
                XCTAssertTrue(["ok", "missing", "restricted"].contains(status), "\(caller): \(line)")
            }
            // What this host must have for the tests of `sbx run` to pass at all.
            for name in ["user namespaces", "namespaces", "seccomp", "state directory"] {
                XCTAssertTrue(lines.contains { $0.hasPrefix(name + " ") && $0.dropFirst(18).hasPrefix("ok ") }, "\(caller): \(name): \(result.stdout)")
            }
        }
    }

    func testJSONParsesWithOneObjectPerCheck() throws {
        for caller in Harness.callers {
            let result = Harness.sbx(["doctor", "--json"], as: caller, in: Harness.makeProject(for: caller))
            XCTAssertEqual(result.status, 0, "\(caller): \(result.stderr)")
            let parsed = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]]
            let objects = try XCTUnwrap(parsed, "\(caller): \(result.stdout)")
            XCTAssertEqual(objects.compactMap { $0["name"] as? String }, Self.checks, "\(caller)")
            for object in objects {
                XCTAssertTrue(["ok", "missing", "restricted"].contains(object["status"] as? String ?? ""), "\(caller): \(object)")
                XCTAssertNotNil(object["detail"] as? String, "\(caller): \(object)")
                XCTAssertTrue(object["fix"] is String || object["fix"] is NSNull, "\(caller): \(object)")
                XCTAssertNotNil(object["required"] as? Bool, "\(caller): \(object)")
            }
        }
    }

    func testRefusedUserNamespacesExitOneWithTheFix() {
        // user.max_user_namespaces is per user namespace: 0 in a throwaway one forbids
        // nesting there without touching the host's setting (as in RefusalTests).
        let project = Harness.makeProject(for: .current)
        let script = "echo 0 > /proc/sys/user/max_user_namespaces && exec \(Harness.binary) doctor"
        let result = Harness.launch(["/usr/bin/unshare", "--user", "--map-root-user", "/bin/sh", "-c", script],
                                    as: .current, in: project).finish()
        XCTAssertEqual(result.status, 1, result.stdout + result.stderr)
        let line = result.stdout.split(separator: "\n").first.map(String.init) ?? ""
        XCTAssertTrue(line.hasPrefix("user namespaces   restricted "), result.stdout)
        XCTAssertTrue(line.contains("user.max_user_namespaces=0"), line)
        XCTAssertTrue(line.hasSuffix("Fix: 'sudo sysctl user.max_user_namespaces=15000' (and in /etc/sysctl.d/ to keep it)"), line)
    }
}
