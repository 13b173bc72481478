#if canImport(Glibc)
import Glibc
#endif
import CSandbox

/// What `sbx doctor` checks: each thing a run needs, read from /proc and, where reading cannot
/// tell (a container's seccomp profile, an AppArmor policy), tried for real in a throwaway
/// child (`sbx_probe`). Fast: a few forks and file reads.
public enum HostReadiness {
    // The kernel's CLONE_NEW* values (sched.h), named for the messages, with the kernel option
    // that provides each.
    static let namespaceFlags: [(name: String, flag: UInt, option: String)] = [
        ("mount", 0x0002_0000, "CONFIG_NAMESPACES"), ("cgroup", 0x0200_0000, "CONFIG_CGROUPS"),
        ("uts", 0x0400_0000, "CONFIG_UTS_NS"), ("ipc", 0x0800_0000, "CONFIG_IPC_NS"),
        ("pid", 0x2000_0000, "CONFIG_PID_NS"), ("net", 0x4000_0000, "CONFIG_NET_NS"),
    ]
    static let newUser: UInt = 0x1000_0000
    static let newMount: UInt = 0x0002_0000

    /// Every check, in the order a run needs them. `state` is sbx's state directory, or why there is none.
    public static func checks(state: Result<String, SandboxError>) -> [HostCheck] {
        let user = userNamespaces()
        return [user, otherNamespaces(userOK: user.status == .ok), seccomp(), landlock(), cgroup(),
                stateDirectory(state), overlay(state: state, userOK: user.status == .ok)]
    }

    /// The result of `sbx_probe`: nil when every step worked, else (step, errno).
    static func probe(_ flags: UInt, overlayTarget: String? = nil, overlayOptions: String? = nil,
                      seccomp: Bool = false) -> (step: Int32, code: Int32)? {
        var step: Int32 = 0
        let rc = sbx_probe(flags, overlayTarget, overlayOptions, seccomp ? 1 : 0, &step)
        return rc == 0 ? nil : (step, -rc)
    }

    static func describe(_ failure: (step: Int32, code: Int32), _ what: String) -> String {
        let steps: [Int32: String] = [
            Int32(SBX_PROBE_FORK.rawValue): "fork", Int32(SBX_PROBE_UNSHARE.rawValue): "unshare(\(what))",
            Int32(SBX_PROBE_SETGROUPS.rawValue): "writing setgroups", Int32(SBX_PROBE_UID_MAP.rawValue): "writing uid_map",
            Int32(SBX_PROBE_GID_MAP.rawValue): "writing gid_map", Int32(SBX_PROBE_MOUNT.rawValue): "a mount in the new namespace",
            Int32(SBX_PROBE_OVERLAY.rawValue): "mounting overlayfs",
            Int32(SBX_PROBE_NO_NEW_PRIVS.rawValue): "setting no_new_privs",
            Int32(SBX_PROBE_SECCOMP.rawValue): "loading a seccomp filter",
        ]
        return "\(steps[failure.step] ?? "step \(failure.step)") failed: \(String(cString: strerror(failure.code)))"
    }

    static let containerFix = "if sbx runs in a container, its runtime forbids this (e.g. Docker's default seccomp profile): "
        + "run sbx on the host, or start the container with --security-opt seccomp=unconfined --security-opt apparmor=unconfined"

    /// An actual user namespace with the maps sbx writes; the sysctls name the cause when it fails.
    static func userNamespaces() -> HostCheck {
        let name = "user namespaces"
        guard let failure = probe(newUser | newMount) else {
            return HostCheck(name: name, status: .ok, detail: "a child made a user and mount namespace, wrote its uid_map and mounted in it", required: true)
        }
        let tried = describe(failure, "CLONE_NEWUSER|CLONE_NEWNS")
        if let found = UserNamespaceKnobs.read().restriction(binary: executablePath(), root: geteuid() == 0) {
            return HostCheck(name: name, status: .restricted, detail: "\(tried): \(found.cause)", fix: found.fix, required: true)
        }
        if failure.code == ENOSPC {
            return HostCheck(name: name, status: .restricted, detail: "\(tried): the limit user.max_user_namespaces is reached",
                             fix: "'sudo sysctl user.max_user_namespaces=15000', or end other sandboxes", required: true)
        }
        if failure.code == EINVAL || failure.code == ENOSYS {
            return HostCheck(name: name, status: .missing, detail: "\(tried): this kernel has no user namespaces",
                             fix: "a kernel built with CONFIG_USER_NS=y", required: true)
        }
        return HostCheck(name: name, status: .restricted, detail: tried, fix: containerFix, required: true)
    }

