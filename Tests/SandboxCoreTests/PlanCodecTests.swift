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
            .tmpfs(target: "/tmp", mode: 0o1777, size: 5 << 32 | 7),
            .proc(target: "/proc"),
            .devpts(target: "/dev/pts"),
            .symlink(destination: "usr/bin", target: "/bin"),
            .readOnly(target: "/proc/sys"),
            .cover(target: "/home/u/.ssh"),
            .overlay(target: "/home/u/app", upper: "/home/u/app", work: "/home/u/.local/state/sbx/overlays/7.0", stubs: [".envrc", ".claude/settings.json"]),
            .rebind(target: "/home/u/app/.envrc", writable: false),
            .rebind(target: "/home/u/app/.claude", writable: true),
            .bind(source: "/home/u/pröject", target: "/home/u/pröject", writable: true),
        ],
        passedFileDescriptors: [3, 7],
        newSession: true,
        // Every action and operator, and values that need all 64 bits.
        seccomp: SeccompPolicy.standard().applying(
            allow: [SeccompRule("mount", .allow, [SeccompCondition(argument: 5, .greaterOrEqual, 1 << 40)], reason: "r1")],
            deny: [SeccompRule("read", .errno(13), [SeccompCondition(argument: 0, .notEqual, .max),
                                                     SeccompCondition(argument: 1, .less, 2), SeccompCondition(argument: 2, .lessOrEqual, 3),
                                                     SeccompCondition(argument: 3, .greater, 4)], reason: "r2"),
                   SeccompRule("write", .kill, reason: "r3"), SeccompRule("getpid", .log, reason: "r4")],
            defaultAction: .kill),
        landlock: false,
        resourceLimits: [ResourceLimit(resource: ResourceLimit.addressSpace, value: 1 << 40), ResourceLimit(resource: 6, value: 7)],
        listenPorts: [3128, 65535],
        socketService: true,
        transparentPorts: [80, 443],
        guarded: ["/home/u/pröject/.envrc", "/home/u/app/.claude/settings.json"])

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

/// The seccomp programs the supervisor generates and the init loads.
final class SeccompProgramTests: XCTestCase {
    func testTheDefaultPolicyMakesTwoProgramsThatRoundTrip() throws {
        let filter = try SeccompFilter(.standard())
        XCTAssertEqual(filter.programs.count, 2)
        for program in filter.programs {
            XCTAssertFalse(program.isEmpty)
            XCTAssertEqual(program.count % 8, 0, "a sequence of struct sock_filter")
        }
        XCTAssertEqual(try PlanCodec.decodeFilter(PlanCodec.encode(filter)), filter)
        XCTAssertThrowsError(try PlanCodec.decodeFilter(PlanCodec.encode(filter) + [0]))
        XCTAssertThrowsError(try PlanCodec.decodeFilter(Array(PlanCodec.encode(filter).dropLast())))
    }
}
