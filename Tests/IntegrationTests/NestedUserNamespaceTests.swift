import XCTest

/// README: `nested_userns = true` lets a program run its own sandbox inside. With real
/// programs: bubblewrap (an install dependency) with new user, pid, network, ipc and uts
/// namespaces, a /dev and a /tmp of its own, and util-linux's `unshare`. The control: without
/// the setting both are refused. The limits the README states are pinned too: no fresh /proc
/// inside (sbx's read-only parts of /proc forbid it), and none of it for a root caller (the
/// kernel lets only a process with CAP_SETFCAP map uid 0 into a new user namespace).
final class NestedUserNamespaceTests: XCTestCase {
    let bwrap = "bwrap --ro-bind / / --dev /dev --tmpfs /tmp --unshare-all --die-with-parent sh -c 'echo bwrap: pid $$, uid $(id -u), $(ls /tmp | wc -l) in /tmp'"
    let unshare = "unshare -Urnpf --kill-child sh -c 'echo unshare: pid $$, uid $(id -u)'"

    func run(_ script: String, nested: Bool, as caller: Caller) -> RunResult {
        let project = Harness.makeProject(for: caller)
        FileManager.default.createFile(atPath: project + "/p.toml", contents: Data("[seccomp]\nnested_userns = \(nested)\n".utf8))
        return Harness.sbx(["run", "--profile", "./p.toml", "--", "/bin/sh", "-c", script], as: caller, in: project)
    }

    /// Not as root: the unprivileged caller when the tests run as root.
    var caller: Caller { Harness.callers.last! }

    func testAProgramRunsItsOwnSandboxInside() {
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: "/usr/bin/bwrap"), "bubblewrap is missing: run scripts/install-deps")
        let nested = run("\(bwrap); \(unshare)", nested: true, as: caller)
        XCTAssertEqual(nested.stdout, "bwrap: pid 2, uid \(caller == .unprivileged ? Harness.unprivilegedIDs.uid : getuid()), 0 in /tmp\nunshare: pid 1, uid 0\n",
                       "\(caller): \(nested.stderr)")
        let refused = run("\(bwrap) || echo bwrap refused; \(unshare) || echo unshare refused", nested: false, as: caller)
        XCTAssertEqual(refused.stdout, "bwrap refused\nunshare refused\n", "\(caller): \(refused.stderr)")
    }

    func testTheStatedLimits() {
        let proc = run("bwrap --ro-bind / / --proc /proc --unshare-user --unshare-pid true || echo no fresh proc", nested: true, as: caller)
        XCTAssertEqual(proc.stdout, "no fresh proc\n", "\(caller): \(proc.stderr)")
        XCTAssertTrue(proc.stderr.contains("Can't mount proc"), proc.stderr)
        if Harness.isRoot {
            let root = run("\(unshare) || echo refused as root", nested: true, as: .current)
            XCTAssertEqual(root.stdout, "refused as root\n", root.stderr)
        }
    }
}
