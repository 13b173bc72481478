#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Profiles
import SandboxCore

/// The flags that choose and adjust the policy, shared by `run` and `explain`.
struct PolicyOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("A profile name (see 'sbx profile list') or a path to a .toml file.", valueName: "name|path"))
    var profile: String?

    @Flag(name: .customLong("no-project-profile"), help: "Ignore the project's .sbx.toml.")
    var noProjectProfile = false

    @Option(name: .long, help: ArgumentHelp("The directory the command may write (default: the current directory).", valueName: "dir"))
    var project: String?

    @Option(name: .long, help: ArgumentHelp("Pass the variable NAME from the environment, or set NAME=VALUE. Repeatable.", valueName: "name[=value]"))
    var env: [String] = []

    @Option(name: .customLong("rw"), help: ArgumentHelp("Make PATH writable. Repeatable.", valueName: "path"))
    var writable: [String] = []

    @Flag(name: .customLong("allow-writable-home"), help: "Let the project or a --rw path be your home directory or contain it (its shell startup files, autostart entries, ~/.local/bin stay read-only).")
    var allowWritableHome = false

    @Option(name: .customLong("ro"), help: ArgumentHelp("Make PATH visible read-only. Repeatable.", valueName: "path"))
    var readOnly: [String] = []

    @Option(name: .long, help: ArgumentHelp("Hide PATH (an empty directory or file in its place). Repeatable.", valueName: "path"))
    var hide: [String] = []

    @Option(name: .customLong("allow-domain"), help: ArgumentHelp("Allow egress to DOMAIN (with --net proxy). Repeatable.", valueName: "domain"))
    var allowDomain: [String] = []

    @Option(name: .customLong("net"), help: ArgumentHelp("Network: none or proxy (--allow-domain implies proxy).", valueName: "mode"))
    var network: String?

    @Option(name: .customLong("host-port"), help: ArgumentHelp("Make the host's 127.0.0.1:PORT (a database, a dev server) reachable at the sandbox's 127.0.0.1:PORT. Repeatable.", valueName: "port"))
    var hostPorts: [Int] = []

    @Option(name: .customLong("expose"), help: ArgumentHelp("Make the sandbox's PORT (a dev server inside) reachable at the host's 127.0.0.1:PORT. Repeatable.", valueName: "port"))
    var exposePorts: [Int] = []

    @Option(name: .customLong("add-host"), help: ArgumentHelp("Resolve NAME to ADDRESS in the proxy, before DNS (like curl's --resolve). Repeatable.", valueName: "name=address"))
    var addHost: [String] = []

    // .unconditional: "--pids -1" is a value to refuse with its range, not a missing value.
    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Memory limit, e.g. 2G.", valueName: "size"))
    var memory: String?

    @Option(name: .customLong("tmp-size"), parsing: .unconditional, help: ArgumentHelp("Size of the private /tmp, e.g. 4G (default 1G).", valueName: "size"))
    var tmpSize: String?

    @Option(name: .customLong("shm-size"), parsing: .unconditional, help: ArgumentHelp("Size of the private /dev/shm (default 256M).", valueName: "size"))
    var shmSize: String?

    @Option(name: .customLong("run-size"), parsing: .unconditional, help: ArgumentHelp("Size of the private /run (default 64M).", valueName: "size"))
    var runSize: String?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("CPU limit, e.g. 1.5.", valueName: "n"))
    var cpus: Double?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Process limit.", valueName: "n"))
    var pids: Int?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Wall-clock limit, e.g. 30m.", valueName: "duration"))
    var timeout: String?

    var flagOverrides: FlagOverrides {
        var flags = FlagOverrides()
        flags.read = readOnly
        flags.write = writable
        flags.hide = hide
        flags.allowWritableHome = allowWritableHome
        flags.environment = env
        flags.allowDomains = allowDomain
        flags.network = network
        flags.memory = memory
        flags.tmpSize = tmpSize
        flags.shmSize = shmSize
        flags.runSize = runSize
        flags.cpus = cpus
        flags.pids = pids
        flags.timeout = timeout
        return flags
    }

    /// The project, the working directory, the home directory and the effective policy for them;
    /// grants that could be turned against the host are refused here (`GrantCheck`), unless
    /// `checkingGrants` is false: for what uses no path of the policy (`sbx export seccomp`).
    /// `seedingAgentState`: copy the host's files into the agent's directory (a run, not `explain`).
    func resolve(checkingGrants: Bool = true, seedingAgentState: Bool = false) throws -> (policy: EffectivePolicy, project: String, workingDirectory: String, home: String) {
        let workingDirectory = try RunRequest.currentDirectory()
        let project = try RunRequest.canonicalDirectory(project ?? workingDirectory, label: project.map { "--project \($0)" } ?? workingDirectory)
        let environment = HostUser.environment()
        let home = HostUser.home(environment: environment)
        let variables = Variables(home: home, project: project, workingDirectory: workingDirectory, uid: getuid(),
                                  environment: environment) { tool in
            // Asking npm or pip costs a few hundred milliseconds: their answers are kept a day.
            let state = try? HostUser.stateDirectory(environment: environment, home: home)
            let runner = state.map { CommandRunner.cachedSystem(directory: $0 + "/tool-answers", environment: environment) } ?? .system
            return ToolIndexHosts.resolve(tool, environment: environment, home: home, project: project, runner: runner)
        }
        let loader = PolicyLoader(store: HostUser.profileStore(environment: environment, home: home), variables: variables)
        let policy = try loader.load(profile: profile, flags: flagOverrides, useProjectFile: !noProjectProfile)
        if checkingGrants {
            try GrantCheck.check(policy, project: project, projectLabel: self.project.map { "--project \($0)" } ?? "the current directory", home: home)
        }
        var resolved = HomePersistence.protect(policy, project: project, home: home)
        if resolved.agentState != nil {
            let state = try HostUser.stateDirectory(environment: environment, home: home)
            resolved = try AgentStateDirectory.apply(resolved, state: state, seeding: seedingAgentState)
        }
        return (resolved, project, workingDirectory, home)
    }
}

