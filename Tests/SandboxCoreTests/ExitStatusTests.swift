import XCTest
@testable import SandboxCore

final class ExitStatusTests: XCTestCase {
    func testExitCodes() {
        XCTAssertEqual(ExitStatus.from(waitStatus: 0), 0)
        XCTAssertEqual(ExitStatus.from(waitStatus: 42 << 8), 42)
        XCTAssertEqual(ExitStatus.from(waitStatus: 255 << 8), 255)
    }

    func testSignalsBecome128PlusN() {
        XCTAssertEqual(ExitStatus.from(waitStatus: 9), 137)
        XCTAssertEqual(ExitStatus.from(waitStatus: 15), 143)
        XCTAssertEqual(ExitStatus.from(waitStatus: 11 | 0x80), 139)  // with core dump
    }
}
