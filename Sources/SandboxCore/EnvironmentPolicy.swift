#if canImport(Glibc)
import Glibc
#endif

/// Which environment variables reach the command. Secrets travel in the environment (tokens,
/// cloud keys, agent sockets), so only a known-harmless allow-list passes by default; the user
/// adds more by name or sets values with --env.
public enum EnvironmentPolicy {
    static let allowed: Set<String> = [
        "PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "COLORTERM", "LANG", "LANGUAGE", "TZ",
        "EDITOR", "VISUAL", "PAGER", "NO_COLOR", "FORCE_COLOR", "CLICOLOR", "COLUMNS", "LINES",
        "TERM_PROGRAM", "TERM_PROGRAM_VERSION",
    ]
    static let allowedPrefixes = ["LC_"]
    static let defaultPath = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"

    /// `host` is NAME=VALUE entries; each of `requests` is NAME (pass the host's value) or
    /// NAME=VALUE (set it). Later entries win. Returns NAME=VALUE entries, sorted by name.
    public static func resolve(host: [String], requests: [String]) -> [String] {
        var hostValues: [String: String] = [:]
        for entry in host {
            guard let (name, value) = split(entry) else { continue }
            hostValues[name] = value
        }
        var result: [String: String] = [:]
        for (name, value) in hostValues where allowed.contains(name) || allowedPrefixes.contains(where: name.hasPrefix) {
            result[name] = value
        }
        for request in requests {
            if let (name, value) = split(request) {
                result[name] = value
            } else if let value = hostValues[request] {
                result[request] = value
            }
        }
        if result["PATH"] == nil { result["PATH"] = defaultPath }
        return result.keys.sorted().map { "\($0)=\(result[$0]!)" }
    }

    /// Checks an --env argument: NAME or NAME=VALUE with a non-empty NAME without '='.
    public static func validate(_ request: String) -> Bool {
        let name = request.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)[0]
        return !name.isEmpty
    }

    /// The calling process's environment as NAME=VALUE entries.
    public static func current() -> [String] {
        var entries: [String] = []
        var pointer = environ
        while let entry = pointer.pointee {
            entries.append(String(cString: entry))
            pointer += 1
        }
        return entries
    }

    private static func split(_ entry: String) -> (String, String)? {
        guard let equals = entry.firstIndex(of: "=") else { return nil }
        return (String(entry[..<equals]), String(entry[entry.index(after: equals)...]))
    }
}
