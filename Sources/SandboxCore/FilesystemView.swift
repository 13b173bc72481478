#if canImport(Glibc)
import Glibc
#endif

/// One entry of the host's root directory, as the planner needs to know it.
public struct HostRootEntry: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case directory, file, other
        case symlink(destination: String)
    }
    public let name: String
    public let kind: Kind

    public init(name: String, kind: Kind) {
        self.name = name
        self.kind = kind
    }
}

/// What a profile asks of the filesystem, with paths already expanded and resolved on the host.
public struct FilesystemPolicy: Equatable, Sendable {
    public var home: String
    public var hideHome: Bool
    /// Extra paths visible read-only, and writable; each must exist.
    public var read: [String]
    public var write: [String]
    /// Paths replaced by an empty directory or an empty file.
    public var hide: [String]
    /// Existing paths kept read-only inside the writable ones (the project, `write`).
    public var protect: [String]
    /// Missing protected paths held by stubs, by the writable root whose overlay holds them
    /// (where the kernel cannot run the creation guard).
    public var stubOverlays: [StubOverlay] = []
    /// Missing protected paths that nothing inside can create (`CreationGuard`); their parents
    /// exist, and are pinned like a protected path's.
    public var guarded: [String] = []
    /// Unix sockets the sandbox may reach (`filesystem.sockets`): bound in, even from the
    /// private /run or /tmp.
    public var sockets: [String] = []
    /// The host's sockets at visible paths that the sandbox must not reach: covered
    /// (`socketsToCover`).
    public var coveredSockets: [String] = []
    /// The sizes of /tmp, /dev/shm and /run (the profile's defaults, for the planner's tests).
    public var privateTmpfs: PrivateTmpfsSizes

    public init(home: String, hideHome: Bool = false, read: [String] = [], write: [String] = [],
                hide: [String] = [], protect: [String] = [],
                privateTmpfs: PrivateTmpfsSizes = PrivateTmpfsSizes(tmp: 1 << 30, shm: 256 << 20, run: 64 << 20)) {
        self.privateTmpfs = privateTmpfs
        self.home = home
        self.hideHome = hideHome
        self.read = read
        self.write = write
        self.hide = hide
        self.protect = protect
    }
}

extension FilesystemPolicy {
    /// Whether the sandbox sees `path` hidden: below a `hide` entry that no writable root shows
    /// again (a `write` path inside a hidden directory is bound after its cover, so what is
    /// below it is seen). A hidden path that is the writable root itself hides it.
    public func isHidden(_ path: String, project: String) -> Bool {
        let root = writableRoot(of: path, project: project)
        return hide.contains { hidden in
            isInside(path, hidden) && !(root.map { $0 != hidden && isInside($0, hidden) } ?? false)
        }
    }
}

/// The filesystem view, as mount operations. The base: the host's top-level directories come
/// in read-only (recursively, so no writable submount leaks through); the rest is fresh:
/// /proc for the sandbox's pid namespace, a minimal /dev, private /tmp, /dev/shm and /run
/// (which hides docker.sock, D-Bus, ssh-agent, nscd and resolved sockets: a read-only mount
/// does not stop connect() on a unix socket, only absence does), each tmpfs of a bounded size.
/// Then the policy: the project and `write` paths writable, `read` paths visible, `hide` paths
/// and a hidden home covered, `protect` paths inside the writable ones read-only (their
/// parents pinned as mount points, and those of hidden paths inside the writable ones too).
/// Among those, the most specific path wins: they are applied shallowest first, a cover after
/// a bind of the same path.
public enum FilesystemView {
    /// Host top-level directories replaced by fresh ones rather than bound.
    static let replacedAtTop: Set<String> = ["proc", "dev", "sys", "tmp", "run"]
    /// Replaced by fresh, empty ones: nothing of the host's is visible below them.
    public static let privateDirectories = ["/tmp", "/run", "/dev", "/proc"]
    static let devices = ["null", "zero", "full", "random", "urandom", "tty"]
    /// procfs entries that write to the host kernel (sysctls, sysrq, irq affinity, bus
    /// settings): the sandbox's uid may own them, so they are made read-only, as bubblewrap does.
    static let procReadOnly = ["sys", "sysrq-trigger", "irq", "bus"]

