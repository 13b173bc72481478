#if canImport(Glibc)
import Glibc
#endif

/// Creates `path` and its missing parents with `mode` (like mkdir -p); existing ones are kept.
public func makeDirectories(_ path: String, mode: mode_t) throws {
    var prefix = ""
    for component in path.split(separator: "/") {
        prefix += "/" + component
        if mkdir(prefix, mode) != 0 && errno != EEXIST {
            throw SandboxError.system("create \(prefix)", errno: errno)
        }
    }
}
