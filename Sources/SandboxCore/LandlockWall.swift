#if canImport(Glibc)
import Glibc
#endif
import CSandbox

/// Landlock as a second wall behind the mounts: reading and executing are allowed
/// everywhere the sandbox can see, writing only below its writable mount points (read from
/// the finished mount table, so the two walls always agree). It still holds where the mounts
/// do not reach: a directory passed in by file descriptor, a file system mounted later.
/// Applied by the init after no_new_privs, so the command inherits it; best effort by the
/// kernel's ABI level, skipped on kernels without Landlock.
public enum LandlockWall {
    /// The running kernel's Landlock ABI level; 0 when it has none.
    public static func kernelABI() -> Int32 {
        max(0, sbx_landlock_abi())
    }

    /// Restricts the calling process; returns the ABI level used (0: no Landlock here).
    /// `inherited`: the descriptors the command inherits (0-2, --pass-fd), whose files may lie
    /// where the sandbox sees nothing (a log file on the host, the terminal's pts): reopening
    /// one (`> /dev/stdout`) is allowed as the descriptor was opened, for reading or writing.
    @discardableResult
    static func apply(inherited: [Int32]) throws -> Int32 {
        let abi = kernelABI()
        guard abi > 0 else { return 0 }
        let ruleset = sbx_landlock_create(abi)
        try checkShim(ruleset, "create the Landlock ruleset")
        defer { close(ruleset) }
        try allow("/", abi: abi, writing: false, ruleset: ruleset)
        for path in try writableMountPoints() {
            try allow(path, abi: abi, writing: true, ruleset: ruleset)
        }
        for fd in inherited { allowReopening(fd, abi: abi, ruleset: ruleset) }
        try checkShim(sbx_landlock_restrict(ruleset), "apply the Landlock ruleset")
        return abi
    }

    private static func allow(_ path: String, abi: Int32, writing: Bool, ruleset: Int32) throws {
        let fd = open(path, 0o10000000 /* O_PATH */ | O_CLOEXEC)
        guard fd >= 0 else { throw SandboxError.system("open \(path) for the Landlock ruleset", errno: errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SandboxError.system("stat \(path)", errno: errno) }
        let directory: Int32 = (info.st_mode & S_IFMT) == S_IFDIR ? 1 : 0
        try checkShim(sbx_landlock_allow(ruleset, fd, sbx_landlock_rights(abi, directory, writing ? 1 : 0)),
                      "add \(path) to the Landlock ruleset")
    }

    private static func allowReopening(_ fd: Int32, abi: Int32, ruleset: Int32) {
        var info = stat()
        let mode = fcntl(fd, F_GETFL)
        // Directories are left out: a rule on one would grant the tree below it.
        guard fstat(fd, &info) == 0, mode >= 0, info.st_mode & S_IFMT != S_IFDIR else { return }
        let read = sbx_landlock_rights(abi, 0, 0)
        let readWrite = sbx_landlock_rights(abi, 0, 1)
        let rights: UInt64
        switch mode & O_ACCMODE {
        case O_RDONLY: rights = read
        case O_WRONLY: rights = readWrite & ~read
        default: rights = readWrite
        }
        // Pipes and sockets have no path to check (the kernel allows them): the rule fails, harmlessly.
        _ = sbx_landlock_allow(ruleset, fd, rights)
    }

    /// Mount points whose topmost mount is read-write, from /proc/self/mountinfo.
    static func writableMountPoints() throws -> [String] {
        guard let file = fopen("/proc/self/mountinfo", "re") else {
            throw SandboxError.system("read /proc/self/mountinfo", errno: errno)
        }
        defer { fclose(file) }
        var order: [String] = []
        var writable: [String: Bool] = [:]
        var line: UnsafeMutablePointer<CChar>? = nil
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0, let line {
            // "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS ..." (man 5 proc_pid_mountinfo)
            let fields = String(cString: line).split(separator: " ")
            guard fields.count > 5 else { continue }
            let point = unescape(fields[4])
            if writable[point] == nil { order.append(point) }
            writable[point] = fields[5].split(separator: ",").contains("rw")
        }
        return order.filter { writable[$0] == true }
    }

    /// Mount points escape space, tab, newline and backslash as \ooo.
    static func unescape(_ field: Substring) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(field.utf8)[...]
        while let byte = utf8.first {
            if byte == UInt8(ascii: "\\"), utf8.count >= 4,
               let value = UInt8(String(decoding: utf8.dropFirst().prefix(3), as: UTF8.self), radix: 8) {
                bytes.append(value)
                utf8 = utf8.dropFirst(4)
            } else {
                bytes.append(byte)
                utf8 = utf8.dropFirst()
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