    public static func operations(hostRoot: [HostRootEntry], project: String, runtimeDirectory: String?,
                                  policy: FilesystemPolicy) -> [MountOperation] {
        var operations: [MountOperation] = []
        for entry in hostRoot.sorted(by: { $0.name < $1.name }) where !replacedAtTop.contains(entry.name) {
            let path = "/" + entry.name
            switch entry.kind {
            case .directory, .file: operations.append(.bind(source: path, target: path, writable: false))
            case let .symlink(destination): operations.append(.symlink(destination: destination, target: path))
            case .other: continue
            }
        }
        if hostRoot.contains(where: { $0.name == "sys" }) {
            operations.append(.bind(source: "/sys", target: "/sys", writable: false))
        }
        operations.append(.proc(target: "/proc"))
        operations += procReadOnly.map { .readOnly(target: "/proc/" + $0) }
        operations.append(.tmpfs(target: "/dev", mode: 0o755, size: PrivateTmpfsSizes.dev))
        operations += devices.map { .bind(source: "/dev/" + $0, target: "/dev/" + $0, writable: true) }
        operations.append(.devpts(target: "/dev/pts"))
        operations.append(.symlink(destination: "pts/ptmx", target: "/dev/ptmx"))
        operations.append(.tmpfs(target: "/dev/shm", mode: 0o1777, size: policy.privateTmpfs.shm))
        operations.append(.symlink(destination: "/proc/self/fd", target: "/dev/fd"))
        for (index, name) in ["stdin", "stdout", "stderr"].enumerated() {
            operations.append(.symlink(destination: "/proc/self/fd/\(index)", target: "/dev/" + name))
        }
        operations.append(.tmpfs(target: "/tmp", mode: 0o1777, size: policy.privateTmpfs.tmp))
        operations.append(.tmpfs(target: "/run", mode: 0o755, size: policy.privateTmpfs.run))
        return operations + policyOperations(project: project, runtimeDirectory: runtimeDirectory, policy: policy)
    }

