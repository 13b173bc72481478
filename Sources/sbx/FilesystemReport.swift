import Profiles
import SandboxCore

/// The filesystem a run would see, for `sbx explain`: each path the policy mounts, its mode,
/// and why (the setting and where it was set), in the order the mounts are made.
enum FilesystemReport {
    static func lines(_ policy: EffectivePolicy, project: String, home: String) throws -> [String] {
        var filesystem = try PolicyEnforcement.filesystem(policy, home: home, project: project, createMissing: false)
        filesystem.protect += GitWorktree.protectedPaths(project: project, protect: policy.protect.map(\.path)).filter { !filesystem.protect.contains($0) }
        let elsewhere = PolicyEnforcement.protectEverywhere(policy, in: &filesystem, project: project,
                                                            repositories: NestedRepositories.Walk(root: project).repositories)
        let state = PolicyEnforcement.hideState(try HostUser.stateDirectory(environment: HostUser.environment(), home: home),
                                                in: &filesystem, project: project)
        let runtime = EnvironmentPolicy.current().first { $0.hasPrefix("XDG_RUNTIME_DIR=") }.map { String($0.dropFirst(16)) }
        func sized(_ bytes: UInt64, _ setting: Sourced<String>, key: String) -> String {
            let cut = setting.origin == EffectivePolicy.builtinDefault && PrivateTmpfsSizes.text(bytes) != setting.value
            return "fresh and empty, at most \(PrivateTmpfsSizes.text(bytes)) (\(key) = \(setting.value)"
                + (cut ? ", cut to half this host's memory" : "") + ", \(setting.origin)): the host's is not visible"
        }
        var rows: [(path: String, mode: String, why: String)] = [
            ("/", "read-only", "the host's top-level directories, each bound read-only"),
            ("/tmp", "private", sized(filesystem.privateTmpfs.tmp, policy.tmpSize, key: "filesystem.tmp_size")),
            ("/dev/shm", "private", sized(filesystem.privateTmpfs.shm, policy.shmSize, key: "filesystem.shm_size")),
            ("/run", "private", sized(filesystem.privateTmpfs.run, policy.runSize, key: "filesystem.run_size")),
            ("/proc, /dev", "private", "a procfs of the sandbox's pid namespace; a minimal /dev (at most \(PrivateTmpfsSizes.text(PrivateTmpfsSizes.dev)))"),
        ]
        func origin(_ path: String, in entries: [EffectivePolicy.PathEntry], key: String) -> String? {
            entries.first { RunRequest.canonicalPath($0.path) == path || $0.path == path }.map { "\(key) (\($0.origin))" }
        }
        // A protected path kept inside a hidden tree, shown again by a writable path below it.
        func reexposed(_ path: String) -> String {
            guard let hidden = filesystem.hide.first(where: { isInside(path, $0) }),
                  let root = filesystem.writableRoot(of: path, project: project) else { return "" }
            return "; inside the hidden \(hidden), shown again by \(root)"
        }
        func pinned(_ directory: String) -> String {
            let below = { (paths: [String]) in paths.contains { isInside($0, directory) && $0 != directory } }
            let what = [below(filesystem.protect) ? "protected" : nil, below(filesystem.hide) ? "hidden" : nil].compactMap { $0 }
            return "pinned: a parent of a \(what.isEmpty ? "protected" : what.joined(separator: " and a ")) path, so that it cannot be renamed away"
        }
        for operation in FilesystemView.policyOperations(project: project, runtimeDirectory: runtime, policy: filesystem) {
            switch operation {
            case let .bind(_, target, writable):
                let granted: String? = origin(target, in: policy.write, key: "filesystem.write")
                    ?? origin(target, in: policy.read, key: "filesystem.read")
                    ?? origin(target, in: policy.protect, key: "filesystem.protect").map { $0 + reexposed(target) }
                let socket: String? = origin(target, in: policy.sockets, key: "filesystem.sockets").map { $0 + socketWarning(target) }
                let worktree: String? = filesystem.protect.contains(target) && !writable
                    ? "filesystem.protect, as it applies in another repository (nested, a submodule's, a worktree's main one) or a write root"
                    : nil
                let why: String = target == project ? "the project" : granted ?? socket ?? worktree ?? (writable ? pinned(target) : "")
                rows.append((target, writable ? "read-write" : "read-only", why))
            case let .cover(target):
                let why = target == filesystem.home && filesystem.hideHome ? "filesystem.home = hidden (\(policy.homeHidden.origin))"
                    : origin(target, in: policy.hide, key: "filesystem.hide")
                    ?? (filesystem.coveredSockets.contains(target) ? "a unix socket of the host's (list the ones to reach in filesystem.sockets)" : nil)
                    ?? (target == state ? "sbx's own state: the audit files of every run, the overlays' work directories" : "$XDG_RUNTIME_DIR")
                rows.append((target, "hidden", why))
            default:
                continue
            }
        }
        let missing = PolicyEnforcement.missingProtectedPaths(policy) + elsewhere
        let stateDirectory = try HostUser.stateDirectory(environment: HostUser.environment(), home: home)
        var held = filesystem
        let notHeld = PolicyEnforcement.holdMissing(missing, in: &held, project: project, policy: policy) { root in
            let obstacles = OverlayWorkDirectories.bases(state: stateDirectory).map { OverlayWorkDirectories.obstacle(root: root, base: $0) }
            return obstacles.contains { $0 == nil } ? .success("") : .failure(obstacles.first!!)
        }
        for path in held.guarded {
            rows.append((path, "read-only", "filesystem.protect, missing: cannot be created inside (Landlock refuses it;"
                         + " nothing is created on the host)"))
        }
        for overlay in held.stubOverlays {
            for path in overlay.stubs {
                rows.append((path, "read-only", "filesystem.protect, missing: held by an empty directory seen inside only"
                             + " (an overlay of \(overlay.root); nothing is created on the host)"))
            }
        }
        for (reason, paths) in notHeld {
            for path in paths { rows.append((path, "not held", "filesystem.protect, missing: \(reason)")) }
        }
        for path in filesystem.unheld(missing, project: project) {
            rows.append((path, "not held", "filesystem.protect, missing, and so is its parent: reported after the run if created"))
        }
        let width = min(rows.map(\.path.count).max() ?? 0, 60)
        return rows.map { row in
            row.path + String(repeating: " ", count: max(1, width - row.path.count + 2)) + row.mode
                + String(repeating: " ", count: 12 - row.mode.count) + row.why
        }
    }

    /// What a named socket hands over, where that is more than a socket's usual service.
    private static func socketWarning(_ path: String) -> String {
        path.hasSuffix("/docker.sock") || path.hasSuffix("/podman.sock")
            ? "; warning: the container engine's socket lets the command start containers as the engine's user (root: the host)"
            : ""
    }
}
