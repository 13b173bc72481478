#if canImport(Glibc)
import Glibc
#endif

/// Where this process sits in the cgroup v2 hierarchy, found the way the kernel documents it:
/// the cgroup2 mount from /proc/self/mountinfo, the process's path from the "0::" line of
/// /proc/self/cgroup. Neither "/sys/fs/cgroup is cgroup2" nor "the first line is 0::" holds
/// everywhere (a hybrid host has v1 controllers there and cgroup2 at /sys/fs/cgroup/unified).
public struct CgroupLocation: Equatable, Sendable {
    /// Where the cgroup2 file system is mounted.
    public let mountPoint: String
    /// This process's cgroup, as a directory under `mountPoint`.
    public let directory: String
    /// Whether that is the hierarchy's root (exempt from the no-internal-processes rule).
    public let isRoot: Bool
    /// cgroup v1 hierarchies are mounted too (a hybrid host: the controllers sit in v1).
    public var isHybrid = false
}

public enum CgroupDiscovery {
    /// The process's cgroup, or why there is none to use.
    public static func locate() -> Result<CgroupLocation, CgroupUnavailable> {
        guard let mountinfo = readText("/proc/self/mountinfo"), let membership = readText("/proc/self/cgroup") else {
            return .failure(CgroupUnavailable("cannot read /proc/self/mountinfo or /proc/self/cgroup"))
        }
        return locate(mountinfo: mountinfo, membership: membership)
    }

    static func locate(mountinfo: String, membership: String) -> Result<CgroupLocation, CgroupUnavailable> {
        guard let path = unifiedPath(membership) else {
            let deleted = membership.split(separator: "\n").contains { $0.hasPrefix("0::") && $0.hasSuffix(" (deleted)") }
            return .failure(CgroupUnavailable(deleted ? "this process's cgroup v2 cgroup has been removed"
                                                      : "this process is in no cgroup v2 hierarchy (no \"0::\" line in /proc/self/cgroup)"))
        }
        // A mount shows the hierarchy from its root; the process's path must lie below it.
        let mounts = cgroup2Mounts(mountinfo)
        guard let mount = mounts.first(where: { isInside(path, $0.root) }) else {
            return .failure(CgroupUnavailable(mounts.isEmpty ? "no cgroup2 file system is mounted"
                                                             : "the cgroup2 mount does not show this process's cgroup \(path)"))
        }
        let relative = mount.root == "/" ? path : String(path.dropFirst(mount.root.count))
        let directory = mount.mountPoint + (relative == "/" ? "" : relative)
        var location = CgroupLocation(mountPoint: mount.mountPoint, directory: directory, isRoot: path == "/")
        location.isHybrid = mountinfo.split(separator: "\n").contains { line in
            let fields = line.split(separator: " ")
            return fields.firstIndex(of: "-").map { $0 + 1 < fields.count && fields[$0 + 1] == "cgroup" } ?? false
        }
        return .success(location)
    }

    /// cgroup2 mounts: (mount point, root within the hierarchy), in mount order.
    static func cgroup2Mounts(_ mountinfo: String) -> [(mountPoint: String, root: String)] {
        mountinfo.split(separator: "\n").compactMap { line in
            // "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER"
            let fields = line.split(separator: " ")
            guard let dash = fields.firstIndex(of: "-"), dash + 1 < fields.count, fields[dash + 1] == "cgroup2",
                  fields.count > 4 else { return nil }
            return (LandlockWall.unescape(fields[4]), LandlockWall.unescape(fields[3]))
        }
    }

    /// The path of the "0::PATH" line.
    static func unifiedPath(_ membership: String) -> String? {
        for line in membership.split(separator: "\n") where line.hasPrefix("0::") {
            let path = String(line.dropFirst(3))
            // " (deleted)" marks a cgroup removed under us.
            return path.hasPrefix("/") && !path.hasSuffix(" (deleted)") ? path : nil
        }
        return nil
    }

    /// The controllers listed in a cgroup's space-separated file (cgroup.controllers, cgroup.subtree_control).
    static func controllers(_ file: String) -> Set<String> {
        Set((readText(file) ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
    }

    static func readText(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return n == 0 ? String(decoding: bytes, as: UTF8.self) : nil }
            bytes += buffer[0..<n]
        }
    }
}

/// Why cgroup limits cannot be applied here, in words a user can act on.
public struct CgroupUnavailable: Error, Equatable, Sendable {
    public let reason: String

    public init(_ reason: String) { self.reason = reason }
}