    public static func policyOperations(project: String, runtimeDirectory: String?, policy: FilesystemPolicy) -> [MountOperation] {
        var layered: [(target: String, isCover: Bool, operation: MountOperation)] = []
        func bind(_ path: String, writable: Bool) {
            layered.append((path, false, .bind(source: path, target: path, writable: writable)))
        }
        func cover(_ path: String) { layered.append((path, true, .cover(target: path))) }
        // Inside a root seen through an overlay, a stub, and a protected path or pinned parent
        // that holds one, is bound from that view (a bind from the host would hide the stub).
        // Any other is bound from the host, as elsewhere: below it the sandbox sees the host's
        // directory itself, not the overlay's cached view of it (see StubOverlay), so .git
        // stays coherent with a git running on the host meanwhile.
        let overlays = Dictionary(policy.stubOverlays.map { ($0.root, $0) }, uniquingKeysWith: { first, _ in first })
        func bindInside(_ path: String, root: String, writable: Bool) {
            if let overlay = overlays[root], overlay.stubs.contains(where: { isInside($0, path) }) {
                layered.append((path, false, .rebind(target: path, writable: writable)))
            } else {
                bind(path, writable: writable)
            }
        }
        func bindRoot(_ path: String) {
            if let overlay = overlays[path] {
                layered.append((path, false, .overlay(target: path, upper: path, work: overlay.work, stubs: overlay.relativeStubs)))
            } else {
                bind(path, writable: true)
            }
        }

        if policy.hideHome { cover(policy.home) }
        // A home under /tmp or /run (CI runners, some containers) would vanish with the private
        // directory; `home = "read-only"` says it is seen, so it is bound in. Never one in /proc
        // or /dev: that bind would bring the host's over the sandbox's own (HOME=/proc showed
        // the host's processes).
        if !policy.hideHome, ["/tmp", "/run"].contains(where: { isInside(policy.home, $0) && policy.home != $0 }) {
            bind(policy.home, writable: false)
        }
        // $XDG_RUNTIME_DIR usually lives in /run and is gone with it; elsewhere, cover it.
        if let runtime = runtimeDirectory, runtime.hasPrefix("/"),
           !isInside(runtime, "/run"), !isInside(runtime, "/tmp"), !isInside(project, runtime) {
            cover(runtime)
        }
        policy.read.forEach { bind($0, writable: false) }
        policy.write.forEach(bindRoot)
        bindRoot(project)
        // Only inside writable roots: elsewhere a protected path is read-only already, and a
        // bind there could re-expose something hidden (a project symlink into ~/.aws).
        // Not inside a hidden path either (the bind would show what the cover hides), unless
        // a writable root below the hidden one shows that part again.
        let protected = policy.protect.filter { path in
            policy.writableRoot(of: path, project: project) != nil && !policy.isHidden(path, project: project)
        } + policy.stubOverlays.flatMap(\.stubs)
        // Hidden paths inside a writable root whose parent is seen: a cover is a mount point,
        // but `mv config x && mkdir config` would put a new one in its place on the host.
        let pinnedHidden = policy.hide.filter { path in
            policy.writableRoot(of: parent(of: path), project: project) != nil
        }
        var anchored: Set<String> = []
        // A guarded path is not mounted (nothing exists to mount on), but its parents are pinned
        // like a protected path's: the guard knows its directory by inode.
        let pinnedOnly = pinnedHidden + policy.guarded
        for (path, isProtected) in protected.map({ ($0, true) }) + pinnedOnly.map({ ($0, false) }) {
            if isProtected { bindInside(path, root: policy.writableRoot(of: path, project: project)!, writable: false) }
            // Each directory between the path and the writable root that holds it (the one
            // above, when the path is a writable root itself) is bound onto itself, still
            // writable: a mount point cannot be renamed (EBUSY), so `mv .git x` followed by a
            // new .git/hooks cannot get around the protection. Not below a hidden path: the
            // bind would show what the cover hides.
            let above = parent(of: path)
            guard let root = policy.writableRoot(of: above, project: project), !policy.isHidden(above, project: project) else { continue }
            var ancestor = above
            while ancestor.count > root.count, isInside(ancestor, root) {
                if !protected.contains(ancestor) && !policy.write.contains(ancestor) && anchored.insert(ancestor).inserted {
                    bindInside(ancestor, root: root, writable: true)
                }
                ancestor = parent(of: ancestor)
            }
        }
        policy.hide.forEach { cover($0) }
        policy.coveredSockets.forEach { cover($0) }
        policy.sockets.forEach { bind($0, writable: false) }
        return layered.enumerated().sorted { a, b in
            let (x, y) = (a.element, b.element)
            let (dx, dy) = (depth(x.target), depth(y.target))
            if dx != dy { return dx < dy }
            if x.target == y.target && x.isCover != y.isCover { return !x.isCover }
            return a.offset < b.offset
        }.map(\.element.operation)
    }

    private static func depth(_ path: String) -> Int { path.split(separator: "/").count }

    private static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    /// Lists the host's root directory.
    public static func readHostRoot() throws -> [HostRootEntry] {
        guard let names = directoryNames("/") else { throw SandboxError.system("list /", errno: errno) }
        return names.map { HostRootEntry(name: $0, kind: kind(of: "/" + $0)) }
    }

    private static func kind(of path: String) -> HostRootEntry.Kind {
        var info = stat()
        guard lstat(path, &info) == 0 else { return .other }
        switch info.st_mode & S_IFMT {
        case S_IFDIR: return .directory
        case S_IFREG: return .file
        case S_IFLNK:
            return readLink(path).map { .symlink(destination: $0) } ?? .other
        default: return .other
        }
    }
}

/// Whether `path` is `directory` or below it (both absolute and normalised).
public func isInside(_ path: String, _ directory: String) -> Bool {
    path == directory || path.hasPrefix(directory.hasSuffix("/") ? directory : directory + "/")
}
