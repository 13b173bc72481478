import XCTest
@testable import SandboxCore

final class EnvironmentPolicyTests: XCTestCase {
    let host = ["PATH=/bin", "HOME=/home/u", "AWS_SECRET_ACCESS_KEY=s3cr3t", "SSH_AUTH_SOCK=/tmp/agent",
                "LC_ALL=C", "TERM=xterm", "GITHUB_TOKEN=ghp", "WEIRD=a=b"]

    func testOnlyAllowListedVariablesPass() {
        XCTAssertEqual(EnvironmentPolicy.resolve(host: host, requests: []),
                       ["HOME=/home/u", "LC_ALL=C", "PATH=/bin", "TERM=xterm"])
    }

    func testRequestByNamePassesTheHostValue() {
        XCTAssertTrue(EnvironmentPolicy.resolve(host: host, requests: ["GITHUB_TOKEN"]).contains("GITHUB_TOKEN=ghp"))
        XCTAssertTrue(EnvironmentPolicy.resolve(host: host, requests: ["WEIRD"]).contains("WEIRD=a=b"))
    }

    func testRequestByNameForAnUnsetVariableAddsNothing() {
        XCTAssertFalse(EnvironmentPolicy.resolve(host: host, requests: ["NOPE"]).contains { $0.hasPrefix("NOPE=") })
    }

    func testRequestWithValueSetsAndOverrides() {
        let env = EnvironmentPolicy.resolve(host: host, requests: ["TERM=dumb", "X=1=2", "E="])
        XCTAssertTrue(env.contains("TERM=dumb"))
        XCTAssertTrue(env.contains("X=1=2"))
        XCTAssertTrue(env.contains("E="))
        XCTAssertFalse(env.contains("TERM=xterm"))
    }

    func testPathGetsADefault() {
        XCTAssertTrue(EnvironmentPolicy.resolve(host: [], requests: []).contains("PATH=" + EnvironmentPolicy.defaultPath))
    }

    func testValidation() {
        XCTAssertTrue(EnvironmentPolicy.validate("A"))
        XCTAssertTrue(EnvironmentPolicy.validate("A="))
        XCTAssertFalse(EnvironmentPolicy.validate("=x"))
        XCTAssertFalse(EnvironmentPolicy.validate(""))
    }
}
