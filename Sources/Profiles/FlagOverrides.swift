/// Command-line flags that override the profile for one run, expressed as one more profile
/// layer applied last, so they follow the same merge rules and carry their origin.
public struct FlagOverrides: Sendable {
    public var read: [String] = []
    public var write: [String] = []
    public var hide: [String] = []
    public var allowWritableHome = false
    public var environment: [String] = []
    public var allowDomains: [String] = []
    public var network: String?
    public var memory: String?
    public var tmpSize: String?
    public var shmSize: String?
    public var runSize: String?
    public var cpus: Double?
    public var pids: Int?
    public var timeout: String?

    public init() {}

    /// The flags as settings; throws on a malformed value, naming the flag.
    public func settings() throws -> [String: Setting] {
        var settings: [String: Setting] = [:]
        func list(_ key: String, _ flag: String, _ values: [String]) {
            guard !values.isEmpty else { return }
            settings[key] = .list(values.map { Sourced(.string($0), .flag(flag)) })
        }
        func scalar(_ key: String, _ flag: String, _ value: Scalar?) {
            if let value { settings[key] = .scalar(Sourced(value, .flag(flag))) }
        }
        func fail(_ flag: String, _ message: String) -> ProfileError { ProfileError(.flag(flag), keyPath: nil, message) }

        list("filesystem.read", "--ro", read)
        list("filesystem.write", "--rw", write)
        list("filesystem.hide", "--hide", hide)
        if allowWritableHome { scalar("filesystem.allow_writable_home", "--allow-writable-home", .bool(true)) }
        list("network.allow", "--allow-domain", allowDomains)
        var pass: [String] = []
        var set: [String: Sourced<String>] = [:]
        for entry in environment {
            if let equals = entry.firstIndex(of: "=") {
                set[String(entry[..<equals])] = Sourced(String(entry[entry.index(after: equals)...]), .flag("--env"))
            } else {
                pass.append(entry)
            }
        }
        list("env.pass", "--env", pass)
        if !set.isEmpty { settings["env.set"] = .map(set) }
        if let network {
            guard ["none", "proxy"].contains(network) else { throw fail("--net", "'\(network)' is not one of none, proxy") }
            scalar("network.mode", "--net", .string(network))
        } else if !allowDomains.isEmpty {
            // Allowing a domain means wanting the proxy, as with srt.
            scalar("network.mode", "--allow-domain", .string("proxy"))
        }
        for (key, flag, value) in [("filesystem.tmp_size", "--tmp-size", tmpSize), ("filesystem.shm_size", "--shm-size", shmSize),
                                   ("filesystem.run_size", "--run-size", runSize)] {
            guard let value else { continue }
            guard Quantity.bytes(value) != nil else { throw fail(flag, "expected a size such as 512M or 2G, got '\(value)'") }
            scalar(key, flag, .string(value))
        }
        // The same ranges as a profile's (LimitRanges), named by the flag.
        func limit(_ key: String, _ flag: String, _ value: Scalar?) throws {
            guard let value else { return }
            if let problem = LimitRanges.problem(key: key, value: value) { throw fail(flag, problem) }
            scalar(key, flag, value)
        }
        try limit("limits.memory", "--memory", memory.map(Scalar.string))
        try limit("limits.cpu", "--cpus", cpus.map(Scalar.number))
        try limit("limits.pids", "--pids", pids.map(Scalar.integer))
        try limit("limits.timeout", "--timeout", timeout.map(Scalar.string))
        return settings
    }
}
