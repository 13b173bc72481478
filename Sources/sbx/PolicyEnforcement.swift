#if canImport(Glibc)
import Glibc
#endif
import Profiles
import SandboxCore

/// Turns an effective policy into what the sandbox applies, and refuses what it cannot apply.
/// A protection that cannot be applied stops the run unless the profile lists it in
/// `limits.optional`; then it is skipped with a warning on stderr. Never a half-applied sandbox.
enum PolicyEnforcement {
    /// Which layer enforces what, for `sbx explain`.
    static func layers(_ policy: EffectivePolicy) -> [(layer: String, state: String)] {
        [
            ("namespaces", "user, mount, pid, net, ipc, uts, cgroup: active"),
            ("capabilities", "all dropped, no_new_privs, securebits locked: active"),
            ("filesystem", "bind mounts and covers (home \(policy.homeHidden.value ? "hidden" : "read-only")): active; " +
                "protect: read-only; a missing path, when its parent exists: " + (guardsCreation(policy)
                    ? "cannot be created (Landlock and seccomp notification)" : "held by a stub seen inside only")),
            ("seccomp", "default policy\(policy.seccompAllow.isEmpty && policy.seccompDeny.isEmpty ? "" : " with the profile's rules")" +
                ", nested user namespaces \(policy.nestedUserNamespaces?.value == true ? "allowed" : "denied")" +
                ", foreign ABIs killed: active"),
            ("landlock", landlockState(policy)),
            ("network", networkState(policy)),
            ("cgroups", cgroupState(policy)),
        ]
    }

    static func networkState(_ policy: EffectivePolicy) -> String {
        guard policy.networkMode.value == "proxy" else {
            return "loopback only: active" + (unusedAllowList(policy).map { "; " + $0 } ?? "")
        }
        let ports = (try? EgressSetup.rules(policy)).map { EgressSetup.transparentPorts($0, hostPorts: []) } ?? []
        let transparent = ports.isEmpty ? ""
            : "; for programs that ignore the proxy variables, DNS on 127.0.0.53 and 198.18.0.0/15 on ports "
                + ports.map(String.init).joined(separator: ", ")
        return "loopback only, egress through the proxy on 127.0.0.1:\(EgressSetup.port)\(transparent) (allow-list, audit): active"
    }

    /// For a run without network whose profile lists hosts (the toolchain profiles: a registry),
    /// what to do to reach them; nil when the profile lists none.
    static func unusedAllowList(_ policy: EffectivePolicy) -> String? {
        guard policy.networkMode.value != "proxy", !policy.networkAllow.isEmpty else { return nil }
        let hosts = policy.networkAllow.prefix(3).map(\.value).joined(separator: ", ")
            + (policy.networkAllow.count > 3 ? ", ..." : "")
        return "the network is off (network.mode = \"\(policy.networkMode.value)\", \(policy.networkMode.origin)), so the hosts the "
            + "profile allows (\(hosts)) are not reachable: --net proxy, or network.mode = \"proxy\" in a profile, turns them on"
    }

    static func cgroupLimits(_ policy: EffectivePolicy) -> CgroupLimits {
        CgroupLimits(memoryBytes: policy.memory.flatMap { Quantity.bytes($0.value) },
                     cpus: policy.cpu.map(\.value), pids: policy.pids.map { Int($0.value) })
    }

    /// The run's cgroup (see `RunCgroup`), or, when it cannot be made and every limit asked
    /// for is optional, the rlimits that stand in for them and what to warn about. A limit
    /// that is not optional and cannot be applied stops the run.
    static func limits(_ policy: EffectivePolicy) throws -> (cgroup: RunCgroup?, fallback: [ResourceLimit], warnings: [String]) {
        let limits = cgroupLimits(policy)
        if limits.isEmpty { return (nil, [], []) }
        do {
            return (try RunCgroup(limits: limits), [], [])
        } catch {
            var fallback: [ResourceLimit] = []
            var warnings = ["cgroup limits cannot be applied (optional in the profile): \(error.reason)"]
            let requested: [(String, String, Origin)] = [
                policy.memory.map { ("memory", "limits.memory = \($0.value)", $0.origin) },
                policy.cpu.map { ("cpu", "limits.cpu = \(RunCgroup.decimal($0.value))", $0.origin) },
                policy.pids.map { ("pids", "limits.pids = \($0.value)", $0.origin) },
            ].compactMap { $0 }
            for (name, setting, origin) in requested {
                guard policy.isOptional(name) else {
                    throw SandboxError("\(setting) (\(origin)) cannot be applied: \(error.reason). "
                        + "Otherwise remove the limit, or add \"\(name)\" to limits.optional to run without it")
                }
                switch name {
                case "memory":
                    fallback.append(ResourceLimit(resource: ResourceLimit.addressSpace, value: limits.memoryBytes!))
                    warnings.append("\(setting) is not applied; RLIMIT_AS stands in: it limits each process's "
                        + "address space, not the sandbox's memory")
                case "pids":
                    fallback.append(ResourceLimit(resource: ResourceLimit.processes, value: UInt64(limits.pids!)))
                    warnings.append("\(setting) is not applied; RLIMIT_NPROC stands in: it counts the processes of "
                        + "your user in the sandbox's user namespace, and is not enforced for root")
                default:
                    warnings.append("\(setting) is not applied; nothing stands in for a CPU limit")
                }
            }
            return (nil, fallback, warnings)
        }
    }

