#if canImport(Glibc)
import Glibc
#endif

/// The sandbox's user namespace: the caller keeps their own uid and gid inside (one-to-one
/// maps, as bubblewrap does by default), root included, and everything else is unmapped.
enum UserNamespace {
    static func writeMaps(for pid: pid_t, uid: uid_t, gid: gid_t) throws {
        // setgroups must be denied before an unprivileged process may write gid_map.
        try writeProcFile(pid, "setgroups", "deny")
        try writeProcFile(pid, "uid_map", "\(uid) \(uid) 1\n")
        try writeProcFile(pid, "gid_map", "\(gid) \(gid) 1\n")
    }

    private static func writeProcFile(_ pid: pid_t, _ name: String, _ content: String) throws {
        let path = "/proc/\(pid)/\(name)"
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SandboxError.system("open \(path)", errno: errno) }
        defer { close(fd) }
        let bytes = Array(content.utf8)
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count else { throw SandboxError.system("write \(path)", errno: errno) }
    }

    /// Why user namespaces are unavailable, with the fix, read from the knobs distributions use.
    static func diagnoseUnavailable(errno code: Int32) -> SandboxError {
        let cause: String
        if let found = UserNamespaceKnobs.read().restriction(binary: executablePath(), root: geteuid() == 0) {
            cause = "\(found.cause). Fix: \(found.fix)"
        } else if code == ENOSPC {
            cause = "the limit on user namespaces is reached (user.max_user_namespaces). " +
                "Fix: raise it, or end other sandboxes"
        } else {
            cause = "the kernel refused to create them: \(String(cString: strerror(code)))"
        }
        return SandboxError("cannot create the sandbox's namespaces: \(cause). sbx never runs a command unsandboxed"
                            + HostCheck.doctorPointer)
    }
}

extension String {
    public func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}
