/// The fully resolved policy of one run: the merged profile with flags applied, variables
/// expanded, defaults filled in, each value with its origin. What `sbx explain` shows and
/// what `sbx run` turns into a sandbox.
public struct EffectivePolicy: Sendable {
    public struct PathEntry: Equatable, Sendable {
        public let path: String
        /// Written with a trailing '/': create the directory when it is missing.
        public let createIfMissing: Bool
        public let origin: Origin

        public init(path: String, createIfMissing: Bool, origin: Origin) {
            self.path = path
            self.createIfMissing = createIfMissing
            self.origin = origin
        }
    }

    public let profile: String
    public let chain: [String]
    public var homeHidden: Sourced<Bool>
    public var read: [PathEntry]
    public var write: [PathEntry]
    public var hide: [PathEntry]
    public var protect: [PathEntry]
    /// Unix sockets the sandbox may connect to; the host's others at visible paths are covered.
    public var sockets: [PathEntry]
    /// The sizes of the private /tmp, /dev/shm and /run, as written ("1G").
    public var tmpSize: Sourced<String>
    public var shmSize: Sourced<String>
    public var runSize: Sourced<String>
    /// The project or a write path may be $HOME or one of its parents (see GrantCheck in sbx).
    public var allowWritableHome: Sourced<Bool>
    public var envPass: [Sourced<String>]
    public var envSet: [String: Sourced<String>]
    public var networkMode: Sourced<String>
    public var networkAllow: [Sourced<String>]
    public var networkDeny: [Sourced<String>]
    public var networkPorts: [Sourced<Int>]
    /// network.hosts: name -> addresses as written ("127.0.0.1" or "127.0.0.1, ::1"); the
    /// proxy's setup parses them.
    public var networkHosts: [String: Sourced<String>]
    public var seccompAllow: [Sourced<String>]
    public var seccompDeny: [Sourced<String>]
    public var seccompAction: Sourced<String>?
    public var nestedUserNamespaces: Sourced<Bool>?
    public var memory: Sourced<String>?
    public var cpu: Sourced<Double>?
    public var pids: Sourced<Int>?
    public var timeout: Sourced<String>?
    public var optional: [Sourced<String>]
    public var tty: Sourced<Bool>
    public var hostname: Sourced<String>
    /// `[agent]`: the agent's sandbox-only configuration directory (AgentStateSettings).
    public var agentState: AgentStateSettings?
    /// Things worth knowing that are not errors (an allow entry that resolved to nothing...).
    public var notes: [String]

    public static let builtinDefault = Origin(source: "sbx default")
    /// /tmp holds builds' and tests' scratch files; /dev/shm only shared memory segments
    /// (browsers, Python's multiprocessing); /run only sockets and pid files. Fixed sizes,
    /// so that a run fits or not the same on every host; small against the memory of any
    /// machine an agent runs on, and counted in --memory when that is set.
    public static let defaultTmpSize = "1G", defaultShmSize = "256M", defaultRunSize = "64M"

    public init(_ merged: MergedProfile, variables: Variables) throws {
        let settings = merged.settings
        var notes: [String] = []

        func strings(_ key: String) -> [Sourced<String>] {
            guard case let .list(items)? = settings[key] else { return [] }
            return items.compactMap { item in
                if case let .string(text) = item.value, !text.hasPrefix("!") { return Sourced(text, item.origin) }
                return nil
            }
        }
        func scalar(_ key: String) -> Sourced<Scalar>? {
            guard case let .scalar(value)? = settings[key] else { return nil }
            return value
        }
        func string(_ key: String) -> Sourced<String>? { scalar(key).map { Sourced($0.value.description, $0.origin) } }
        func bool(_ key: String) -> Sourced<Bool>? {
            scalar(key).flatMap { if case let .bool(b) = $0.value { return Sourced(b, $0.origin) }; return nil }
        }
        func paths(_ key: String) throws -> [PathEntry] {
            var entries: [PathEntry] = []
            for item in strings(key) {
                for path in try variables.expandPath(item.value, origin: item.origin, keyPath: key)
                where !entries.contains(where: { $0.path == path }) {
                    entries.append(PathEntry(path: path, createIfMissing: item.value.hasSuffix("/"), origin: item.origin))
                }
            }
            return entries
        }
        func expanded(_ key: String) throws -> [Sourced<String>] {
            var result: [Sourced<String>] = []
            for item in strings(key) {
                let values = try variables.expand(item.value, origin: item.origin, keyPath: key)
                if values.isEmpty { notes.append("\(item.origin): \(key) '\(item.value)' resolved to no host; dropped") }
                result += values.map { Sourced($0, item.origin) }
            }
            return result
        }

        profile = merged.name
        chain = merged.chain
        homeHidden = string("filesystem.home").map { Sourced($0.value == "hidden", $0.origin) } ?? Sourced(false, Self.builtinDefault)
        read = try paths("filesystem.read")
        write = try paths("filesystem.write")
        hide = try paths("filesystem.hide")
        protect = try paths("filesystem.protect")
        sockets = try paths("filesystem.sockets")
        tmpSize = string("filesystem.tmp_size") ?? Sourced(Self.defaultTmpSize, Self.builtinDefault)
        shmSize = string("filesystem.shm_size") ?? Sourced(Self.defaultShmSize, Self.builtinDefault)
        runSize = string("filesystem.run_size") ?? Sourced(Self.defaultRunSize, Self.builtinDefault)
        allowWritableHome = bool("filesystem.allow_writable_home") ?? Sourced(false, Self.builtinDefault)
        envPass = strings("env.pass")
        var set: [String: Sourced<String>] = [:]
        if case let .map(map)? = settings["env.set"] {
            for (name, value) in map {
                guard let first = try variables.expand(value.value, origin: value.origin, keyPath: "env.set.\(name)").first else { continue }
                set[name] = Sourced(first, value.origin)
            }
        }
        envSet = set
        networkMode = string("network.mode") ?? Sourced("none", Self.builtinDefault)
        networkAllow = try expanded("network.allow")
        networkDeny = try expanded("network.deny")
        if case let .list(items)? = settings["network.ports"] {
            networkPorts = items.compactMap { if case let .integer(i) = $0.value { return Sourced(i, $0.origin) }; return nil }
        } else {
            networkPorts = [Sourced(80, Self.builtinDefault), Sourced(443, Self.builtinDefault)]
        }
        if case let .map(map)? = settings["network.hosts"] { networkHosts = map } else { networkHosts = [:] }
        seccompAllow = strings("seccomp.allow")
        seccompDeny = strings("seccomp.deny")
        seccompAction = string("seccomp.action")
        nestedUserNamespaces = bool("seccomp.nested_userns")
        memory = string("limits.memory")
        cpu = scalar("limits.cpu").flatMap { if case let .number(d) = $0.value { return Sourced(d, $0.origin) }; return nil }
        pids = scalar("limits.pids").flatMap { if case let .integer(i) = $0.value { return Sourced(i, $0.origin) }; return nil }
        timeout = string("limits.timeout")
        optional = strings("limits.optional")
        tty = bool("process.tty") ?? Sourced(true, Self.builtinDefault)
        hostname = string("process.hostname") ?? Sourced("sbx", Self.builtinDefault)
        agentState = try AgentStateSettings.make(name: string("agent.state"), variable: string("agent.state_env"),
                                                 seed: try paths("agent.seed"), refresh: try paths("agent.refresh"),
                                                 link: try paths("agent.link"))
        self.notes = notes
    }

    public func isOptional(_ protection: String) -> Bool { optional.contains { $0.value == protection } }
}
