import XCTest
@testable import SandboxCore

final class PlanCodecTests: XCTestCase {
    let plan = SandboxPlan(
        command: ["python3", "-c", "print('a b \"c\"')", ""],
        environment: ["PATH=/usr/bin", "LANG=C.UTF-8", "EMPTY="],
        workingDirectory: "/home/u/pröject",
        hostname: "sbx",
        mounts: [
            .bind(source: "/usr", target: "/usr", writable: false),
            .tmpfs(target: "/tmp", mode: 0o1777),
            .proc(target: "/proc"),
            .devpts(target: "/dev/pts"),
            .symlink(destination: "usr/bin", target: "/bin"),
            .readOnly(target: "/proc/sys"),
            .cover(target: "/home/u/.ssh"),
            .bind(source: "/home/u/pröject", target: "/home/u/pröject", writable: true),
        ],
        passedFileDescriptors: [3, 7],
        newSession: true)

    func testRoundTripKeepsEveryField() throws {
        XCTAssertEqual(try PlanCodec.decode(PlanCodec.encode(plan)), plan)
    }

    func testTruncatedPlanIsRejected() {
        let bytes = PlanCodec.encode(plan)
        for length in [0, 1, 4, bytes.count / 2, bytes.count - 1] {
            XCTAssertThrowsError(try PlanCodec.decode(Array(bytes.prefix(length))), "length \(length)")
        }
    }

    func testTrailingBytesAreRejected() {
        XCTAssertThrowsError(try PlanCodec.decode(PlanCodec.encode(plan) + [0]))
    }
}
