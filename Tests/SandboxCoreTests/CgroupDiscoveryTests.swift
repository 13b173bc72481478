import XCTest
@testable import SandboxCore

final class CgroupDiscoveryTests: XCTestCase {
    // This project's build machines: v1 controllers, cgroup2 at /sys/fs/cgroup/unified, and
    // the "0::" line last.
    let hybridMounts = """
        24 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
        25 24 0:23 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:8 - tmpfs tmpfs ro,mode=755
        26 25 0:24 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate
        27 25 0:25 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,memory
        """
    let hybridMembership = "12:memory:/user.slice\n1:name=systemd:/user.slice/session-3.scope\n0::/user.slice/session-3.scope\n"

    func testHybridLayoutFindsTheUnifiedMountNotSysFsCgroup() throws {
        let location = try CgroupDiscovery.locate(mountinfo: hybridMounts, membership: hybridMembership).get()
        XCTAssertEqual(location.directory, "/sys/fs/cgroup/unified/user.slice/session-3.scope")
        XCTAssertEqual(location.mountPoint, "/sys/fs/cgroup/unified")
        XCTAssertTrue(location.isHybrid)
        XCTAssertFalse(location.isRoot)
    }

    func testPureV2AndAMountOfASubtree() throws {
        let pure = "30 1 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n"
        XCTAssertEqual(try CgroupDiscovery.locate(mountinfo: pure, membership: "0::/\n").get(),
                       CgroupLocation(mountPoint: "/sys/fs/cgroup", directory: "/sys/fs/cgroup", isRoot: true))
        // Inside a container: the mount shows the hierarchy from /docker/abc, a space escaped.
        let subtree = "30 1 0:26 /docker/abc /sys/fs/cgroup\\040x rw - cgroup2 cgroup2 rw\n"
        XCTAssertEqual(try CgroupDiscovery.locate(mountinfo: subtree, membership: "0::/docker/abc/job\n").get(),
                       CgroupLocation(mountPoint: "/sys/fs/cgroup x", directory: "/sys/fs/cgroup x/job", isRoot: false))
    }

    func testWhyThereIsNone() {
        for (mounts, membership, reason) in [
            (hybridMounts, "12:memory:/user.slice\n", "no \"0::\" line"),
            ("25 24 0:23 / /sys/fs/cgroup ro - tmpfs tmpfs ro\n", "0::/x\n", "no cgroup2 file system"),
            ("30 1 0:26 /other /mnt rw - cgroup2 cgroup2 rw\n", "0::/x\n", "does not show"),
            (hybridMounts, "0::/gone (deleted)\n", "has been removed"),
        ] {
            guard case let .failure(why) = CgroupDiscovery.locate(mountinfo: mounts, membership: membership) else {
                return XCTFail(reason)
            }
            XCTAssertTrue(why.reason.contains(reason), why.reason)
        }
    }

    func testSizesInWords() {
        XCTAssertEqual(RunCgroup.size(2 << 30), "2 GiB")
        XCTAssertEqual(RunCgroup.size(1536 << 20), "1.5 GiB")
        XCTAssertEqual(RunCgroup.size(512), "512 B")
    }
}
