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

/// The names in a directory, without "." and ".."; nil when it cannot be opened.
public func directoryNames(_ path: String) -> [String]? {
    guard let dir = opendir(path) else { return nil }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        if name != "." && name != ".." { names.append(name) }
    }
    return names
}

/// What the symlink at `path` points to, as written; nil when it is not a symlink.
public func readLink(_ path: String) -> String? {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let n = readlink(path, &buffer, buffer.count - 1)
    guard n > 0 else { return nil }
    return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// The real path of the running sbx binary (symlinks resolved), as an AppArmor profile names it.
public func executablePath() -> String {
    readLink("/proc/self/exe") ?? "/path/to/sbx"
}
