import XCTest
@testable import SandboxCore

final class SeccompPolicyTests: XCTestCase {
    func parse(_ text: String, deny: Bool = true) throws -> SeccompRule {
        try SeccompProfileRules.parse(text, deny: deny, reason: "test")
    }

    func testEntriesParse() throws {
        XCTAssertEqual(try parse("ptrace", deny: false), SeccompRule("ptrace", .allow, reason: "test"))
        XCTAssertEqual(try parse("mkdir:EACCES"), SeccompRule("mkdir", .errno(13), reason: "test"))
        XCTAssertEqual(try parse("mkdir:5"), SeccompRule("mkdir", .errno(5), reason: "test"))
        XCTAssertEqual(try parse("socket( a0 == 40 , a2 != 0x1f ):EAFNOSUPPORT"),
                       SeccompRule("socket", .errno(97), [SeccompCondition(argument: 0, .equal, 40), SeccompCondition(argument: 2, .notEqual, 31)], reason: "test"))
        XCTAssertEqual(try parse("ioctl(a1 & 0xffffffff == 0x5401)").conditions,
                       [SeccompCondition(argument: 1, .maskedEqual(mask: 0xffff_ffff), 0x5401)])
        XCTAssertEqual(try parse("read(a0 < 1, a1 <= 2, a2 > 3, a3 >= 4)").conditions.map(\.op),
                       [.less, .lessOrEqual, .greater, .greaterOrEqual])
    }

    func testBadEntriesSayWhatIsWrong() {
        for (text, deny, message) in [("opne", true, "unknown syscall 'opne'"), ("", true, "unknown syscall"),
                                      ("mkdir:EWHAT", true, "unknown errno"), ("mkdir:0", true, "unknown errno"),
                                      ("mkdir:EPERM", false, "takes no errno"), ("socket(a0 == 1", true, "must end with ')'"),
                                      ("socket()", true, "empty conditions"), ("socket(a6 == 1)", true, "a0 to a5"),
                                      ("socket(a0 = 1)", true, "no operator"), ("socket(a0 == x)", true, "not a number"),
                                      ("socket(a0 & 1 != 1)", true, "mask"), ("personality(a0 > 1, a0 < 5)", true, "once per entry")] {
            XCTAssertThrowsError(try parse(text, deny: deny), text) { error in
                XCTAssertTrue((error as? SeccompProfileRules.Invalid)?.message.contains(message) == true, "\(text): \(error)")
            }
        }
    }

    func testProfileRulesReplaceByNameAndDenyWins() throws {
        let base = SeccompPolicy.standard()
        XCTAssertEqual(base.syscalls.filter { $0.syscall == "mount" }.map(\.action), [.errno(1)])
        let changed = base.applying(allow: [try parse("mount", deny: false), try parse("getpid", deny: false)],
                                    deny: [try parse("getpid:EACCES"), try parse("read(a0 == 9)")], defaultAction: .log)
        XCTAssertEqual(changed.syscalls.filter { $0.syscall == "mount" }.map(\.action), [.allow])
        XCTAssertEqual(changed.syscalls.filter { $0.syscall == "getpid" }.map(\.action), [.errno(13)])
        // A conditional deny joins the argument filter; the unconditional allow of read stays.
        XCTAssertEqual(changed.syscalls.filter { $0.syscall == "read" }.map(\.action), [.allow])
        XCTAssertEqual(changed.arguments.last?.syscall, "read")
        XCTAssertEqual(changed.defaultAction, .log)
    }

    /// A profile denying what the default policy denies already, with its own errno: one rule,
    /// the profile's answer (libseccomp refused the duplicate with EEXIST).
    func testARuleRepeatingABuiltInOneReplacesIt() throws {
        let changed = SeccompPolicy.standard().applying(allow: [], deny: [try parse("ioctl(a1 & 0xffffffff == 0x5412):ECONNREFUSED")],
                                                        defaultAction: nil)
        let tiocsti = changed.arguments.filter { $0.syscall == "ioctl" && $0.conditions.first?.value == 0x5412 }
        XCTAssertEqual(tiocsti.map(\.action), [.errno(111)])
        XCTAssertNoThrow(try SeccompFilter(changed))
    }

    func testNestedUserNamespacesLiftTheNamespaceRulesOnly() {
        let nested = SeccompPolicy.standard(nestedUserNamespaces: true)
        XCTAssertEqual(nested.syscalls.filter { ["setns", "mount", "clone3"].contains($0.syscall) }.map(\.action), [.allow, .allow, .allow])
        XCTAssertEqual(Set(nested.arguments.map(\.syscall)), ["socket", "ioctl"])
        XCTAssertTrue(SeccompPolicy.standard().arguments.contains { $0.syscall == "unshare" })
    }
}
