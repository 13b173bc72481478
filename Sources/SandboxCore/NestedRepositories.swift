#if canImport(Glibc)
import Glibc
#endif
import CSandbox

/// The profile's project-relative protected paths (`.git/hooks`, `.envrc`, agents' settings)
/// apply in every repository inside a writable root, at any depth, and at each writable root:
/// a nested repository's hooks run as soon as the user runs git there. A repository whose
/// `.git` is a file (a submodule, a worktree) has its hooks and config where the file points,
/// and a repository's submodules keep theirs in `.git/modules/NAME`: both are protected too.
public enum NestedRepositories {
    /// The repositories below a root at the start of a run, and the means to tell which ones
    /// were made during it (`made()`), reading again only the directories modified since.
    public final class Walk {
        private let tree: OpaquePointer?
        /// The directories below the root that held a `.git` at the walk.
        public let repositories: [String]
        /// The walk stopped at `limit` directories: repositories further down were not found.
        public let cutShort: Bool
        /// How many directories a walk reads at most: a home made the project, or a huge
        /// monorepo, would cost every run seconds (PERFORMANCE.md: 35 ms per 100,000 files).
        public static let limit = 50_000

        public init(root: String, limit: Int = Walk.limit) {
            tree = sbx_tree_walk(root, limit)
            cutShort = tree.map { sbx_tree_cut_short($0) != 0 } ?? false
            var length = 0
            repositories = tree.map { Walk.paths(sbx_tree_repositories($0, &length), length) } ?? []
        }

        deinit { sbx_tree_free(tree) }

        /// The repositories below the root now that were not there at the walk.
        public func made() -> [String] {
            guard let tree else { return [] }
            var length = 0
            return Walk.paths(sbx_tree_new_repositories(tree, &length), length).filter { !repositories.contains($0) }
        }

        private static func paths(_ bytes: UnsafeMutablePointer<CChar>?, _ length: Int) -> [String] {
            guard let bytes else { return [] }
            defer { free(bytes) }
            return UnsafeBufferPointer(start: UnsafeMutableRawPointer(bytes).assumingMemoryBound(to: UInt8.self), count: length)
                .split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        }
    }

    /// The paths `relative` (to a repository root, as the profile's protect entries are to the
    /// project) means in each of `roots`, with the hooks and config of their submodules and of
    /// a `.git` file's directory when `relative` protects `.git/hooks` and `.git/config`.
    /// Lexical: the caller resolves them (existing ones) or holds them (missing ones).
    public static func protectedPaths(relative: [String], roots: [String]) -> [String] {
        let metadata = ["hooks", "config"].filter { relative.contains(".git/" + $0) }
        var paths: [String] = []
        for root in roots {
            paths += relative.map { root + "/" + $0 }
            guard !metadata.isEmpty else { continue }
            var gitDirectories = [root + "/.git"]
            if let common = GitWorktree.commonDirectory(project: root) { gitDirectories = [common] }
            for directory in gitDirectories + gitDirectories.flatMap(submoduleDirectories) {
                paths += metadata.map { directory + "/" + $0 }
            }
        }
        var seen: Set<String> = []
        return paths.filter { seen.insert($0).inserted }
    }

    /// The git directories of a repository's submodules: `modules/NAME` below its git
    /// directory (names may hold slashes), each with submodules of its own.
    static func submoduleDirectories(of gitDirectory: String) -> [String] {
        var found: [String] = []
        func visit(_ directory: String, depth: Int) {
            guard depth < 16, let names = directoryNames(directory) else { return }
            for name in names.sorted() {
                let child = directory + "/" + name
                var info = stat()
                guard lstat(child, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else { continue }
                if lstat(child + "/HEAD", &info) == 0 {
                    found.append(child)
                    visit(child + "/modules", depth: depth + 1)
                } else {
                    visit(child, depth: depth + 1)  // a module name with a slash: "libs/x"
                }
            }
        }
        visit(gitDirectory + "/modules", depth: 0)
        return found
    }
}
