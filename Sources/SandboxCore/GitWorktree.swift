#if canImport(Glibc)
import Glibc
#endif

/// A project that is a git worktree has a `.git` file ("gitdir: PATH") instead of a
/// directory; its hooks and config live in the main repository's git directory (the "common
/// directory"). Those are what `.git/hooks` and `.git/config` mean there, so they are
/// protected too wherever they are writable (when the main repository is granted, as a commit
/// from the worktree needs).
public enum GitWorktree {
    /// The main repository's hooks and config, when `project` is a worktree and `protect`
    /// (the profile's paths) protects the project's .git/hooks and .git/config; existing only.
    public static func protectedPaths(project: String, protect: [String]) -> [String] {
        guard let common = commonDirectory(project: project) else { return [] }
        return ["hooks", "config"].filter { protect.contains(project + "/.git/" + $0) }
            .compactMap { RunRequest.canonicalPath(common + "/" + $0) }
    }

    static func commonDirectory(project: String) -> String? {
        var info = stat()
        guard lstat(project + "/.git", &info) == 0, (info.st_mode & S_IFMT) == S_IFREG,
              let text = CgroupDiscovery.readText(project + "/.git"),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("gitdir:") }) else { return nil }
        var gitdir = String(line.dropFirst(7).drop { $0 == " " })
        if !gitdir.hasPrefix("/") { gitdir = project + "/" + gitdir }
        // A worktree's git directory names the common one in "commondir" (usually "../..").
        guard let common = CgroupDiscovery.readText(gitdir + "/commondir")?.split(separator: "\n").first else { return gitdir }
        return common.hasPrefix("/") ? String(common) : gitdir + "/" + common
    }
}
