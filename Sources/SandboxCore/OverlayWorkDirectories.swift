#if canImport(Glibc)
import Glibc
#endif
import CSandbox

/// The work directories of a run's stub overlays (`StubOverlay`): overlayfs needs one on the
/// same mount as the directory it overlays, and outside it, so none is ever made in the
/// project. The first of `bases` that qualifies is used: sbx's state directory, then private
/// directories of the caller's in /var/tmp and /tmp (for a project on another mount, or one
/// that holds the state directory, as a granted home does). Each is named `PID.N` after the
/// run that made it, removed when the run ends, and swept by a later run once that process is
/// gone (sbx was killed): what is left behind is in those directories, never in the project.
public final class OverlayWorkDirectories {
    public let bases: [String]
    private var made: [String] = []

    /// The bases for a run whose state directory is `state`.
    public static func bases(state: String) -> [String] {
        [state + "/overlays", "/var/tmp/sbx-\(getuid())/overlays", "/tmp/sbx-\(getuid())/overlays"]
    }

    /// Sweeps what runs that are gone left behind.
    public init(bases: [String]) {
        self.bases = bases
        for base in bases {
            for name in directoryNames(base) ?? [] {
                guard let pid = pid_t(name.split(separator: ".").first ?? ""), pid > 0, !Self.isAlive(pid) else { continue }
                Self.removeTree(base + "/" + name)
            }
        }
    }

    /// A new work directory for an overlay of `root`, or why there can be none (the stubs of
    /// `root` are then not held).
    public func make(for root: String) -> Result<String, SandboxError> {
        var reasons: [String] = []
        for base in bases {
            if let obstacle = Self.obstacle(root: root, base: base) {
                reasons.append(obstacle.message)
                continue
            }
            do {
                try Self.makePrivateDirectory(base)
            } catch {
                reasons.append((error as? SandboxError)?.message ?? "\(error)")
                continue
            }
            let work = base + "/\(getpid()).\(made.count)"
            guard mkdir(work, 0o700) == 0 else {
                reasons.append(SandboxError.system("create \(work)", errno: errno).message)
                continue
            }
            made.append(work)
            return .success(work)
        }
        return .failure(SandboxError(reasons.first ?? "no directory for overlayfs' work directory"))
    }

    /// Why an overlay of `root` with its work directory in `base` (or, while that does not
    /// exist, its nearest existing parent) cannot be mounted; nil when it can.
    public static func obstacle(root: String, base: String) -> SandboxError? {
        // The overlay's options are one comma-separated string, where ':' also separates layers.
        for path in [root, base] where path.contains(where: { $0 == "," || $0 == ":" || $0 == "\\" }) {
            return SandboxError("\(path) has a ',', ':' or '\\' in its name, which overlayfs options cannot carry")
        }
        if isInside(base, root) || isInside(root, base) {
            return SandboxError("sbx's state directory is inside \(root), and overlayfs needs its work directory outside")
        }
        var existing = base
        while access(existing, F_OK) != 0, let slash = existing.lastIndex(of: "/"), slash != existing.startIndex {
            existing = String(existing[..<slash])
        }
        var (rootMount, baseMount): (UInt64, UInt64) = (0, 0)
        let rc = sbx_mount_id(root, &rootMount)
        guard rc == 0 else { return SandboxError.system("read the mount of \(root)", errno: -rc) }
        let baseRC = sbx_mount_id(existing, &baseMount)
        guard baseRC == 0 else { return SandboxError.system("read the mount of \(existing)", errno: -baseRC) }
        guard rootMount == baseMount else {
            return SandboxError("\(root) is on another mount than sbx's state directory, and overlayfs needs its work directory on the same mount (set XDG_STATE_HOME to a directory on that mount, outside \(root))")
        }
        return nil
    }

    /// Removes this run's work directories (the sandbox is gone, and its overlays with it).
    public func release() {
        for work in made.reversed() { Self.removeTree(work) }
        made = []
    }

    /// `base` and its parent, made if missing; the parent (STATE, or /var/tmp/sbx-UID) must
    /// then be a directory of the caller's that no one else can write: a shared /var/tmp
    /// must not let another user choose where overlayfs works.
    private static func makePrivateDirectory(_ base: String) throws {
        let parent = String(base[..<base.lastIndex(of: "/")!])
        if mkdir(parent, 0o700) != 0 && errno != EEXIST {
            try makeDirectories(parent, mode: 0o700)
        }
        var info = stat()
        guard lstat(parent, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR, info.st_uid == getuid(), info.st_mode & 0o022 == 0 else {
            throw SandboxError("\(parent) is not a directory of yours that only you can write")
        }
        if mkdir(base, 0o700) != 0 && errno != EEXIST { throw SandboxError.system("create \(base)", errno: errno) }
        guard lstat(base, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR, info.st_uid == getuid() else {
            throw SandboxError("\(base) is not a directory of yours")
        }
    }

    /// overlayfs leaves `work/work` with mode 0: made searchable before it is removed.
    static func removeTree(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            chmod(path, 0o700)
            for name in directoryNames(path) ?? [] { removeTree(path + "/" + name) }
            rmdir(path)
        } else {
            unlink(path)
        }
    }

    private static func isAlive(_ pid: pid_t) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }
}
