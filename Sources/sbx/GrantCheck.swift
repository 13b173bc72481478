#if canImport(Glibc)
import Glibc
#endif
import Profiles
import SandboxCore

/// Grants that cannot be turned against the host. One check, made by `PolicyOptions.resolve`
/// for `run` and `explain` alike (not `export seccomp`, which grants nothing), before anything
/// is created on the host:
/// - the project and `write` paths are never `/`, a system directory, a kernel interface, or
///   (without `allow_writable_home`) $HOME or one of its parents;
/// - no `read` path replaces one of sbx's private directories or reaches into /proc;
/// - no component of a `read` or `write` path is a symlink in a directory the sandbox can
///   write (it could have made the link), and no link leads a grant into a hidden or
///   protected path.
/// Every path is checked as written and as the kernel resolves it (`..` and symlinks).
enum GrantCheck {
    /// Never the project nor a write root: a grant of one would make the host's system
    /// writable, or replace a directory sbx makes private (/tmp and /run hold other programs'
    /// sockets; /dev/shm their shared memory). Below them is fine (/var/www, /usr/local/src,
    /// /tmp/build, /dev/kvm). The /usr ones are where a merged-/usr system's /bin, /lib... lead.
    static let systemDirectories: Set<String> = [
        "/", "/bin", "/boot", "/dev", "/dev/pts", "/dev/shm", "/etc", "/lib", "/lib32", "/lib64", "/libx32",
        "/proc", "/run", "/sbin", "/sys", "/tmp", "/usr", "/usr/bin", "/usr/lib", "/usr/lib32", "/usr/lib64",
        "/usr/libx32", "/usr/sbin", "/var",
    ]
    /// Nothing below these is granted writable: they are the host kernel's settings
    /// (/proc/sys/kernel/core_pattern runs a program as root on the host).
    static let kernelInterfaces = ["/proc", "/sys"]
    /// A read grant of one of these would replace sbx's private one with the host's (its
    /// sockets, its processes: /proc/PID/root of a host process leads out of every mount).
    static let privateDirectories: Set<String> = ["/", "/dev", "/dev/pts", "/dev/shm", "/run", "/tmp"]

    /// A path followed one component at a time.
    struct Walk {
        /// Where the path leads: the real path of the part that exists, then the rest as written.
        var resolved: String
        /// Each symlink met, with the real directory that holds it and where it leads.
        var links: [(link: String, directory: String, target: String)] = []
    }

    /// The file type of each path met (nil: missing), kept for one check: the default
    /// profile's hundred hide entries share their first components (/root was read 278 times,
    /// 1.5 ms of a run).
    final class Kinds {
        private var known: [String: mode_t?] = [:]

        func of(_ path: String) -> mode_t? {
            if let kind = known[path] { return kind }
            var info = stat()
            let kind: mode_t? = lstat(path, &info) == 0 ? info.st_mode & S_IFMT : nil
            known[path] = kind
            return kind
        }
    }

    /// Follows an absolute, normalised path as the kernel would; nothing is created.
    static func walk(_ path: String, kinds: Kinds = Kinds()) -> Walk {
        var current = "/"
        var walk = Walk(resolved: "/")
        let parts = path.split(separator: "/").map(String.init)
        for (index, part) in parts.enumerated() {
            let candidate = join(current, part)
            guard let kind = kinds.of(candidate) else {
                walk.resolved = parts[index...].reduce(current, join)
                return walk
            }
            if kind == S_IFLNK {
                // A dangling link leads to what it names, which does not exist yet.
                let real = RunRequest.canonicalPath(candidate)
                let target = real ?? MissingProtectedPath.danglingTarget(of: candidate) ?? candidate
                walk.links.append((candidate, current, target))
                guard let real else {
                    walk.resolved = parts[(index + 1)...].reduce(target, join)
                    return walk
                }
                current = real
            } else {
                current = candidate
            }
        }
        walk.resolved = current
        return walk
    }

