#if canImport(Glibc)
import Glibc
#endif
import CSandbox

/// Holds the missing protected paths of a run (`FilesystemPolicy.guarded`): nothing in the
/// sandbox can create them, and nothing is created on the host to hold them.
///
/// Two parts, set up by the init after its own Landlock wall:
/// - an extra Landlock layer for the command, which refuses to create any name directly in
///   the directories that hold a protected one (the project root, say): granted below every
///   writable mount point, except down the paths to those directories, where it is granted to
///   each sibling directory instead. The kernel enforces it; no race gets past it.
/// - a seccomp filter that sends every syscall creating a name to the init. The init, under
///   the same base wall and credentials as the command, creates what the layer would wrongly
///   refuse (any other name in those directories, or below a directory made there during the
///   run) from its own copy of the arguments, and hands back the result (an open file through
///   SECCOMP_IOCTL_NOTIF_ADDFD); every other call it lets the kernel run.
///
/// Needs Landlock ABI 2 (renames across directories) and seccomp user notification with
/// ADDFD (Linux 5.14); `FilesystemPolicy.guarded` is empty where they are missing.
public struct CreationGuard {
    /// The extra layer, for the command's process to restrict itself with.
    let ruleset: Int32
    /// The command's process sends the filter's listener on `commandEnd`; the init gets it on `initEnd`.
    let initEnd: Int32
    let commandEnd: Int32
    /// The directories holding protected names, for the warning above.
    let guardedDirectories: [String]

    /// Whether this kernel has what the guard needs (Landlock's level, from `LandlockWall`),
    /// and lets the init read the command's arguments: Yama's ptrace_scope 2 and 3 refuse
    /// process_vm_readv to a process without CAP_SYS_PTRACE, so the init could make no name
    /// next to a protected one (the command would get EACCES for every new file there).
    public static func isAvailable(landlockABI: Int32) -> Bool {
        let scope = CgroupDiscovery.readText("/proc/sys/kernel/yama/ptrace_scope").flatMap { Int($0.filter(\.isNumber)) } ?? 0
        return landlockABI >= 2 && scope < 2
    }

    init(guarded: [String], landlockABI: Int32) throws {
        guard Self.isAvailable(landlockABI: landlockABI) else {
            throw SandboxError("the kernel's Landlock (ABI \(landlockABI)) cannot hold missing protected paths")
        }
        var names: [(directory: sbx_guard_directory, name: String)] = []
        var parents: [String] = []
        for path in guarded {
            let parent = Self.parent(of: path)
            // Removed on the host since sbx looked: nothing to hold it in, and the run says so.
            guard let identity = Self.identity(of: parent) else {
                Self.warn("sbx: warning: \(parent) is gone: \(path) is not held in this run\n")
                continue
            }
            names.append((identity, String(path.dropFirst(parent == "/" ? 1 : parent.count + 1))))
            parents.append(parent)
        }
        guardedDirectories = Array(Set(parents)).sorted()
        // Below each writable mount point, except down to the directories holding protected names.
        var grants: [String] = []
        var refused: [String] = []
        func grant(below directory: String) {
            guard parents.contains(where: { isInside($0, directory) }) else {
                grants.append(directory)
                return
            }
            refused.append(directory)
            for name in directoryNames(directory) ?? [] {
                let child = (directory == "/" ? "" : directory) + "/" + name
                var info = stat()
                if lstat(child, &info) == 0, info.st_mode & S_IFMT == S_IFDIR { grant(below: child) }
            }
        }
        for point in try LandlockWall.writableMountPoints() { grant(below: point) }

        let rights = sbx_guard_landlock_rights(landlockABI)
        let ruleset = sbx_landlock_create_handling(rights)
        try checkShim(ruleset, "create the creation guard's Landlock ruleset")
        var identities: [sbx_guard_directory] = []
        do {
            for path in grants {
                let fd = open(path, 0o10000000 /* O_PATH */ | O_CLOEXEC | O_DIRECTORY)
                guard fd >= 0 else { continue }  // gone meanwhile: nothing to grant
                defer { close(fd) }
                var info = stat()
                guard fstat(fd, &info) == 0 else { continue }
                let identity = sbx_guard_directory(dev: UInt64(info.st_dev), ino: UInt64(info.st_ino))
                if identities.contains(where: { $0.dev == identity.dev && $0.ino == identity.ino }) { continue }
                identities.append(identity)
                try checkShim(sbx_landlock_allow(ruleset, fd, rights), "grant \(path) in the creation guard's ruleset")
            }
            try Self.configure(names: names, grants: identities, refused: refused.compactMap(Self.identity(of:)))
            var pair: [Int32] = [-1, -1]
            try checkLibc(socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair),
                          "make the creation guard's channel")
            (initEnd, commandEnd) = (pair[0], pair[1])
        } catch {
            close(ruleset)
            throw error
        }
        self.ruleset = ruleset
    }

    /// In the command's process, after fork: the layer, then the filter, whose listener goes
    /// to the init. Returns 0 or -errno. Allocates nothing. Where another filter in the chain
    /// has a listener already (sbx in a sandbox that uses seccomp notification), the kernel
    /// allows no second one: the layer alone then holds, and the init says what it refuses.
    func restrictCommand() -> Int32 {
        let restricted = sbx_landlock_restrict(ruleset)
        if restricted != 0 { return restricted }
        let listener = sbx_guard_load_filter()
        if listener == -EBUSY { return 0 }
        if listener < 0 { return listener }
        return sbx_send_fd(commandEnd, listener)
    }

    /// In the init, after fork: the listener; -1 (and a warning) when the command's process
    /// could not have one, or died first (having said why).
    func receiveListener() -> Int32 {
        close(commandEnd)
        close(ruleset)
        defer { close(initEnd) }
        let listener = sbx_receive_fd(initEnd)
        if listener < 0 {
            Self.warn("sbx: warning: seccomp notification is taken by a sandbox around this one: the command cannot create"
                + " new names next to the missing protected paths (" + guardedDirectories.joined(separator: ", ") + ")\n")
        }
        if listener >= 0 { sbx_guard_prefer_sync_wakeup(listener) }
        return max(listener, -1)
    }

    private static func configure(names: [(directory: sbx_guard_directory, name: String)], grants: [sbx_guard_directory],
                                  refused: [sbx_guard_directory]) throws {
        let copies = names.map { strdup($0.name)! }
        defer { copies.forEach { free($0) } }
        let entries = zip(names, copies).map { sbx_guard_name(parent: $0.0.directory, name: $0.1) }
        let rc = entries.withUnsafeBufferPointer { entries in
            grants.withUnsafeBufferPointer { grants in
                refused.withUnsafeBufferPointer { refused in
                    sbx_guard_configure(entries.baseAddress, Int32(entries.count), grants.baseAddress, Int32(grants.count),
                                        refused.baseAddress, Int32(refused.count))
                }
            }
        }
        try checkShim(rc, "configure the creation guard")
    }

    private static func identity(of directory: String) -> sbx_guard_directory? {
        var info = stat()
        guard stat(directory, &info) == 0 else { return nil }
        return sbx_guard_directory(dev: UInt64(info.st_dev), ino: UInt64(info.st_ino))
    }

    private static func warn(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }

    private static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }
}
