import XCTest
@testable import SandboxCore

/// `sbx doctor`'s cgroup verdict from what the cgroup2 files say, for the layouts users have.
final class HostReadinessTests: XCTestCase {
    let all: Set<String> = ["cpuset", "cpu", "io", "memory", "pids"]

    func state(_ directory: String, available: Set<String>, enabled: Set<String> = [], writable: Bool = true,
               others: Int = 0, hybrid: Bool = false) -> Result<HostReadiness.CgroupState, CgroupUnavailable> {
        var location = CgroupLocation(mountPoint: "/sys/fs/cgroup", directory: directory, isRoot: false)
        location.isHybrid = hybrid
        return .success(.init(location: location, available: available, enabled: enabled, writable: writable, otherProcesses: others))
    }

    func testADelegatedScopeOfItsOwnIsOK() {
        // systemd-run --user --scope -p Delegate=yes: sbx alone, controllers not yet enabled.
        let check = HostReadiness.cgroupVerdict(state("/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice/run-r1.scope",
                                                      available: all))
        XCTAssertEqual(check.status, .ok, check.line)
        XCTAssertNil(check.fix)
    }

    func testALoginSessionIsNotDelegated() {
        let check = HostReadiness.cgroupVerdict(state("/sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope",
                                                      available: all, writable: false, others: 3))
        XCTAssertEqual(check.status, .restricted, check.line)
        XCTAssertTrue(check.detail.hasPrefix("/sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope is not delegated to you"), check.detail)
        XCTAssertTrue(check.fix?.contains("systemd-run --user --scope -p Delegate=yes sbx run ...") == true, check.fix ?? "")
    }

    func testAWritableCgroupSharedWithTheShellCannotHandOutControllers() {
        let check = HostReadiness.cgroupVerdict(state("/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice/term.scope",
                                                      available: all, others: 2))
        XCTAssertEqual(check.status, .restricted, check.line)
        XCTAssertTrue(check.detail.contains("holds other processes too"), check.detail)
        XCTAssertTrue(check.fix?.contains("systemd-run --user --scope -p Delegate=yes") == true, check.fix ?? "")
        // Already enabled for children: nothing to hand out, the run's leaf can be made.
        XCTAssertEqual(HostReadiness.cgroupVerdict(state("/sys/fs/cgroup/x", available: all, enabled: ["memory", "cpu", "pids"], others: 2)).status, .ok)
    }

    func testAHybridHostNeedsTheUnifiedHierarchy() {
        let check = HostReadiness.cgroupVerdict(state("/sys/fs/cgroup/unified", available: [], hybrid: true))
        XCTAssertEqual(check.status, .missing, check.line)
        XCTAssertEqual(check.fix, "boot with systemd.unified_cgroup_hierarchy=1")
        XCTAssertFalse(check.required)
    }
}