    private static func cgroupState(_ policy: EffectivePolicy) -> String {
        let limits = cgroupLimits(policy)
        let where_: String
        switch CgroupDiscovery.locate() {
        case .success(let location): where_ = "cgroup2 at \(location.mountPoint), this process in \(location.directory)"
        case .failure(let why): where_ = why.reason
        }
        if limits.isEmpty { return "no limit requested (\(where_))" }
        if let why = RunCgroup.preflight(limits) { return "cannot be applied here: \(why.reason)" }
        return "a leaf per run below this process's cgroup (\(where_)): active"
    }

    static func timeout(_ policy: EffectivePolicy) -> RunTimeout? {
        guard let value = policy.timeout, let seconds = Quantity.seconds(value.value) else { return nil }
        return RunTimeout(seconds: seconds, text: value.value, grace: testGrace ?? 10) { SbxCommand.printError($0) }
    }

    /// A test-only setting: in debug builds (the ones the tests run), SBX_TEST_GRACE_SECONDS
    /// (0.1 to 10) shortens the grace between SIGTERM and SIGKILL, so that tests do not wait
    /// 10 s each; release builds ignore it. The VM lane checks the real 10 s.
    static var testGrace: Double? {
        #if DEBUG
        guard let text = getenv("SBX_TEST_GRACE_SECONDS").map({ String(cString: $0) }), let seconds = Double(text),
              seconds >= 0.1, seconds <= 10 else { return nil }
        return seconds
        #else
        return nil
        #endif
    }

    /// Protected paths that do not exist (yet): candidates for a stub (a dangling symlink's
    /// target is what a write would create).
    static func missingProtectedPaths(_ policy: EffectivePolicy) -> [MissingProtectedPath] {
        policy.protect.filter { RunRequest.canonicalPath($0.path) == nil }.map { entry in
            MissingProtectedPath(path: MissingProtectedPath.danglingTarget(of: entry.path) ?? entry.path)
        }
    }

    /// The profile's protected paths inside the project, as they apply to every repository found
    /// below it (at any depth), to each write root, and to their submodules' git directories
    /// (`NestedRepositories`): the existing ones added to `filesystem.protect`, the missing ones
    /// returned, to be held like the project's. Write roots are not walked: they are often
    /// caches of many files (~/.cargo, ~/.npm), and the walk is paid at every start. Without
    /// the creation guard, missing ones at write roots are left out: stubs would put each write
    /// root behind an overlay, whose view of the host's changes goes stale.
    static func protectEverywhere(_ policy: EffectivePolicy, in filesystem: inout FilesystemPolicy, project: String,
                                  repositories: [String]) -> [MissingProtectedPath] {
        let relative = policy.protect.compactMap { entry -> String? in
            isInside(entry.path, project) && entry.path != project ? String(entry.path.dropFirst(project.count + 1)) : nil
        }
        guard !relative.isEmpty else { return [] }
        let roots = [project] + filesystem.write + repositories
        let known = Set(policy.protect.map(\.path))
        var missing: [MissingProtectedPath] = []
        for path in NestedRepositories.protectedPaths(relative: relative, roots: roots) where !known.contains(path) {
            if let resolved = RunRequest.canonicalPath(path) {
                if !filesystem.protect.contains(resolved) { filesystem.protect.append(resolved) }
            } else if guardsCreation(policy) || isInside(path, project) {
                missing.append(MissingProtectedPath(path: MissingProtectedPath.danglingTarget(of: path) ?? path))
            }
        }
        return missing
    }

    /// Whether this run holds missing protected paths with the creation guard (Landlock on,
    /// and the kernel's Landlock ABI 2 or later) rather than with overlays.
    static func guardsCreation(_ policy: EffectivePolicy) -> Bool {
        landlock(policy) && CreationGuard.isAvailable(landlockABI: LandlockWall.kernelABI())
    }

