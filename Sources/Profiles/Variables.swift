/// The values `${...}` and `~` stand for in a profile. `~` and `${HOME}` are the HOME variable
/// (falling back to the password database), as for every shell tool.
public struct Variables: Sendable {
    public let home: String
    public let project: String
    public let workingDirectory: String
    public let uid: UInt32
    public let environment: [String: String]
    /// Resolves `${tool:NAME}` to hosts; asked only when such a variable is used.
    public let toolHosts: @Sendable (String) -> [String]

    public init(home: String, project: String, workingDirectory: String, uid: UInt32,
                environment: [String: String], toolHosts: @escaping @Sendable (String) -> [String]) {
        self.home = home
        self.project = project
        self.workingDirectory = workingDirectory
        self.uid = uid
        self.environment = environment
        self.toolHosts = toolHosts
    }

    static let names = ["HOME", "PROJECT", "CWD", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME",
                        "XDG_STATE_HOME", "TMPDIR", "UID", "env:NAME", "tool:NAME"]

    func value(of name: String) -> String? {
        func xdg(_ variable: String, _ fallback: String) -> String {
            environment[variable].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? home + fallback
        }
        switch name {
        case "HOME": return home
        case "PROJECT": return project
        case "CWD": return workingDirectory
        case "XDG_CONFIG_HOME": return xdg(name, "/.config")
        case "XDG_CACHE_HOME": return xdg(name, "/.cache")
        case "XDG_DATA_HOME": return xdg(name, "/.local/share")
        case "XDG_STATE_HOME": return xdg(name, "/.local/state")
        case "TMPDIR": return environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        case "UID": return String(uid)
        default:
            if name.hasPrefix("env:") { return environment[String(name.dropFirst(4))] ?? "" }
            return nil
        }
    }

    /// Expands every variable in `text`. A `${tool:NAME}` yields one result per host (none
    /// when the tool names none); everything else yields exactly one.
    public func expand(_ text: String, origin: Origin, keyPath: String) throws -> [String] {
        var results = [""]
        var rest = Substring(text)
        if rest == "~" || rest.hasPrefix("~/") {
            results = [home]
            rest = rest.dropFirst()
        }
        while let start = rest.firstRange(of: "${") {
            let literal = rest[..<start.lowerBound]
            results = results.map { $0 + literal }
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                throw ProfileError(origin, keyPath: keyPath, "unclosed '${' in '\(text)'")
            }
            let name = String(rest[start.upperBound..<end])
            if name.hasPrefix("tool:") {
                let tool = String(name.dropFirst(5))
                guard ToolIndexHosts.tools.contains(tool) else {
                    throw ProfileError(origin, keyPath: keyPath,
                                       "unknown tool '\(tool)' in ${\(name)} (known: \(ToolIndexHosts.tools.joined(separator: ", ")))")
                }
                let hosts = toolHosts(tool)
                results = results.flatMap { prefix in hosts.map { prefix + $0 } }
            } else if let value = value(of: name) {
                results = results.map { $0 + value }
            } else {
                throw ProfileError(origin, keyPath: keyPath,
                                   "unknown variable ${\(name)} (known: \(Self.names.map { "${\($0)}" }.joined(separator: ", ")))")
            }
            rest = rest[rest.index(after: end)...]
        }
        return results.map { $0 + rest }
    }

    /// Expands a path; a relative one is relative to the project. Normalised lexically.
    /// An entry naming an unset or empty `${env:NAME}` is dropped: the path would otherwise
    /// collapse to its parent, or to the project itself for "${env:NAME}" alone (hiding or
    /// protecting the whole project).
    public func expandPath(_ text: String, origin: Origin, keyPath: String) throws -> [String] {
        var rest = Substring(text)
        while let start = rest.firstRange(of: "${env:"), let end = rest[start.upperBound...].firstIndex(of: "}") {
            if (environment[String(rest[start.upperBound..<end])] ?? "").isEmpty { return [] }
            rest = rest[rest.index(after: end)...]
        }
        return try expand(text, origin: origin, keyPath: keyPath).map { path in
            normalize(path.hasPrefix("/") ? path : project + "/" + path)
        }
    }
}

/// Removes ".", "..", and repeated or trailing slashes, without touching the filesystem.
func normalize(_ path: String) -> String {
    var parts: [Substring] = []
    for part in path.split(separator: "/") {
        if part == "." { continue }
        if part == ".." { _ = parts.popLast(); continue }
        parts.append(part)
    }
    return "/" + parts.joined(separator: "/")
}
