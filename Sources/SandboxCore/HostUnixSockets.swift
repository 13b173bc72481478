#if canImport(Glibc)
import Glibc
#endif

/// The host's unix sockets bound at a path, as /proc/net/unix lists them (the host's network
/// namespace: the supervisor reads it before the sandbox exists). A read-only mount does not
/// stop connect(), seccomp cannot read the address and Landlock has no right for it, so a
/// socket at a visible path is covered (an empty file bound over it) unless the profile names
/// it. This sees the sockets bound when the run starts; one a host program binds later at a
/// visible path is not covered.
public enum HostUnixSockets {
    /// The absolute paths in /proc/net/unix's text (the Path column; abstract sockets, shown
    /// with '@', and unnamed ones have none).
    public static func paths(inProcNetUnix text: String) -> [String] {
        var seen: Set<String> = []
        return text.split(separator: "\n").dropFirst().compactMap { line in
            // Num RefCount Protocol Flags Type St Inode Path: the path is the 8th field, and
            // may hold spaces.
            let fields = line.split(separator: " ", maxSplits: 7, omittingEmptySubsequences: true)
            guard fields.count == 8, fields[7].hasPrefix("/") else { return nil }
            let path = String(fields[7])
            return seen.insert(path).inserted ? path : nil
        }
    }

    /// The host's socket paths now; none when /proc/net/unix cannot be read.
    public static func current() -> [String] {
        guard let file = fopen("/proc/net/unix", "r") else { return [] }
        defer { fclose(file) }
        var text: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count <= 0 { break }
            text += buffer[0..<count]
        }
        return paths(inProcNetUnix: String(decoding: text, as: UTF8.self))
    }
}

extension FilesystemPolicy {
    /// Of the host's `sockets`, those the sandbox would see and reach: existing socket files,
    /// resolved, outside the private directories, outside the project and the writable paths
    /// (the sandbox's own), not hidden already, and not named in `sockets`.
    public func socketsToCover(_ hostSockets: [String], project: String) -> [String] {
        var covered: Set<String> = []
        return hostSockets.compactMap { path in
            guard let real = RunRequest.canonicalPath(path) else { return nil }
            var info = stat()
            guard lstat(real, &info) == 0, (info.st_mode & S_IFMT) == S_IFSOCK else { return nil }
            guard !FilesystemView.privateDirectories.contains(where: { isInside(real, $0) }),
                  !([project] + write).contains(where: { isInside(real, $0) }),
                  !hide.contains(where: { isInside(real, $0) }), !sockets.contains(real),
                  covered.insert(real).inserted else { return nil }
            return real
        }
    }
}
