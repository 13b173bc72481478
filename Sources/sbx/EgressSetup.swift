#if canImport(Glibc)
import Glibc
#endif
import EgressProxy
import Profiles
import SandboxCore

/// What a run in proxy mode needs: the rules from the profile, the name overrides from
/// --add-host, the audit file, and the variables that point the sandbox's tools at the proxy.
enum EgressSetup {
    /// The proxy's port on the sandbox's own 127.0.0.1 (its network namespace is private, so
    /// a fixed port cannot clash).
    static let port: UInt16 = 3128

    static func rules(_ policy: EffectivePolicy) throws -> EgressRules {
        if let bad = policy.networkPorts.first(where: { !(1...65535).contains($0.value) }) {
            throw ProfileError(bad.origin, keyPath: "network.ports", "\(bad.value) is not a port (1-65535)")
        }
        let ports = policy.networkPorts.isEmpty ? [80, 443] : policy.networkPorts.map(\.value)
        do {
            return try EgressRules(allow: policy.networkAllow.map(\.value), deny: policy.networkDeny.map(\.value), defaultPorts: ports)
        } catch {
            let entry = (policy.networkAllow + policy.networkDeny).first { $0.value == error.entry }
            let key = policy.networkAllow.contains { $0.value == error.entry } ? "network.allow" : "network.deny"
            throw ProfileError(entry?.origin ?? policy.networkMode.origin, keyPath: key, "'\(error.entry)': \(error.message)")
        }
    }

    /// --host-port values: valid ports, not the proxy's when it runs.
    static func hostPorts(_ ports: [Int], proxyMode: Bool) throws -> [Int] {
        for port in ports where !(1...65535).contains(port) || (proxyMode && port == Int(Self.port)) {
            throw SandboxError("--host-port \(port): " + ((1...65535).contains(port) ? "the proxy uses that port in the sandbox" : "not a port (1-65535)"))
        }
        return Array(Set(ports)).sorted()
    }

    /// The ports the transparent side listens on inside: those the allow entries for names
    /// give, but not the proxy's own nor --host-port's (they are taken on 127.0.0.1). At most 64.
    static func transparentPorts(_ rules: EgressRules, hostPorts: [Int]) -> [UInt16] {
        rules.namedPorts(excluding: [Int(port)] + hostPorts, limit: 64).map(UInt16.init)
    }

    /// The sandbox's resolver configuration for the transparent side: a file naming 127.0.0.53
    /// (written to the state directory), and where it goes: /etc/resolv.conf, or the file that
    /// symlink points to (systemd-resolved's stub under /run, a fresh tmpfs in the sandbox).
    /// nil when there is nowhere to put it.
    static func resolverConfiguration(stateDirectory: String) throws -> (source: String, target: String)? {
        let source = stateDirectory + "/resolv.conf"
        let text = "# sbx: the egress proxy's DNS, which answers for the names the rules allow\nnameserver 127.0.0.53\n"
        // Written aside and renamed: a run that has the file mounted keeps reading whole content.
        let fresh = source + ".\(getpid())"
        let fd = open(fresh, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SandboxError.system("write \(fresh)", errno: errno) }
        do {
            defer { close(fd) }
            try writeFully(fd, Array(text.utf8), what: fresh)
        }
        guard rename(fresh, source) == 0 else { throw SandboxError.system("rename \(fresh)", errno: errno) }
        var info = stat()
        guard lstat("/etc/resolv.conf", &info) == 0 else { return nil }
        guard (info.st_mode & S_IFMT) == S_IFLNK else { return (source, "/etc/resolv.conf") }
        guard let link = readLink("/etc/resolv.conf") else { return nil }
        let target = link.hasPrefix("/") ? link : "/etc/" + link
        let canonical = realpath(target, nil).map { pointer in defer { free(pointer) }; return String(cString: pointer) }
        if let canonical { return (source, canonical) }
        // A dangling link into a directory that is a fresh tmpfs inside: the file can be made there.
        let parts = target.split(separator: "/")
        guard parts.count >= 2, ["run", "tmp"].contains(parts[0]), !parts.contains(".."), !parts.contains(".") else { return nil }
        return (source, target)
    }

    /// --expose values: valid ports, each once.
    static func exposePorts(_ ports: [Int]) throws -> [Int] {
        if let bad = ports.first(where: { !(1...65535).contains($0) }) {
            throw SandboxError("--expose \(bad): not a port (1-65535)")
        }
        return Array(Set(ports)).sorted()
    }

