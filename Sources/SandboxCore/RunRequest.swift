#if canImport(Glibc)
import Glibc
#endif

/// What `sbx run` will do, decided (profile, flags) but not yet resolved against the host's
/// filesystem. `resolve()` turns it into the plan the init executes.
public struct RunRequest: Sendable {
    public var command: [String]
    /// The writable project directory, canonical (see `canonicalDirectory`).
    public var project: String
    public var workingDirectory: String
    /// NAME (pass the host's value) or NAME=VALUE (set it), on top of the allow-list.
    public var environmentRequests: [String]
    public var passedFileDescriptors: [Int32]
    public var filesystem: FilesystemPolicy
    public var hostname: String
    public var newSession: Bool
    public var seccomp: SeccompPolicy
    public var landlock: Bool
    public var resourceLimits: [ResourceLimit]
    public var listenPorts: [UInt16]
    public var socketService: Bool
    public var transparentPorts: [UInt16]
    /// A file bound read-only over the sandbox's resolver configuration (the transparent
    /// side's DNS), and where: /etc/resolv.conf, or the file it links to.
    public var resolverConfiguration: (source: String, target: String)?

    public init(command: [String], project: String, workingDirectory: String, environmentRequests: [String],
                passedFileDescriptors: [Int32], filesystem: FilesystemPolicy, hostname: String = "sbx",
                newSession: Bool = false, seccomp: SeccompPolicy = .standard(), landlock: Bool = true,
                resourceLimits: [ResourceLimit] = [], listenPorts: [UInt16] = [], socketService: Bool = false,
                transparentPorts: [UInt16] = [], resolverConfiguration: (source: String, target: String)? = nil) {
        self.command = command
        self.project = project
        self.workingDirectory = workingDirectory
        self.environmentRequests = environmentRequests
        self.passedFileDescriptors = passedFileDescriptors
        self.filesystem = filesystem
        self.hostname = hostname
        self.newSession = newSession
        self.seccomp = seccomp
        self.landlock = landlock
        self.resourceLimits = resourceLimits
        self.listenPorts = listenPorts
        self.socketService = socketService
        self.transparentPorts = transparentPorts
        self.resolverConfiguration = resolverConfiguration
    }

    /// Checks the request and lists the host's root into the plan.
    public func resolve() throws -> SandboxPlan {
        guard !command.isEmpty, !command[0].isEmpty else {
            throw SandboxError("no command given: put it after '--', e.g. 'sbx run -- python agent.py'")
        }
        for request in environmentRequests where !EnvironmentPolicy.validate(request) {
            throw SandboxError("--env '\(request)': expected NAME or NAME=VALUE")
        }
        for fd in passedFileDescriptors where fd < 3 {
            throw SandboxError("--pass-fd \(fd): descriptors 0-2 are always passed; give 3 or more")
        }
        for fd in passedFileDescriptors where fcntl(fd, F_GETFD) < 0 {
            throw SandboxError("--pass-fd \(fd): file descriptor \(fd) is not open")
        }
        guard project != "/" else {
            throw SandboxError("the project is '/': that would make the whole machine writable; run sbx from the project's directory or pass --project DIR")
        }
        if !isInside(workingDirectory, project),
           let hidden = FilesystemView.privateDirectories.first(where: { isInside(workingDirectory, $0) }) {
            throw SandboxError("the current directory \(workingDirectory) is not visible in the sandbox (\(hidden) is private there); cd into the project, or pass a --project that contains the current directory")
        }
        let host = EnvironmentPolicy.current()
        let runtimeDirectory = host.first { $0.hasPrefix("XDG_RUNTIME_DIR=") }.map { String($0.dropFirst(16)) }
        var mounts = FilesystemView.operations(hostRoot: try FilesystemView.readHostRoot(), project: project,
                                               runtimeDirectory: runtimeDirectory, policy: filesystem)
        if let resolverConfiguration {
            mounts.append(.bind(source: resolverConfiguration.source, target: resolverConfiguration.target, writable: false))
        }
        return SandboxPlan(command: command,
                           environment: EnvironmentPolicy.resolve(host: host, requests: environmentRequests),
                           workingDirectory: workingDirectory,
                           hostname: hostname,
                           mounts: mounts,
                           passedFileDescriptors: Array(Set(passedFileDescriptors)).sorted(),
                           newSession: newSession,
                           seccomp: seccomp,
                           landlock: landlock,
                           resourceLimits: resourceLimits,
                           listenPorts: listenPorts,
                           socketService: socketService,
                           transparentPorts: transparentPorts,
                           guarded: filesystem.guarded)
    }

    public static func currentDirectory() throws -> String {
        guard let pointer = getcwd(nil, 0) else {
            throw SandboxError.system("cannot read the current directory", errno: errno)
        }
        defer { free(pointer) }
        return String(cString: pointer)
    }

    /// The directory with symlinks resolved, as the kernel will see it at mount time.
    /// `label` names it in errors (e.g. "--project ~/app").
    public static func canonicalDirectory(_ path: String, label: String) throws -> String {
        guard let resolved = canonicalPath(path) else { throw SandboxError.system(label, errno: errno) }
        var info = stat()
        guard stat(resolved, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw SandboxError("\(label): not a directory")
        }
        return resolved
    }

    /// realpath(3); nil (with errno set) when the path does not exist.
    public static func canonicalPath(_ path: String) -> String? {
        guard let pointer = realpath(path, nil) else { return nil }
        defer { free(pointer) }
        return String(cString: pointer)
    }
}
