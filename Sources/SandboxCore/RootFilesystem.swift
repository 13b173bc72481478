#if canImport(Glibc)
import Glibc
#endif
import CSandbox

/// Builds the sandbox's root inside the init's fresh mount namespace, bottom-up, following the
/// plan's mount operations, then makes it the root. Nothing of the host is visible afterwards
/// except what an operation bound in.
///
/// Layout while building: "/" is a scratch tmpfs, the host's root is at /oldroot (sources are
/// read there) and the new root is the tmpfs at /newroot (targets are written there).
struct RootFilesystem {
    let operations: [MountOperation]

    private static let scratch = "/tmp"
    private static let oldRoot = "/oldroot"
    private static let newRoot = "/newroot"
    /// An empty file in the scratch tmpfs, bound over files that are covered.
    private static let emptyFile = "/empty"

    func build() throws {
        // Nothing we mount may propagate back to the host.
        try mount(nil, "/", nil, UInt(MS_REC | MS_PRIVATE), nil, "make the mount tree private")
        try mount("tmpfs", Self.scratch, "tmpfs", UInt(MS_NOSUID | MS_NODEV), "mode=0755", "mount the scratch tmpfs")
        try checkLibc(chdir(Self.scratch), "chdir \(Self.scratch)")
        try checkLibc(mkdir("oldroot", 0o755), "mkdir oldroot")
        try checkLibc(mkdir("newroot", 0o755), "mkdir newroot")
        try mount("tmpfs", "newroot", "tmpfs", UInt(MS_NOSUID | MS_NODEV), "mode=0755", "mount the new root")
        try checkShim(sbx_pivot_root(".", "oldroot"), "pivot_root into the scratch tmpfs")
        try checkLibc(chdir("/"), "chdir /")
        try checkLibc(open(Self.emptyFile, O_CREAT | O_WRONLY | O_CLOEXEC, 0o444), "create the empty file").closing()

        // Directories made read-only once everything below them is mounted: the new root
        // itself (the sandbox cannot add files next to /usr) and every covering tmpfs.
        var sealAtEnd = [Self.newRoot]
        for operation in operations {
            try perform(operation, sealAtEnd: &sealAtEnd)
        }
        for path in sealAtEnd.reversed() {
            try checkShim(sbx_mount_set_attributes(path, UInt64(SBX_MOUNT_RDONLY), 0),
                          "make \(path.dropFirst(Self.newRoot.count)) read-only")
        }
        // pivot_root(".", ".") stacks the old root on top of the new one; detaching it leaves
        // only the new root (pivot_root(2), NOTES).
        try checkLibc(chdir(Self.newRoot), "chdir \(Self.newRoot)")
        try checkShim(sbx_pivot_root(".", "."), "pivot_root into the new root")
        try checkLibc(umount2(".", Int32(MNT_DETACH)), "detach the host's root")
        try checkLibc(chdir("/"), "chdir /")
    }