    /// Holds the missing protected `paths` whose parent exists: guarded (`guardsCreation`), or
    /// by stubs (`stubOverlays`). Returns the roots that could have no overlay, with the reason
    /// and their paths, which are then not held.
    static func holdMissing(_ paths: [MissingProtectedPath], in filesystem: inout FilesystemPolicy, project: String,
                            policy: EffectivePolicy, work: (String) -> Result<String, SandboxError>)
        -> [(reason: String, paths: [String])] {
        if guardsCreation(policy) {
            filesystem.guarded = filesystem.stubbed(paths, project: project).map(\.path)
            return []
        }
        let (overlays, notHeld) = stubOverlays(paths, in: filesystem, project: project, work: work)
        filesystem.stubOverlays = overlays
        return notHeld
    }

    /// The stubs that hold the missing protected `paths`, one overlay per writable root that
    /// has some, each with a work directory from `work` (given the root); the roots that can
    /// have none come back with the reason and their paths, which are then not held.
    private static func stubOverlays(_ paths: [MissingProtectedPath], in filesystem: FilesystemPolicy, project: String,
                             work: (String) -> Result<String, SandboxError>)
        -> (overlays: [StubOverlay], notHeld: [(reason: String, paths: [String])]) {
        var byRoot: [String: [String]] = [:]
        for missing in filesystem.stubbed(paths, project: project) {
            guard let root = filesystem.writableRoot(of: missing.path, project: project) else { continue }
            byRoot[root, default: []].append(missing.path)
        }
        var overlays: [StubOverlay] = []
        var notHeld: [(reason: String, paths: [String])] = []
        for root in byRoot.keys.sorted() {
            switch work(root) {
            case let .success(directory): overlays.append(StubOverlay(root: root, work: directory, stubs: byRoot[root]!))
            case let .failure(error): notHeld.append((error.message, byRoot[root]!))
            }
        }
        return (overlays, notHeld)
    }

    /// Landlock is off with nested user namespaces: it forbids the mounts a nested sandbox
    /// makes (bubblewrap, Chromium's); the mounts and seccomp still enforce.
    static func landlock(_ policy: EffectivePolicy) -> Bool {
        policy.nestedUserNamespaces?.value != true
    }

    private static func landlockState(_ policy: EffectivePolicy) -> String {
        let abi = LandlockWall.kernelABI()
        if abi == 0 { return "unavailable in this kernel: the mounts alone confine writes" }
        if !landlock(policy) { return "off: seccomp.nested_userns (Landlock forbids the mounts of a nested sandbox)" }
        return "ABI \(abi): reads everywhere visible, writes only below writable mount points: active"
    }

    /// The seccomp part: the default policy, nested user namespaces if asked, then the
    /// profile's allow and deny entries; a malformed entry is an error naming where it is.
    static func seccomp(_ policy: EffectivePolicy) throws -> SeccompPolicy {
        func rules(_ entries: [Sourced<String>], key: String) throws -> [SeccompRule] {
            try entries.map { entry in
                do {
                    return try SeccompProfileRules.parse(entry.value, deny: key == "seccomp.deny", reason: "\(key) (\(entry.origin))")
                } catch let error as SeccompProfileRules.Invalid {
                    throw ProfileError(entry.origin, keyPath: key, "'\(entry.value)': \(error.message)")
                }
            }
        }
        let action: SeccompAction?
        switch policy.seccompAction?.value {
        case "kill"?: action = .kill
        case "log"?: action = .log
        case "errno"?: action = .errno(38)  // ENOSYS: libc falls back from syscalls it does not find
        default: action = nil
        }
        return SeccompPolicy.standard(nestedUserNamespaces: policy.nestedUserNamespaces?.value ?? false)
            .applying(allow: try rules(policy.seccompAllow, key: "seccomp.allow"),
                      deny: try rules(policy.seccompDeny, key: "seccomp.deny"), defaultAction: action)
    }

    /// The filesystem part, with paths resolved on the host: symlinks followed (the mount lands
    /// on the real file), missing `write` directories written with a trailing '/' created,
    /// other missing paths skipped: a hidden path that does not exist has nothing to leak (a
    /// missing protected path gets a stub, see `missingProtectedPaths`).
    /// `createMissing: false` (for explain) leaves missing `write` directories out instead.
    /// sbx's own state (every run's audit file, the overlays' work directories, cached tool answers)
    /// is hidden inside: a run must neither read what other runs did nor change what the next
    /// one trusts. Not when the project is inside it: hiding it would hide the project.
    static func hideState(_ state: String, in filesystem: inout FilesystemPolicy, project: String) -> String? {
        let path = RunRequest.canonicalPath(state) ?? state
        guard project != path, !project.hasPrefix(path + "/") else { return nil }
        if !filesystem.hide.contains(path) { filesystem.hide.append(path) }
        return path
    }

