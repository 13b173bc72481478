#if canImport(Glibc)
import Glibc
#endif

/// What the user asked `sbx run` for, before it is resolved against the host into a plan.
public struct RunRequest: Sendable {
    public var command: [String]
    /// The directory the sandbox may write; nil means the current directory.
    public var project: String?
    public var environmentRequests: [String]
    public var passedFileDescriptors: [Int32]

    public init(command: [String], project: String?, environmentRequests: [String], passedFileDescriptors: [Int32]) {
        self.command = command
        self.project = project
        self.environmentRequests = environmentRequests
        self.passedFileDescriptors = passedFileDescriptors
    }

    /// Resolves paths, environment and filesystem view into the plan the init executes.
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
        let workingDirectory = try currentDirectory()
        let projectPath = try canonicalDirectory(project ?? workingDirectory, flag: project == nil ? nil : "--project")
        guard projectPath != "/" else {
            throw SandboxError("the project is '/': that would make the whole machine writable; run sbx from the project's directory or pass --project DIR")
        }
        if !isInside(workingDirectory, projectPath),
           let hidden = BaseFilesystemView.privateDirectories.first(where: { isInside(workingDirectory, $0) }) {
            throw SandboxError("the current directory \(workingDirectory) is not visible in the sandbox (\(hidden) is private there); cd into the project, or pass a --project that contains the current directory")
        }
        let host = EnvironmentPolicy.current()
        let runtimeDirectory = host.first { $0.hasPrefix("XDG_RUNTIME_DIR=") }.map { String($0.dropFirst(16)) }
        let mounts = BaseFilesystemView.operations(hostRoot: try BaseFilesystemView.readHostRoot(),
                                                   project: projectPath, runtimeDirectory: runtimeDirectory)
        return SandboxPlan(command: command,
                           environment: EnvironmentPolicy.resolve(host: host, requests: environmentRequests),
                           workingDirectory: workingDirectory,
                           hostname: "sbx",
                           mounts: mounts,
                           passedFileDescriptors: Array(Set(passedFileDescriptors)).sorted())
    }

    private func currentDirectory() throws -> String {
        guard let pointer = getcwd(nil, 0) else {
            throw SandboxError.system("cannot read the current directory", errno: errno)
        }
        defer { free(pointer) }
        return String(cString: pointer)
    }

    /// The path with symlinks resolved, as the kernel will see it at mount time.
    private func canonicalDirectory(_ path: String, flag: String?) throws -> String {
        let label = flag.map { "\($0) \(path)" } ?? path
        guard let pointer = realpath(path, nil) else { throw SandboxError.system(label, errno: errno) }
        defer { free(pointer) }
        let resolved = String(cString: pointer)
        var info = stat()
        guard stat(resolved, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw SandboxError("\(label): not a directory")
        }
        return resolved
    }
}
