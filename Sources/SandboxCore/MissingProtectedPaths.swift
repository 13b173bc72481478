#if canImport(Glibc)
import Glibc
#endif

/// A protected path that does not exist (yet). A mount needs something to mount on, so such a
/// path is held by a stub: an empty directory that exists inside the sandbox only, in the
/// lower layer of an overlay over the writable root that contains it (`StubOverlay`), bound
/// read-only onto itself. Nothing is created in the project on the host, and git inside does
/// not see an empty directory.
public struct MissingProtectedPath: Equatable, Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// Where a dangling symlink at `path` points (one level, made absolute and normalised);
    /// nil when `path` is not a symlink.
    public static func danglingTarget(of path: String) -> String? {
        guard let target = readLink(path) else { return nil }
        let parent = path[..<(path.lastIndex(of: "/") ?? path.startIndex)]
        let joined = target.hasPrefix("/") ? target : parent + "/" + target
        var parts: [Substring] = []
        for part in joined.split(separator: "/") where part != "." {
            if part == ".." { _ = parts.popLast() } else { parts.append(part) }
        }
        return "/" + parts.joined(separator: "/")
    }
}

/// The stubs of one writable root: its overlay's work directory, and the missing protected
/// paths (absolute) it holds.
public struct StubOverlay: Equatable, Sendable {
    public let root: String
    public let work: String
    public let stubs: [String]

    public init(root: String, work: String, stubs: [String]) {
        self.root = root
        self.work = work
        self.stubs = stubs
    }

    /// The stubs relative to the root, as the overlay's lower layer holds them.
    var relativeStubs: [String] { stubs.map { String($0.dropFirst(root.count + 1)) } }
}

extension FilesystemPolicy {
    /// The missing protected paths nothing can hold because their parent is missing too
    /// (`.git/hooks` before there is a `.git`), inside the writable roots: nothing stops the
    /// command from creating them, so a run says so when it did.
    public func unheld(_ paths: [MissingProtectedPath], project: String) -> [String] {
        let roots = [project] + write
        return paths.map(\.path).filter { path in
            guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return false }
            var info = stat()
            return lstat(String(path[..<slash]), &info) != 0
                && roots.contains { isInside(path, $0) && path != $0 } && !isHidden(path, project: project)
        }
    }

    /// Which of the missing protected `paths` (absolute, normalised) need a stub: those whose
    /// parent directory exists, inside the project or a writable path, and not hidden
    /// (`isHidden`: a writable path inside a hidden one shows its part again). The parent is
    /// resolved (symlinks followed) as the mounts will be. Missing parents get none: a stub
    /// there would be a directory the command did not make (breaking `git init`, which wants
    /// to fill .git/hooks).
    public func stubbed(_ paths: [MissingProtectedPath], project: String) -> [MissingProtectedPath] {
        let roots = [project] + write
        var seen: Set<String> = []
        return paths.compactMap { entry in
            guard let slash = entry.path.lastIndex(of: "/") else { return nil }
            let name = entry.path[entry.path.index(after: slash)...]
            let lexicalParent = slash == entry.path.startIndex ? "/" : String(entry.path[..<slash])
            // A parent the caller cannot write to needs no stub: the sandbox runs as the caller.
            guard !name.isEmpty, let parent = try? RunRequest.canonicalDirectory(lexicalParent, label: lexicalParent),
                  access(parent, W_OK) == 0 else { return nil }
            let path = (parent == "/" ? "" : parent) + "/" + name
            guard roots.contains(where: { isInside(path, $0) && path != $0 }), !isHidden(path, project: project),
                  seen.insert(path).inserted else { return nil }
            return MissingProtectedPath(path: path)
        }
    }

    /// The writable root (the project or a `write` path) a path lies in: the innermost one.
    public func writableRoot(of path: String, project: String) -> String? {
        ([project] + write).filter { isInside(path, $0) }.max { $0.count < $1.count }
    }
}
