import XCTest
@testable import SandboxCore

final class FilesystemViewTests: XCTestCase {
    let hostRoot: [HostRootEntry] = [
        .init(name: "usr", kind: .directory), .init(name: "etc", kind: .directory),
        .init(name: "bin", kind: .symlink(destination: "usr/bin")), .init(name: "tmp", kind: .directory),
        .init(name: "run", kind: .directory), .init(name: "proc", kind: .directory),
        .init(name: "dev", kind: .directory), .init(name: "sys", kind: .directory),
        .init(name: "home", kind: .directory), .init(name: "weird-socket", kind: .other),
    ]

    func operations(project: String = "/home/u/app", runtime: String? = "/run/user/1000",
                    policy: FilesystemPolicy = FilesystemPolicy(home: "/home/u")) -> [MountOperation] {
        FilesystemView.operations(hostRoot: hostRoot, project: project, runtimeDirectory: runtime, policy: policy)
    }

    func testHostTmpRunDevProcAreNeverBound() {
        for case let .bind(source, _, _) in operations() {
            XCTAssertFalse(["/tmp", "/run", "/dev", "/proc"].contains(source), source)
            XCTAssertFalse(source.hasPrefix("/tmp/") || source.hasPrefix("/run/"), source)
        }
    }

    func testSystemDirectoriesAreReadOnlyAndOnlyTheProjectIsWritable() {
        let writable = operations().compactMap { op -> String? in
            if case let .bind(source, _, true) = op, !source.hasPrefix("/dev/") { return source }
            return nil
        }
        XCTAssertEqual(writable, ["/home/u/app"])
        XCTAssertTrue(operations().contains(.bind(source: "/usr", target: "/usr", writable: false)))
        XCTAssertTrue(operations().contains(.bind(source: "/sys", target: "/sys", writable: false)))
    }

    func testSymlinksAreRecreatedAndOtherEntriesSkipped() {
        XCTAssertTrue(operations().contains(.symlink(destination: "usr/bin", target: "/bin")))
        XCTAssertFalse(operations().contains { "\($0)".contains("weird-socket") })
    }

    func testProjectComesAfterTheTmpfsItMayLiveIn() throws {
        let ops = operations(project: "/tmp/work/app")
        let tmp = try XCTUnwrap(ops.firstIndex(of: .tmpfs(target: "/tmp", mode: 0o1777, size: 1 << 30)))
        let project = try XCTUnwrap(ops.firstIndex(of: .bind(source: "/tmp/work/app", target: "/tmp/work/app", writable: true)))
        XCTAssertLessThan(tmp, project)
        XCTAssertEqual(project, ops.count - 1)
    }

    /// Every tmpfs the command can write has a size: /tmp, /dev/shm and /run the policy's, /dev
    /// a fixed small one.
    func testPrivateTmpfsMountsHaveThePolicysSizes() {
        let sizes = PrivateTmpfsSizes(tmp: 3 << 30, shm: 5 << 20, run: 7 << 20)
        let ops = operations(policy: FilesystemPolicy(home: "/home/u", privateTmpfs: sizes))
        let tmpfs = ops.compactMap { op -> String? in
            if case let .tmpfs(target, _, size) = op { return "\(target) \(PrivateTmpfsSizes.text(size))" }
            return nil
        }
        XCTAssertEqual(tmpfs, ["/dev 1M", "/dev/shm 5M", "/tmp 3G", "/run 7M"])
        XCTAssertEqual(PrivateTmpfsSizes.text(1536 << 10), "1536K")
        XCTAssertEqual(PrivateTmpfsSizes.text(1000), "1000")
    }

    func testKernelWritingProcEntriesAreReadOnly() {
        for entry in ["sys", "sysrq-trigger", "irq", "bus"] {
            XCTAssertTrue(operations().contains(.readOnly(target: "/proc/" + entry)), entry)
        }
    }

    func testRuntimeDirectoryOutsideRunIsCovered() {
        XCTAssertTrue(operations(runtime: "/home/u/.run").contains(.cover(target: "/home/u/.run")))
        XCTAssertFalse(operations(runtime: "/run/user/1000").contains { if case .cover(let t) = $0 { return t.hasPrefix("/run/") }; return false })
    }

    func testIsInside() {
        XCTAssertTrue(isInside("/run/user", "/run"))
        XCTAssertTrue(isInside("/run", "/run"))
        XCTAssertFalse(isInside("/runner", "/run"))
    }