    /// The other namespaces of a sandbox, all at once as a run makes them; on failure each alone, to name it.
    static func otherNamespaces(userOK: Bool) -> HostCheck {
        let name = "namespaces"
        let all = namespaceFlags.map(\.name).joined(separator: ", ")
        guard userOK else {
            return HostCheck(name: name, status: .restricted, detail: "\(all): not tried, they need a user namespace",
                             fix: "see user namespaces", required: true)
        }
        guard let failure = probe(UInt(sbx_sandbox_namespaces)) else {
            return HostCheck(name: name, status: .ok, detail: "\(all): a child made them all in a user namespace", required: true)
        }
        let refused = namespaceFlags.filter { probe(newUser | $0.flag) != nil }
        let which = refused.isEmpty ? all : refused.map(\.name).joined(separator: ", ")
        let detail = "\(which): \(describe(failure, "CLONE_NEW*"))"
        if failure.code == EINVAL {
            let options = refused.isEmpty ? "CONFIG_NAMESPACES=y" : refused.map { $0.option + "=y" }.joined(separator: ", ")
            return HostCheck(name: name, status: .missing, detail: detail + " (the kernel lacks them)",
                             fix: "a kernel built with \(options)", required: true)
        }
        return HostCheck(name: name, status: .restricted, detail: detail, fix: containerFix, required: true)
    }

    /// The mode this process is in, and an allow-all filter loaded for real.
    static func seccomp() -> HostCheck {
        let name = "seccomp"
        let mode = sbx_seccomp_mode()
        if mode == -EINVAL {
            return HostCheck(name: name, status: .missing, detail: "this kernel has no seccomp",
                             fix: "a kernel built with CONFIG_SECCOMP=y and CONFIG_SECCOMP_FILTER=y", required: true)
        }
        if let failure = probe(0, seccomp: true) {
            return HostCheck(name: name, status: failure.code == EINVAL ? .missing : .restricted,
                             detail: describe(failure, ""),
                             fix: failure.code == EINVAL ? "a kernel built with CONFIG_SECCOMP_FILTER=y" : containerFix, required: true)
        }
        return HostCheck(name: name, status: .ok, detail: "a child loaded a filter"
                         + (mode == 2 ? " (this process is already filtered, e.g. by a container; sbx's filter stacks on it)" : ""),
                         required: true)
    }

    static func landlock() -> HostCheck {
        let abi = LandlockWall.kernelABI()
        guard abi > 0 else {
            return HostCheck(name: "landlock", status: .missing,
                             detail: "this kernel does not offer Landlock: runs go without this second wall "
                                 + "(writes outside the writable paths are still refused by the read-only mounts)",
                             fix: "a kernel 5.13 or later with CONFIG_SECURITY_LANDLOCK=y and landlock in its lsm= boot parameter",
                             required: false)
        }
        guard CreationGuard.isAvailable(landlockABI: abi) else {
            let why = abi < 2 ? "ABI \(abi): below 2, renames across directories cannot be allowed"
                : "ABI \(abi), but Yama's ptrace_scope is 2 or more: sbx's init may not read a command's arguments"
            return HostCheck(name: "landlock", status: .restricted,
                             detail: why + "; protected paths that do not exist yet are held by stubs in an overlay instead, "
                                 + "which does not show a file the host replaces during a run",
                             fix: abi < 2 ? "a kernel 5.19 or later" : "sysctl kernel.yama.ptrace_scope=1", required: false)
        }
        return HostCheck(name: "landlock", status: .ok,
                         detail: "ABI \(abi); protected paths that do not exist yet cannot be created (the creation guard)", required: false)
    }

    /// What the caller's cgroup offers a run with limits, as read from the cgroup2 file system.
    struct CgroupState: Equatable {
        var location: CgroupLocation
        /// cgroup.controllers: what the cgroup may give its children.
        var available: Set<String>
        /// cgroup.subtree_control: what it already gives them.
        var enabled: Set<String>
        var writable: Bool
        /// Processes in the cgroup other than this one.
        var otherProcesses: Int
    }

    /// Where the caller's cgroup is and whether it is delegated: limits need both.
    static func cgroup() -> HostCheck {
        cgroupVerdict(CgroupDiscovery.locate().map { location in
            CgroupState(location: location,
                        available: CgroupDiscovery.controllers(location.directory + "/cgroup.controllers"),
                        enabled: CgroupDiscovery.controllers(location.directory + "/cgroup.subtree_control"),
                        writable: access(location.directory, W_OK) == 0,
                        otherProcesses: RunCgroup.processes(in: location.directory).filter { $0 != getpid() }.count)
        })
    }

