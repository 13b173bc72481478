import XCTest
@testable import SandboxCore

/// How `sbx doctor` prints a check: one line for people, one JSON object for scripts.
final class HostCheckTests: XCTestCase {
    func testTheCheckLineAndJSON() {
        let check = HostCheck(name: "user namespaces", status: .restricted, detail: "a \"quoted\" cause", fix: "do\tthis", required: true)
        XCTAssertEqual(check.line, "user namespaces   restricted a \"quoted\" cause. Fix: do\tthis")
        XCTAssertEqual(check.json, #"{"name":"user namespaces","status":"restricted","detail":"a \"quoted\" cause","fix":"do\u0009this","required":true}"#)
        XCTAssertEqual(HostCheck(name: "landlock", status: .ok, detail: "ABI 7", required: false).json,
                       #"{"name":"landlock","status":"ok","detail":"ABI 7","fix":null,"required":false}"#)
    }
}