    func testMostSpecificPathWins() {
        let policy = FilesystemPolicy(home: "/home/u", hideHome: true, read: ["/home/u/.gitconfig"],
                                      write: ["/home/u/.cache/pip"], hide: ["/home/u/app/.env", "/home/u/.cache"],
                                      protect: ["/home/u/app/.git/hooks", "/home/u/.aws/credentials"])
        let ops = FilesystemView.policyOperations(project: "/home/u/app", runtimeDirectory: nil, policy: policy)
        XCTAssertEqual(ops, [
            .cover(target: "/home/u"),
            .bind(source: "/home/u/.gitconfig", target: "/home/u/.gitconfig", writable: false),
            .bind(source: "/home/u/app", target: "/home/u/app", writable: true),
            .cover(target: "/home/u/.cache"),
            .bind(source: "/home/u/.cache/pip", target: "/home/u/.cache/pip", writable: true),
            .bind(source: "/home/u/app/.git", target: "/home/u/app/.git", writable: true),
            .cover(target: "/home/u/app/.env"),
            .bind(source: "/home/u/app/.git/hooks", target: "/home/u/app/.git/hooks", writable: false),
        ])
    }

    /// Every directory between the writable root and a protected path becomes a mount point
    /// (so it cannot be renamed away), except those bound anyway; nothing under a hidden path.
    func testProtectedPathsPinTheirParentsAndStayOutOfHiddenOnes() {
        let policy = FilesystemPolicy(home: "/home/u", write: ["/home/u/app/sub"], hide: ["/home/u/app/secret"],
                                      protect: ["/home/u/app/a/b/c", "/home/u/app/a/b", "/home/u/app/sub/x/y", "/home/u/app/secret/.envrc"])
        let ops = FilesystemView.policyOperations(project: "/home/u/app", runtimeDirectory: nil, policy: policy)
        XCTAssertEqual(ops, [
            .bind(source: "/home/u/app", target: "/home/u/app", writable: true),
            .bind(source: "/home/u/app/sub", target: "/home/u/app/sub", writable: true),
            .bind(source: "/home/u/app/a", target: "/home/u/app/a", writable: true),
            .cover(target: "/home/u/app/secret"),
            .bind(source: "/home/u/app/a/b", target: "/home/u/app/a/b", writable: false),
            .bind(source: "/home/u/app/sub/x", target: "/home/u/app/sub/x", writable: true),
            .bind(source: "/home/u/app/a/b/c", target: "/home/u/app/a/b/c", writable: false),
            .bind(source: "/home/u/app/sub/x/y", target: "/home/u/app/sub/x/y", writable: false),
        ])
    }

    /// A guarded path (missing, held by the creation guard) is not mounted, but the directories
    /// between it and its writable root are pinned, as the guard knows its parent by inode.
    func testGuardedPathsPinTheirParentsOnly() {
        var policy = FilesystemPolicy(home: "/home/u")
        policy.guarded = ["/home/u/app/.envrc", "/home/u/app/.claude/settings.json", "/home/u/app/a/b/.mcp.json"]
        let ops = FilesystemView.policyOperations(project: "/home/u/app", runtimeDirectory: nil, policy: policy)
        XCTAssertEqual(ops, [
            .bind(source: "/home/u/app", target: "/home/u/app", writable: true),
            .bind(source: "/home/u/app/.claude", target: "/home/u/app/.claude", writable: true),
            .bind(source: "/home/u/app/a", target: "/home/u/app/a", writable: true),
            .bind(source: "/home/u/app/a/b", target: "/home/u/app/a/b", writable: true),
        ])
    }

    /// A hidden path inside a writable root is pinned like a protected one: its cover is a mount
    /// point and the directories between the root and it are bound onto themselves, so
    /// `mv a a2 && mkdir -p a/b/config` cannot replace it on the host. Nothing is bound below
    /// another hidden path (that would show what its cover hides), nor outside writable roots.
    func testHiddenPathsInsideWritableRootsPinTheirParents() {
        let policy = FilesystemPolicy(home: "/home/u", hide: ["/home/u/app/config", "/home/u/app/a/b/config",
                                                              "/home/u/app/h", "/home/u/app/h/x/y", "/home/u/.aws/sso/cache"])
        let ops = FilesystemView.policyOperations(project: "/home/u/app", runtimeDirectory: nil, policy: policy)
        XCTAssertEqual(ops, [
            .bind(source: "/home/u/app", target: "/home/u/app", writable: true),
            .bind(source: "/home/u/app/a", target: "/home/u/app/a", writable: true),
            .cover(target: "/home/u/app/config"),
            .cover(target: "/home/u/app/h"),
            .bind(source: "/home/u/app/a/b", target: "/home/u/app/a/b", writable: true),
            .cover(target: "/home/u/.aws/sso/cache"),
            .cover(target: "/home/u/app/a/b/config"),
            .cover(target: "/home/u/app/h/x/y"),
        ])
    }