    /// The verdict on what `cgroup()` read, as RunCgroup would meet it.
    static func cgroupVerdict(_ state: Result<CgroupState, CgroupUnavailable>) -> HostCheck {
        let name = "cgroup v2"
        let without = "runs with --memory, --cpus or --pids (limits in a profile) need it; runs without limits do not"
        let unified = "boot with systemd.unified_cgroup_hierarchy=1"
        let found: CgroupState
        switch state {
        case .failure(let why):
            return HostCheck(name: name, status: .missing, detail: "\(why.reason): \(without)", fix: unified, required: false)
        case .success(let state): found = state
        }
        let directory = found.location.directory
        let needed = ["memory", "cpu", "pids"]
        let missing = needed.filter { !found.available.contains($0) }
        if !missing.isEmpty {
            return HostCheck(name: name, status: found.location.isHybrid ? .missing : .restricted,
                             detail: "the controllers \(missing.joined(separator: ", ")) are not available in \(directory)"
                                 + (found.location.isHybrid ? " (a hybrid cgroup v1/v2 host)" : "") + ": \(without)",
                             fix: found.location.isHybrid ? unified : RunCgroup.delegationHint, required: false)
        }
        if !found.writable {
            return HostCheck(name: name, status: .restricted, detail: "\(directory) is not delegated to you: \(without)",
                             fix: RunCgroup.delegationHint, required: false)
        }
        // The no-internal-processes rule (see RunCgroup): controllers not yet enabled for
        // children can be enabled only by an sbx alone in its cgroup.
        if !found.location.isRoot, !needed.allSatisfy(found.enabled.contains), found.otherProcesses > 0 {
            return HostCheck(name: name, status: .restricted,
                             detail: "\(directory) is writable but holds other processes too, so sbx cannot give a run a cgroup "
                                 + "with limits there (cgroup v2 lets only an empty cgroup share its controllers): \(without)",
                             fix: RunCgroup.delegationHint, required: false)
        }
        return HostCheck(name: name, status: .ok, detail: "\(directory) is delegated, with the memory, cpu and pids controllers",
                         required: false)
    }

    static func stateDirectory(_ state: Result<String, SandboxError>) -> HostCheck {
        let name = "state directory"
        let fix = "set XDG_STATE_HOME to a directory of yours that you can write"
        switch state {
        case .failure(let error):
            return HostCheck(name: name, status: .missing, detail: error.message, fix: fix, required: true)
        case .success(let path):
            // Written for real: access() alone misses a read-only mount.
            let probe = path + "/.doctor-\(getpid())"
            let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else {
                return HostCheck(name: name, status: .restricted,
                                 detail: SandboxError.system("create a file in \(path)", errno: errno).message, fix: fix, required: true)
            }
            close(fd)
            unlink(probe)
            return HostCheck(name: name, status: .ok, detail: "\(path) is writable", required: true)
        }
    }

    /// overlayfs in a user namespace, as a run mounts it to hold missing protected paths where
    /// the creation guard cannot (Landlock off or below ABI 2).
    static func overlay(state: Result<String, SandboxError>, userOK: Bool) -> HostCheck {
        let name = "overlayfs"
        let without = CreationGuard.isAvailable(landlockABI: LandlockWall.kernelABI())
            ? "Landlock holds protected paths that do not exist yet here; overlayfs is needed only with nested_userns = true "
                + "(Landlock off), where without it they are not held in place during a run"
            : "without it, protected paths that do not exist yet (such as .git/hooks or .envrc) "
                + "are not held in place during a run; sbx reports at the end those the command created"
        guard userOK, case .success(let path) = state else {
            return HostCheck(name: name, status: .restricted, detail: "not tried: it needs a user namespace and the state directory; \(without)",
                             fix: "see user namespaces and state directory", required: false)
        }
        let base = path + "/doctor-\(getpid())"
        defer { OverlayWorkDirectories.removeTree(base) }
        for directory in [base, base + "/lower", base + "/upper", base + "/work", base + "/merged"] where mkdir(directory, 0o700) != 0 {
            return HostCheck(name: name, status: .restricted,
                             detail: SandboxError.system("create \(directory)", errno: errno).message + "; \(without)", required: false)
        }
        let options = "userxattr,index=off,lowerdir=\(base)/lower,upperdir=\(base)/upper,workdir=\(base)/work"
        guard let failure = probe(newUser | newMount, overlayTarget: base + "/merged", overlayOptions: options) else {
            return HostCheck(name: name, status: .ok, detail: "a child mounted an overlay in a user namespace under \(path)"
                             + (CreationGuard.isAvailable(landlockABI: LandlockWall.kernelABI()) ? " (needed only with nested_userns = true)" : ""),
                             required: false)
        }
        return HostCheck(name: name, status: failure.code == EINVAL || failure.code == ENODEV ? .missing : .restricted,
                         detail: describe(failure, "CLONE_NEWUSER|CLONE_NEWNS") + "; \(without)",
                         fix: "a kernel 5.11 or later (overlayfs in user namespaces, with userxattr), and a state directory on a file system "
                             + "with user xattrs (tmpfs has them from 6.6): set XDG_STATE_HOME to one", required: false)
    }
}
