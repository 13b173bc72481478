#if canImport(Glibc)
import Glibc
#endif

/// Writes all of `bytes` to `fd`, across short writes and EINTR.
public func writeFully(_ fd: Int32, _ bytes: [UInt8], what: String) throws {
    var offset = 0
    while offset < bytes.count {
        let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { throw SandboxError.system("write to \(what)", errno: errno) }
        offset += n
    }
}

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