    static func filesystem(_ policy: EffectivePolicy, home: String, project: String, createMissing: Bool = true) throws -> FilesystemPolicy {
        func existing(_ entries: [EffectivePolicy.PathEntry], create: Bool) throws -> [String] {
            try entries.compactMap { entry in
                if let resolved = RunRequest.canonicalPath(entry.path) { return resolved }
                guard create && createMissing && entry.createIfMissing else { return nil }
                do {
                    try makeDirectories(entry.path, mode: 0o755)
                } catch let error as SandboxError {
                    throw SandboxError(error.message + " (filesystem.write)")
                }
                return RunRequest.canonicalPath(entry.path)
            }
        }
        // Hiding / would leave the sandbox no /proc, no libraries, no command: refused by name
        // (it used to fail late with "read /proc/self/mountinfo: No such file or directory").
        let hide = try existing(policy.hide, create: false)
        // The entry is looked for only when there is one: a realpath per hide entry is 0.5 ms.
        if hide.contains("/"), let root = policy.hide.first(where: { RunRequest.canonicalPath($0.path) == "/" }) {
            throw ProfileError(root.origin, keyPath: root.origin.line > 0 ? "filesystem.hide" : nil,
                               "'\(root.path)' is the root directory: hiding it would hide everything, the command included; "
                               + "hide the directories below it that the command must not see")
        }
        var filesystem = FilesystemPolicy(home: RunRequest.canonicalPath(home) ?? home, hideHome: policy.homeHidden.value,
                                          read: try existing(policy.read, create: false),
                                          write: try existing(policy.write, create: true),
                                          hide: hide,
                                          protect: try existing(policy.protect, create: false),
                                          privateTmpfs: try privateTmpfs(policy))
        filesystem.sockets = try policy.sockets.map { entry in
            var info = stat()
            guard let real = RunRequest.canonicalPath(entry.path), stat(real, &info) == 0, (info.st_mode & S_IFMT) == S_IFSOCK else {
                throw ProfileError(entry.origin, keyPath: entry.origin.line > 0 ? "filesystem.sockets" : nil,
                                   "'\(entry.path)' is not a unix socket (or does not exist)")
            }
            return real
        }
        filesystem.coveredSockets = filesystem.socketsToCover(HostUnixSockets.current(), project: project)
        return filesystem
    }

    /// The sizes of the private /tmp, /dev/shm and /run. One asked for must be at least 1M and
    /// at most the host's RAM (a tmpfs larger than the memory is the unbounded case the sizes
    /// exist to avoid), else an error naming the file, line and key, or the flag. A default
    /// larger than half the RAM (a small VM) is cut to that, the kernel's own default, so a
    /// default never allows more than what it replaced.
    static func privateTmpfs(_ policy: EffectivePolicy, hostMemory: UInt64 = PrivateTmpfsSizes.hostMemory()) throws -> PrivateTmpfsSizes {
        func bytes(_ setting: Sourced<String>, key: String) throws -> UInt64 {
            func fail(_ message: String) -> ProfileError { ProfileError(setting.origin, keyPath: key, "'\(setting.value)' \(message)") }
            guard let value = Quantity.bytes(setting.value) else { throw fail("is not a size such as 512M or 2G") }
            if setting.origin == EffectivePolicy.builtinDefault { return hostMemory > 0 ? min(value, hostMemory / 2) : value }
            guard value >= PrivateTmpfsSizes.minimum else { throw fail("is less than the smallest size, \(PrivateTmpfsSizes.text(PrivateTmpfsSizes.minimum))") }
            guard hostMemory == 0 || value <= hostMemory else {
                let memory = hostMemory >= 1 << 30 ? "\(hostMemory >> 30)G" : "\(hostMemory >> 20)M"
                throw fail("is more than this host's memory (about \(memory)): a tmpfs that large could take all of it")
            }
            return value
        }
        return PrivateTmpfsSizes(tmp: try bytes(policy.tmpSize, key: "filesystem.tmp_size"),
                                 shm: try bytes(policy.shmSize, key: "filesystem.shm_size"),
                                 run: try bytes(policy.runSize, key: "filesystem.run_size"))
    }

}
