/// Everything the init inside the sandbox needs, resolved on the host side before launch:
/// the init only executes it, it decides nothing. Travels to the init over the control channel.
public struct SandboxPlan: Equatable, Sendable {
    /// The command and its arguments, exec'd verbatim (never through a shell).
    public var command: [String]
    /// NAME=VALUE entries, already filtered by the environment policy.
    public var environment: [String]
    /// The working directory inside; the same path as outside.
    public var workingDirectory: String
    public var hostname: String
    /// The filesystem view, in the order the init performs it.
    public var mounts: [MountOperation]
    /// File descriptors (besides 0-2) the command inherits; sorted.
    public var passedFileDescriptors: [Int32]
    /// Start the command in a new session, without a controlling terminal.
    public var newSession: Bool
    /// The filters the command's process loads right before exec.
    public var seccomp: SeccompPolicy
    /// Apply Landlock (`LandlockWall`) when the kernel has it.
    public var landlock: Bool
    /// setrlimit(2) pairs (resource, value) for the command: the fallback when cgroup limits
    /// are optional and cannot be applied.
    public var resourceLimits: [ResourceLimit]
    /// Ports on the sandbox's 127.0.0.1 served from the host side (the egress proxy's,
    /// --host-port's): the init listens on each and hands the sockets to the supervisor.
    public var listenPorts: [UInt16]
    /// The init makes sockets in the sandbox's network namespace on the supervisor's request
    /// (`SandboxSockets`), so that --expose can connect to servers inside.
    public var socketService: Bool
    /// The egress proxy's transparent side, for programs that ignore the proxy variables:
    /// 198.18.0.0/15 routed to the sandbox's loopback, a socket listening on 0.0.0.0 for each
    /// of these ports, and a UDP socket on 127.0.0.53:53 for DNS, all handed to the supervisor.
    /// Empty: none of it.
    public var transparentPorts: [UInt16]
    /// Missing protected paths the command cannot create (`CreationGuard`); their parents exist.
    public var guarded: [String]

    public init(command: [String], environment: [String], workingDirectory: String,
                hostname: String, mounts: [MountOperation], passedFileDescriptors: [Int32], newSession: Bool = false,
                seccomp: SeccompPolicy = .standard(), landlock: Bool = true, resourceLimits: [ResourceLimit] = [],
                listenPorts: [UInt16] = [], socketService: Bool = false, transparentPorts: [UInt16] = [],
                guarded: [String] = []) {
        self.command = command
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.hostname = hostname
        self.mounts = mounts
        self.passedFileDescriptors = passedFileDescriptors
        self.newSession = newSession
        self.seccomp = seccomp
        self.landlock = landlock
        self.resourceLimits = resourceLimits
        self.listenPorts = listenPorts
        self.socketService = socketService
        self.transparentPorts = transparentPorts
        self.guarded = guarded
    }
}

public struct ResourceLimit: Equatable, Sendable {
    /// RLIMIT_AS: bytes of address space.
    public static let addressSpace: Int32 = 9
    /// RLIMIT_NPROC: processes of the user, counted in the sandbox's user namespace (Linux
    /// 5.14+); not enforced for root.
    public static let processes: Int32 = 6

    public let resource: Int32
    public let value: UInt64

    public init(resource: Int32, value: UInt64) {
        self.resource = resource
        self.value = value
    }
}

/// One step of building the sandbox's root. Targets are paths as the sandbox sees them;
/// sources are host paths.
public enum MountOperation: Equatable, Sendable {
    /// Bind a host path (and everything mounted below it) at `target`.
    case bind(source: String, target: String, writable: Bool)
    /// A fresh, empty tmpfs of at most `size` bytes (and one inode per page of it).
    case tmpfs(target: String, mode: UInt32, size: UInt64)
    /// A fresh procfs for the sandbox's pid namespace.
    case proc(target: String)
    /// A private devpts instance, its ptmx usable by everyone.
    case devpts(target: String)
    /// A symbolic link at `target` pointing to `destination`.
    case symlink(destination: String, target: String)
    /// Make an already mounted path (and its submounts) read-only, in place.
    case readOnly(target: String)
    /// Hide what is at `target` behind an empty, read-only directory or file (whichever it is).
    case cover(target: String)
    /// The host directory `upper`, writable at `target` through an overlay whose lower layer
    /// (made by the init, in its scratch tmpfs) holds an empty directory at each of `stubs`
    /// (relative paths): those names exist inside only, nothing is created on the host.
    /// `work` is overlayfs' work directory, on the same mount as `upper`, outside it.
    case overlay(target: String, upper: String, work: String, stubs: [String])
    /// Bind what the sandbox already sees at `target` (an overlay's view included) onto
    /// itself: a mount point cannot be removed or renamed; read-only unless `writable`.
    case rebind(target: String, writable: Bool)
}