    private func perform(_ operation: MountOperation, sealAtEnd: inout [String]) throws {
        switch operation {
        case let .bind(source, target, writable):
            let from = Self.oldRoot + source
            let to = Self.newRoot + target
            var info = stat()
            try checkLibc(lstat(from, &info), "bind \(source): cannot find it")
            try makeMountPoint(to, directory: (info.st_mode & S_IFMT) == S_IFDIR)
            var flags = UInt64(SBX_MOUNT_NOSUID)
            if !writable { flags |= UInt64(SBX_MOUNT_RDONLY) }
            // Device nodes are bound one by one onto /dev; nodev elsewhere.
            if !target.hasPrefix("/dev/") { flags |= UInt64(SBX_MOUNT_NODEV) }
            // Sources and targets are canonical paths (resolved on the host), so a symlink on
            // the way means one was swapped in since: refuse rather than mount elsewhere.
            var step: Int32 = 0
            let rc = sbx_bind_without_symlinks(from, to, flags, &step)
            if rc == -ELOOP {
                throw SandboxError("bind \(source) at \(target): a symlink appeared on the \(step == 0 ? "source" : "target") path while the sandbox was being set up; run again")
            }
            try checkShim(rc, "bind \(source) at \(target) (\(["open the source", "open the target", "clone the mount", "set its flags", "attach it"][Int(step)]))")
        case let .tmpfs(target, mode, size):
            let to = Self.newRoot + target
            try makeMountPoint(to, directory: true)
            let options = "mode=0\(String(mode, radix: 8)),size=\(size),nr_inodes=\(PrivateTmpfsSizes.inodes(forBytes: size))"
            try mount("tmpfs", to, "tmpfs", UInt(MS_NOSUID | MS_NODEV), options, "mount a tmpfs at \(target)")
        case let .proc(target):
            let to = Self.newRoot + target
            try makeMountPoint(to, directory: true)
            try mount("proc", to, "proc", UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC), nil, "mount /proc")
        case let .devpts(target):
            let to = Self.newRoot + target
            try makeMountPoint(to, directory: true)
            try mount("devpts", to, "devpts", UInt(MS_NOSUID | MS_NOEXEC), "newinstance,ptmxmode=0666,mode=0620",
                      "mount devpts at \(target)")
        case let .symlink(destination, target):
            let to = Self.newRoot + target
            try makeParents(of: to)
            try checkLibc(symlink(destination, to), "create the symlink \(target)")
        case let .readOnly(target):
            let to = Self.newRoot + target
            guard access(to, F_OK) == 0 else { return }  // nothing there, nothing to protect
            try mount(to, to, nil, UInt(MS_BIND | MS_REC), nil, "bind \(target) onto itself")
            let flags = UInt64(SBX_MOUNT_RDONLY | SBX_MOUNT_NOSUID | SBX_MOUNT_NODEV)
            try checkShim(sbx_mount_set_attributes(to, flags, 1), "make \(target) read-only")
        case let .overlay(target, upper, work, stubs):
            // The lower layer: the stubs' directories, in the scratch tmpfs, at /lower<target>.
            let lower = "/lower" + target
            try makeDirectories(lower, mode: 0o755)
            for stub in stubs { try makeDirectories(lower + "/" + stub, mode: 0o755) }
            let to = Self.newRoot + target
            try makeMountPoint(to, directory: true)
            // userxattr: the only way inside a user namespace. index=off: another run's overlay
            // may have the same upper directory, which the index would refuse. xino=off: no
            // inode number mapping on every stat (a grep -r over the layers: +22% instead of +36%).
            let options = "userxattr,index=off,xino=off,lowerdir=\(lower),upperdir=\(Self.oldRoot + upper),workdir=\(Self.oldRoot + work)"
            guard Glibc.mount("overlay", to, "overlay", UInt(MS_NOSUID | MS_NODEV), options) == 0 else {
                // A kernel or filesystem that refuses it (before 6.6, tmpfs has no user xattrs):
                // the root as without stubs; its missing protected paths are then not held, as
                // the supervisor's check at the end and this warning say.
                let reason = String(cString: strerror(errno))
                warn("sbx: warning: overlayfs refused to overlay \(target) (\(reason)): its missing protected paths are not held in this run; sbx reports at the end those the command created")
                try perform(.bind(source: upper, target: target, writable: true), sealAtEnd: &sealAtEnd)
                return
            }
        case let .rebind(target, writable):
            let to = Self.newRoot + target
            var info = stat()
            guard lstat(to, &info) == 0 else { return }  // a stub of an overlay that was refused
            var flags = UInt64(SBX_MOUNT_NOSUID | SBX_MOUNT_NODEV)
            if !writable { flags |= UInt64(SBX_MOUNT_RDONLY) }
            var step: Int32 = 0
            let rc = sbx_bind_without_symlinks(to, to, flags, &step)
            if rc == -ELOOP {
                throw SandboxError("bind \(target) onto itself: a symlink appeared on the path while the sandbox was being set up; run again")
            }
            try checkShim(rc, "bind \(target) onto itself")
        case let .cover(target):
            let to = Self.newRoot + target
            var info = stat()
            guard lstat(to, &info) == 0 else { return }  // nothing there, nothing to hide
            if (info.st_mode & S_IFMT) == S_IFDIR {
                try mount("tmpfs", to, "tmpfs", UInt(MS_NOSUID | MS_NODEV), "mode=0755", "cover \(target)")
                sealAtEnd.append(to)
            } else {
                try mount(Self.emptyFile, to, nil, UInt(MS_BIND), nil, "cover \(target)")
                let flags = UInt64(SBX_MOUNT_RDONLY | SBX_MOUNT_NOSUID | SBX_MOUNT_NODEV)
                try checkShim(sbx_mount_set_attributes(to, flags, 0), "make the cover of \(target) read-only")
            }
        }
    }

    /// Creates what a mount needs to land on: a directory, or an empty file for a file bind.
    private func makeMountPoint(_ path: String, directory: Bool) throws {
        var info = stat()
        if lstat(path, &info) == 0 { return }
        try makeParents(of: path)
        if directory {
            try checkLibc(mkdir(path, 0o755), "create the mount point \(path.dropFirst(Self.newRoot.count))")
        } else {
            let fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0o644)
            try checkLibc(fd, "create the mount point \(path.dropFirst(Self.newRoot.count))")
            close(fd)
        }
    }

    private func makeParents(of path: String) throws {
        var prefix = ""
        let components = path.split(separator: "/")
        for component in components.dropLast() {
            prefix += "/" + component
            var info = stat()
            if lstat(prefix, &info) == 0 { continue }
            try checkLibc(mkdir(prefix, 0o755), "create the directory \(prefix.dropFirst(Self.newRoot.count))")
        }
    }

    private func mount(_ source: String?, _ target: String, _ type: String?, _ flags: UInt, _ data: String?,
                       _ what: @autoclosure () -> String) throws {
        try checkLibc(Glibc.mount(source, target, type, flags, data), what())
    }
}

/// A line on the caller's stderr, which the init shares: the command has not started yet.
private func warn(_ message: String) {
    let line = Array((message + "\n").utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
