#if canImport(Glibc)
import Glibc
#endif

/// The sizes of the sandbox's private tmpfs mounts (/tmp, /dev/shm, /run), in bytes. The
/// kernel's default is half the host's RAM for each, so one sandbox could fill the host's
/// memory three times over; tmpfs pages are memory nothing else reclaims.
public struct PrivateTmpfsSizes: Equatable, Sendable {
    public var tmp: UInt64
    public var shm: UInt64
    public var run: UInt64

    public init(tmp: UInt64, shm: UInt64, run: UInt64) {
        self.tmp = tmp
        self.shm = shm
        self.run = run
    }

    /// /dev holds only the device nodes' mount points and a few links; the command may still
    /// write there (the caller owns it inside), so it is bounded too.
    public static let dev: UInt64 = 1 << 20

    /// The smallest size a profile or flag may ask for.
    public static let minimum: UInt64 = 1 << 20

    /// Inodes for a tmpfs of `bytes`: one per page, the kernel's own ratio for its default
    /// (half the RAM, half the RAM's pages). Empty files use no size but each inode is kernel
    /// memory, so without this bound a sandbox could still create millions of them.
    static func inodes(forBytes bytes: UInt64) -> UInt64 { max(bytes / 4096, 64) }

    /// `bytes` as a size is written: "1G", "256M", "1536K", "1000".
    public static func text(_ bytes: UInt64) -> String {
        for (unit, shift) in [("T", 40), ("G", 30), ("M", 20), ("K", 10)] as [(String, UInt64)]
        where bytes >= 1 << shift && bytes % (1 << shift) == 0 {
            return "\(bytes >> shift)\(unit)"
        }
        return String(bytes)
    }

    /// The host's RAM in bytes, 0 when unknown.
    public static func hostMemory() -> UInt64 {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), pageSize = sysconf(Int32(_SC_PAGESIZE))
        guard pages > 0, pageSize > 0 else { return 0 }
        return UInt64(pages) * UInt64(pageSize)
    }
}
