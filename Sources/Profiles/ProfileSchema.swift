/// Every key a profile may contain, with its type and meaning: the one place the format is
/// defined. The parser rejects anything else (fail closed: a misspelt `dney` must not
/// silently allow), and `sbx profile keys` prints this table.
public enum ProfileSchema {
    public enum Kind: Equatable, Sendable {
        case string
        case bool
        case integer
        case number
        case choice([String])
        /// A size such as "512M" or "2G".
        case size
        /// A duration such as "90s", "30m", "2h".
        case duration
        case stringList
        case integerList
        case choiceList([String])
        /// A table of string values.
        case stringMap

        var isList: Bool {
            switch self {
            case .stringList, .integerList, .choiceList: return true
            default: return false
            }
        }
    }

    public struct Key: Sendable {
        public let path: String
        public let kind: Kind
        public let summary: String
    }

    /// Protections that `limits.optional` may name.
    public static let optionalProtections = ["memory", "cpu", "pids", "timeout", "seccomp"]

    public static let keys: [Key] = [
        Key(path: "description", kind: .string, summary: "one-line summary shown by `sbx profile list`"),
        Key(path: "extends", kind: .stringList, summary: "profiles this one builds on, applied left to right"),
        Key(path: "filesystem.home", kind: .choice(["read-only", "hidden"]), summary: "the rest of $HOME: visible read-only, or hidden"),
        Key(path: "filesystem.read", kind: .stringList, summary: "paths visible read-only"),
        Key(path: "filesystem.write", kind: .stringList, summary: "paths writable; a missing one ending in / is created"),
        Key(path: "filesystem.hide", kind: .stringList, summary: "paths hidden: directories empty, files empty"),
        Key(path: "filesystem.protect", kind: .stringList, summary: "paths read-only even inside writable roots"),
        Key(path: "filesystem.sockets", kind: .stringList, summary: "unix sockets the sandbox may connect to (host sockets elsewhere are covered)"),
        Key(path: "filesystem.tmp_size", kind: .size, summary: "size of the private /tmp (default 1G)"),
        Key(path: "filesystem.shm_size", kind: .size, summary: "size of the private /dev/shm (default 256M)"),
        Key(path: "filesystem.run_size", kind: .size, summary: "size of the private /run (default 64M)"),
        Key(path: "filesystem.allow_writable_home", kind: .bool, summary: "let the project or a write path be $HOME or contain it (its startup files stay read-only)"),
        Key(path: "env.pass", kind: .stringList, summary: "host variables passed in by name"),
        Key(path: "env.set", kind: .stringMap, summary: "variables set to a value"),
        Key(path: "network.mode", kind: .choice(["none", "proxy"]), summary: "no network, or egress through the allow-list proxy"),
        Key(path: "network.allow", kind: .stringList, summary: "hosts, *.domains, IPs and CIDRs, with optional :port"),
        Key(path: "network.deny", kind: .stringList, summary: "same syntax as allow; deny wins"),
        Key(path: "network.ports", kind: .integerList, summary: "ports allowed for entries that name none (default 80, 443)"),
        Key(path: "network.hosts", kind: .stringMap, summary: "names resolved to fixed addresses by the proxy, like --add-host"),
        Key(path: "seccomp.allow", kind: .stringList, summary: "syscalls allowed beyond the default policy"),
        Key(path: "seccomp.deny", kind: .stringList, summary: "syscalls denied; name:ERRNO picks the errno"),
        Key(path: "seccomp.action", kind: .choice(["errno", "kill", "log"]), summary: "what happens to syscalls outside the policy"),
        Key(path: "seccomp.nested_userns", kind: .bool, summary: "allow creating user namespaces inside"),
        Key(path: "limits.memory", kind: .size, summary: "memory limit, e.g. 2G"),
        Key(path: "limits.cpu", kind: .number, summary: "CPUs, e.g. 1.5"),
        Key(path: "limits.pids", kind: .integer, summary: "maximum number of processes"),
        Key(path: "limits.timeout", kind: .duration, summary: "wall-clock limit, e.g. 30m"),
        Key(path: "limits.optional", kind: .choiceList(optionalProtections), summary: "protections that may be skipped, with a warning, where unavailable"),
        Key(path: "process.tty", kind: .bool, summary: "keep the terminal (false: new session, no controlling terminal)"),
        Key(path: "process.hostname", kind: .string, summary: "the hostname inside"),
        Key(path: "agent.state", kind: .string, summary: "name of a configuration directory the agent uses inside the sandbox only (STATE/agents/NAME)"),
        Key(path: "agent.state_env", kind: .string, summary: "the variable set to that directory inside (CLAUDE_CONFIG_DIR, CODEX_HOME)"),
        Key(path: "agent.seed", kind: .stringList, summary: "host files copied into it when its copy is missing"),
        Key(path: "agent.refresh", kind: .stringList, summary: "host files copied into it when the host's is newer"),
        Key(path: "agent.link", kind: .stringList, summary: "host paths shown in it as symbolic links (read where the sandbox sees them)"),
    ]

    public static let sections: Set<String> = Set(keys.compactMap { key in
        key.path.firstIndex(of: ".").map { String(key.path[..<$0]) }
    })

    public static func key(_ path: String) -> Key? { keys.first { $0.path == path } }

    /// The valid key closest to a misspelt one, if any is close enough to be a likely typo.
    public static func suggestion(for path: String) -> String? {
        let candidates = keys.map(\.path) + sections.sorted()
        let scored = candidates.map { ($0, editDistance(path, $0)) }.min { $0.1 < $1.1 }
        guard let (best, distance) = scored, distance <= max(2, path.count / 3) else { return nil }
        return best
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in 1...max(b.count, 1) where !b.isEmpty {
                let current = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = current
            }
        }
        return a.isEmpty ? b.count : row[b.count]
    }
}