    static func check(_ policy: EffectivePolicy, project: String, projectLabel: String, home: String) throws {
        let home = RunRequest.canonicalPath(home) ?? home
        let allowHome = policy.allowWritableHome.value
        let homeHint = "grant a directory inside it instead, or pass --allow-writable-home "
            + "(filesystem.allow_writable_home = true) if you mean it; its startup files stay read-only"

        // The project: realpath already (`RunRequest.canonicalDirectory`).
        if let why = systemReason(project) {
            throw SandboxError("\(projectLabel): the project is \(project), \(why); run sbx from the project's directory or pass --project DIR")
        }
        if !allowHome, isInside(home, project) {
            throw SandboxError("\(projectLabel): the project \(project) is your home directory or contains it (\(home)): "
                + "everything there, your shell's startup files included, would be writable; " + homeHint)
        }

        let kinds = Kinds()
        let writes = policy.write.map { (entry: $0, walk: walk($0.path, kinds: kinds)) }
        let writableRoots = [project] + writes.map(\.walk.resolved)
        let hidden = policy.hide.flatMap { [$0.path, walk($0.path, kinds: kinds).resolved] }
        let protected = policy.protect.flatMap { [$0.path, walk($0.path, kinds: kinds).resolved] }

        for (entry, walk) in writes {
            let fail = failure(entry, key: "filesystem.write")
            try checkLinks(entry, walk, writableRoots: writableRoots, hidden: hidden, protected: protected, fail: fail)
            for path in [entry.path, walk.resolved] {
                if let why = systemReason(path) { throw fail("\(describe(entry.path, walk)) is \(why); grant a directory below it") }
                if let kernel = kernelInterfaces.first(where: { isInside(path, $0) }) {
                    throw fail("\(describe(entry.path, walk)) is below \(kernel), the host kernel's settings: it cannot be granted writable")
                }
                if !allowHome, isInside(home, path) {
                    throw fail("\(describe(entry.path, walk)) is your home directory or contains it (\(home)); " + homeHint)
                }
            }
        }
        for entry in policy.read {
            let walk = walk(entry.path, kinds: kinds)
            let fail = failure(entry, key: "filesystem.read")
            try checkLinks(entry, walk, writableRoots: writableRoots, hidden: hidden, protected: protected, fail: fail)
            for path in [entry.path, walk.resolved] {
                if privateDirectories.contains(path) {
                    throw fail("\(describe(entry.path, walk)) would replace the sandbox's private \(path == "/" ? "root" : path) with the host's; grant what you need below it")
                }
                if isInside(path, "/proc") {
                    throw fail("\(describe(entry.path, walk)) is below /proc: the host's processes, whose /proc/PID/root leads out of the sandbox")
                }
            }
        }
    }

    /// A link in a directory the sandbox can write may be the sandbox's work: refused, with its
    /// name. A link the user made elsewhere is followed, but not into a hidden or protected path.
    private static func checkLinks(_ entry: EffectivePolicy.PathEntry, _ walk: Walk, writableRoots: [String],
                                   hidden: [String], protected: [String], fail: (String) -> ProfileError) throws {
        for link in walk.links {
            if let root = writableRoots.first(where: { isInside(link.directory, $0) }) {
                throw fail("\(link.link) is a symbolic link (to \(link.target)) inside \(root), which the sandbox can write, "
                    + "so a run may have made it: name the real path if you mean it, or remove the link")
            }
        }
        guard let link = walk.links.first else { return }
        if let path = hidden.first(where: { isInside(walk.resolved, $0) }) {
            throw fail("\(entry.path) leads through the symbolic link \(link.link) into \(path), which is hidden")
        }
        if let path = protected.first(where: { isInside(walk.resolved, $0) }) {
            throw fail("\(entry.path) leads through the symbolic link \(link.link) into \(path), which is protected")
        }
    }

    /// Why a path can be neither the project nor a write root, if it is one of those.
    private static func systemReason(_ path: String) -> String? {
        guard systemDirectories.contains(path) else { return nil }
        if path == "/" { return "the whole machine" }
        return privateDirectories.contains(path) || kernelInterfaces.contains(path)
            ? "a directory sbx makes private in the sandbox (the host's holds other programs' sockets, processes or kernel settings)"
            : "a system directory"
    }

    private static func describe(_ path: String, _ walk: Walk) -> String {
        walk.resolved == path ? path : "\(path) (which is \(walk.resolved))"
    }

    /// The error for an entry: the flag, or the profile file, line and key.
    private static func failure(_ entry: EffectivePolicy.PathEntry, key: String) -> (String) -> ProfileError {
        let isFlag = entry.origin.line == 0 && entry.origin.source.hasPrefix("--")
        return { ProfileError(entry.origin, keyPath: isFlag ? nil : key, $0) }
    }

    private static func join(_ directory: String, _ name: String) -> String {
        directory == "/" ? "/" + name : directory + "/" + name
    }
}
