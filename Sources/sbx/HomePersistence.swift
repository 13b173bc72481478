import Profiles
import SandboxCore

/// What in a home directory the host runs later without being asked: shell startup files,
/// login autostart entries, user services, the first directory on a usual PATH, ssh's
/// authorized keys, git's configuration (hooks, aliases, filters). Whole directories where
/// the file that matters may lie under a missing parent: a stub needs its parent
/// (`~/.config/systemd/user` often has none; `~/.config/systemd` has `~/.config`). When the project or a
/// write path is the home or contains it (`--allow-writable-home`), these stay protected:
/// read-only, and held by a stub when missing, like the profile's `protect` entries.
enum HomePersistence {
    /// Relative to $HOME; a trailing '/': a directory.
    static let paths = [
        ".bashrc", ".bash_profile", ".bash_login", ".bash_logout", ".profile",
        ".zshrc", ".zprofile", ".zshenv", ".zlogin",
        ".config/fish/", ".config/autostart/", ".config/systemd/", ".config/environment.d/",
        ".local/bin/", ".ssh/", ".gitconfig", ".config/git/",
    ]

    static let origin = Origin(source: "sbx: the home directory is granted writable (--allow-writable-home)")

    /// `policy` with the home's startup files protected, when a writable root holds the home.
    static func protect(_ policy: EffectivePolicy, project: String, home: String) -> EffectivePolicy {
        let home = RunRequest.canonicalPath(home) ?? home
        let roots = [project] + policy.write.map { RunRequest.canonicalPath($0.path) ?? $0.path }
        guard roots.contains(where: { isInside(home, $0) }) else { return policy }
        var policy = policy
        for path in paths {
            let full = home + "/" + (path.hasSuffix("/") ? String(path.dropLast()) : path)
            guard !policy.protect.contains(where: { $0.path == full }) else { continue }
            policy.protect.append(EffectivePolicy.PathEntry(path: full, createIfMissing: path.hasSuffix("/"), origin: origin))
        }
        return policy
    }
}
