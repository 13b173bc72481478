#if canImport(Glibc)
import Glibc
#endif
import CSandbox

/// The work directories of a run's stub overlays (`StubOverlay`), in sbx's state directory:
/// overlayfs needs one on the same mount as the directory it overlays, and outside it, so
/// none is ever made in the project. Each is named `PID.N` after the run that made it,
/// removed when the run ends, and swept by a later run once that process is gone (sbx was
/// killed): what is left behind is in sbx's state, never in the user's project.
public final class OverlayWorkDirectories {
    private let directory: String
    private var made: [String] = []

    /// Sweeps what runs that are gone left behind.
    public init(directory: String) {
        self.directory = directory
        for name in directoryNames(directory) ?? [] {
            guard let pid = pid_t(name.split(separator: ".").first ?? ""), pid > 0, !Self.isAlive(pid) else { continue }
            Self.removeTree(directory + "/" + name)
        }
    }

    /// A new work directory for an overlay of `root`, or why there can be none (the stubs of
    /// `root` are then not held).
    public func make(for root: String) -> Result<String, SandboxError> {
        do {
            try makeDirectories(directory, mode: 0o700)
        } catch {
            return .failure(error as? SandboxError ?? SandboxError("\(error)"))
        }
        if let obstacle = Self.obstacle(root: root, directory: directory) { return .failure(obstacle) }
        let work = directory + "/\(getpid()).\(made.count)"
        guard mkdir(work, 0o700) == 0 else { return .failure(SandboxError.system("create \(work)", errno: errno)) }
        made.append(work)
        return .success(work)
    }

    /// Why an overlay of `root` with its work directory in `directory` (or, while that does
    /// not exist, its nearest existing parent) cannot be mounted; nil when it can.
    public static func obstacle(root: String, directory: String) -> SandboxError? {
        // The overlay's options are one comma-separated string, where ':' also separates layers.
        for path in [root, directory] where path.contains(where: { $0 == "," || $0 == ":" || $0 == "\\" }) {
            return SandboxError("\(path) has a ',', ':' or '\\' in its name, which overlayfs options cannot carry")
        }
        var existing = directory
        while access(existing, F_OK) != 0, let slash = existing.lastIndex(of: "/"), slash != existing.startIndex {
            existing = String(existing[..<slash])
        }
        var (rootMount, stateMount): (UInt64, UInt64) = (0, 0)
        let rc = sbx_mount_id(root, &rootMount)
        guard rc == 0 else { return SandboxError.system("read the mount of \(root)", errno: -rc) }
        let stateRC = sbx_mount_id(existing, &stateMount)
        guard stateRC == 0 else { return SandboxError.system("read the mount of \(existing)", errno: -stateRC) }
        guard rootMount == stateMount else {
            return SandboxError("\(root) is on another mount than sbx's state directory, and overlayfs needs its work directory on the same mount, outside \(root) (set XDG_STATE_HOME to a directory on that mount)")
        }
        return nil
    }

    /// Removes this run's work directories (the sandbox is gone, and its overlays with it).
    public func release() {
        for work in made.reversed() { Self.removeTree(work) }
        made = []
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