    /// The profile's network.hosts table, then the --add-host NAME=ADDRESS entries; a name
    /// given with --add-host replaces the table's addresses for it.
    static func hosts(_ policy: EffectivePolicy, flags entries: [String]) throws -> [String: [IPAddress]] {
        var hosts: [String: [IPAddress]] = [:]
        for (written, value) in policy.networkHosts {
            do {
                let (name, addresses) = try hostEntry(name: written, addresses: value.value)
                hosts[name, default: []] += addresses
            } catch let error as SandboxError {
                throw ProfileError(value.origin, keyPath: "network.hosts.\(written)", error.description)
            }
        }
        var fromFlags: [String: [IPAddress]] = [:]
        for entry in entries {
            guard let equals = entry.firstIndex(of: "=") else {
                throw SandboxError("--add-host '\(entry)': expected NAME=ADDRESS, e.g. api.example.test=127.0.0.1")
            }
            do {
                let (name, addresses) = try hostEntry(name: String(entry[..<equals]), addresses: String(entry[entry.index(after: equals)...]))
                fromFlags[name, default: []] += addresses
            } catch let error as SandboxError {
                throw SandboxError("--add-host '\(entry)': \(error.description)")
            }
        }
        return hosts.merging(fromFlags) { $1 }
    }

    /// One name and its addresses ("127.0.0.1" or "127.0.0.1, ::1"), normalised like the rules.
    static func hostEntry(name: String, addresses: String) throws -> (String, [IPAddress]) {
        guard let normalized = EgressRules.normalize(name) else {
            throw SandboxError("'\(name)' is not a host name")
        }
        let parsed = addresses.split(separator: ",").map { String($0).trimmingWhitespace() }
        guard !parsed.isEmpty else { throw SandboxError("expected an address for \(name), e.g. 127.0.0.1") }
        return (normalized, try parsed.map { text in
            guard let address = IPAddress(text) else { throw SandboxError("'\(text)' is not an IPv4 or IPv6 address") }
            return address
        })
    }

    /// STATE/runs/SECONDS-PID.jsonl (see `HostUser.stateDirectory`). When there are `keep`
    /// files or more, the oldest are removed down to three quarters of `keep`, so that the
    /// sorting happens once in many runs, not at every run.
    static func auditPath(stateDirectory: String, keep: Int = 200) throws -> String {
        let runs = stateDirectory + "/runs"
        if mkdir(runs, 0o700) != 0 && errno != EEXIST {
            throw SandboxError.system("create \(runs) for the run's audit file", errno: errno)
        }
        let files = (directoryNames(runs) ?? []).filter { $0.hasSuffix(".jsonl") }
        if files.count >= keep {
            // SECONDS-PID: the seconds, read once per name, are the age.
            let byAge = files.map { name in
                (seconds: name.utf8.prefix { $0 >= 0x30 && $0 <= 0x39 }.reduce(0) { $0 &* 10 &+ Int($1 - 0x30) }, name: name)
            }.sorted { $0.seconds < $1.seconds }
            for file in byAge.dropLast(keep * 3 / 4) { unlink(runs + "/" + file.name) }
        }
        return runs + "/\(time(nil))-\(getpid()).jsonl"
    }

    /// NAME=VALUE entries: the usual proxy variables and the per-tool ones real tools read.
    static func environment() -> [String] {
        let http = "http://127.0.0.1:\(port)", socks = "socks5h://127.0.0.1:\(port)"
        let none = "localhost,127.0.0.1,::1"
        return [
            "HTTP_PROXY=\(http)", "HTTPS_PROXY=\(http)", "http_proxy=\(http)", "https_proxy=\(http)",
            "ALL_PROXY=\(socks)", "all_proxy=\(socks)", "NO_PROXY=\(none)", "no_proxy=\(none)",
            "npm_config_proxy=\(http)", "npm_config_https_proxy=\(http)", "YARN_HTTP_PROXY=\(http)", "YARN_HTTPS_PROXY=\(http)",
            "PIP_PROXY=\(http)", "CARGO_HTTP_PROXY=\(http)", "GRPC_PROXY=\(http)", "grpc_proxy=\(http)",
            "NODE_USE_ENV_PROXY=1",
            "JAVA_TOOL_OPTIONS=-Dhttp.proxyHost=127.0.0.1 -Dhttp.proxyPort=\(port) -Dhttps.proxyHost=127.0.0.1 "
                + "-Dhttps.proxyPort=\(port) -Dhttp.nonProxyHosts=localhost|127.0.0.1",
            "CLOUDSDK_PROXY_TYPE=http", "CLOUDSDK_PROXY_ADDRESS=127.0.0.1", "CLOUDSDK_PROXY_PORT=\(port)",
        ] + (ownPath().map { ["GIT_SSH_COMMAND=ssh -o ProxyCommand='\($0) connect %h %p'"] } ?? [])
    }

    /// This binary, for `sbx connect` inside the sandbox (the host's files are visible there,
    /// read-only; a binary in a hidden home is not, and git over SSH then has no way out).
    static func ownPath() -> String? {
        guard let path = readLink("/proc/self/exe") else { return nil }
        return path.contains(where: { $0 == "'" || $0 == " " }) ? nil : path
    }
}