    /// A hidden or protected path that is a writable root itself is pinned in the root above
    /// it: `mv a a2 && mkdir -p a/x` would otherwise put a new a/x in its place on the host.
    func testAHiddenOrProtectedWritableRootIsPinnedInTheRootAboveIt() {
        let policy = FilesystemPolicy(home: "/home/u", write: ["/home/u/app/a/x", "/home/u/app/b/y"],
                                      hide: ["/home/u/app/a/x"], protect: ["/home/u/app/b/y"])
        let ops = FilesystemView.policyOperations(project: "/home/u/app", runtimeDirectory: nil, policy: policy)
        XCTAssertEqual(ops, [
            .bind(source: "/home/u/app", target: "/home/u/app", writable: true),
            .bind(source: "/home/u/app/b", target: "/home/u/app/b", writable: true),
            .bind(source: "/home/u/app/a", target: "/home/u/app/a", writable: true),
            .bind(source: "/home/u/app/a/x", target: "/home/u/app/a/x", writable: true),
            .bind(source: "/home/u/app/b/y", target: "/home/u/app/b/y", writable: true),
            .bind(source: "/home/u/app/b/y", target: "/home/u/app/b/y", writable: false),
            .cover(target: "/home/u/app/a/x"),
        ])
    }

    /// A `write` path inside a hidden directory shows that part again; a protected path inside
    /// it is bound read-only (with its parents pinned), one in the still hidden rest is not.
    func testProtectInsideAWritePathBelowAHiddenOneIsKept() {
        let policy = FilesystemPolicy(home: "/home/u", write: ["/home/u/app/config/public"], hide: ["/home/u/app/config"],
                                      protect: ["/home/u/app/config/public/x/.envrc", "/home/u/app/config/.envrc"])
        let ops = FilesystemView.policyOperations(project: "/home/u/app", runtimeDirectory: nil, policy: policy)
        XCTAssertEqual(ops, [
            .bind(source: "/home/u/app", target: "/home/u/app", writable: true),
            .cover(target: "/home/u/app/config"),
            .bind(source: "/home/u/app/config/public", target: "/home/u/app/config/public", writable: true),
            .bind(source: "/home/u/app/config/public/x", target: "/home/u/app/config/public/x", writable: true),
            .bind(source: "/home/u/app/config/public/x/.envrc", target: "/home/u/app/config/public/x/.envrc", writable: false),
        ])
        XCTAssertFalse(policy.isHidden("/home/u/app/config/public/x/.envrc", project: "/home/u/app"))
        XCTAssertTrue(policy.isHidden("/home/u/app/config/.envrc", project: "/home/u/app"))
        XCTAssertTrue(FilesystemPolicy(home: "/home/u", write: ["/home/u/w"], hide: ["/home/u/w"]).isHidden("/home/u/w/f", project: "/p"))
    }

    func testProtectOutsideWritableRootsIsNotBound() {
        // A project symlink resolving into a hidden directory must not re-expose it.
        let policy = FilesystemPolicy(home: "/home/u", hide: ["/home/u/.aws"], protect: ["/home/u/.aws/credentials"])
        XCTAssertFalse(FilesystemView.policyOperations(project: "/home/u/app", runtimeDirectory: nil, policy: policy)
            .contains(.bind(source: "/home/u/.aws/credentials", target: "/home/u/.aws/credentials", writable: false)))
    }

    /// A root with missing protected paths is an overlay holding them as stubs; inside it,
    /// stubs and the pinned parents that hold them are bound from the sandbox's own view (a
    /// bind from the host would hide the stubs); other protected paths, and other roots, keep
    /// their host binds.
    func testStubsMakeTheirRootAnOverlayAndRebindInsideIt() {
        var policy = FilesystemPolicy(home: "/home/u", write: ["/home/u/cache"],
                                      protect: ["/home/u/app/.git/hooks", "/home/u/cache/.envrc"])
        policy.stubOverlays = [StubOverlay(root: "/home/u/app", work: "/s/overlays/9.0",
                                           stubs: ["/home/u/app/.envrc", "/home/u/app/.claude/settings.json"])]
        let ops = FilesystemView.policyOperations(project: "/home/u/app", runtimeDirectory: nil, policy: policy)
        XCTAssertEqual(ops, [
            .bind(source: "/home/u/cache", target: "/home/u/cache", writable: true),
            .overlay(target: "/home/u/app", upper: "/home/u/app", work: "/s/overlays/9.0", stubs: [".envrc", ".claude/settings.json"]),
            .bind(source: "/home/u/app/.git", target: "/home/u/app/.git", writable: true),
            .bind(source: "/home/u/cache/.envrc", target: "/home/u/cache/.envrc", writable: false),
            .rebind(target: "/home/u/app/.envrc", writable: false),
            .rebind(target: "/home/u/app/.claude", writable: true),
            .bind(source: "/home/u/app/.git/hooks", target: "/home/u/app/.git/hooks", writable: false),
            .rebind(target: "/home/u/app/.claude/settings.json", writable: false),
        ])
    }
}