/// The calling user's environment, home and profile directories.
enum HostUser {
    static func environment() -> [String: String] {
        Dictionary(EnvironmentPolicy.current().compactMap { entry -> (String, String)? in
            guard let equals = entry.firstIndex(of: "=") else { return nil }
            return (String(entry[..<equals]), String(entry[entry.index(after: equals)...]))
        }, uniquingKeysWith: { first, _ in first })
    }

    /// $HOME when it is an absolute path, else the password database.
    static func home(environment: [String: String]) -> String {
        if let home = environment["HOME"], home.hasPrefix("/") { return home }
        if let entry = getpwuid(getuid()), let dir = entry.pointee.pw_dir { return String(cString: dir) }
        return "/"
    }

    /// Where sbx keeps its state (audit files, overlay work directories): `$XDG_STATE_HOME/sbx`
    /// (default ~/.local/state/sbx), created private; when that cannot be created (a home that
    /// is not the caller's, as under `sudo -u` or setpriv with HOME kept), /tmp/sbx-UID, which
    /// must then be a private directory of the caller's. The sandboxes never see either
    /// writable: home is read-only or hidden there, /tmp is private.
    static func stateDirectory(environment: [String: String], home: String) throws -> String {
        let preferred = (environment["XDG_STATE_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? home + "/.local/state") + "/sbx"
        if (try? makeDirectories(preferred, mode: 0o700)) != nil, access(preferred, W_OK) == 0 { return preferred }
        let fallback = "/tmp/sbx-\(getuid())"
        if mkdir(fallback, 0o700) != 0 && errno != EEXIST {
            throw SandboxError.system("create \(preferred) or \(fallback) for sbx's state", errno: errno)
        }
        var info = stat()
        guard lstat(fallback, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR, info.st_uid == getuid(), info.st_mode & 0o077 == 0 else {
            throw SandboxError("\(preferred) cannot be created and \(fallback) is not a private directory of yours: "
                               + "set XDG_STATE_HOME to a writable directory")
        }
        return fallback
    }


    static func profileStore(environment: [String: String], home: String) -> ProfileStore {
        let config = environment["XDG_CONFIG_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? home + "/.config"
        return ProfileStore(userDirectory: config + "/sbx/profiles")
    }
}
