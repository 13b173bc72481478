/// `[agent]`: a configuration directory that an agent uses inside the sandbox only.
///
/// Agents keep trust and onboarding state in the same files as settings that run code (Claude
/// Code's `~/.claude.json` holds MCP server commands, Codex's `config.toml` its `notify` command
/// and MCP servers). Making those files writable would let a run plant a command that the
/// user's next unsandboxed start runs. Instead sbx keeps a directory of its own per agent
/// (STATE/agents/NAME), seeds it from the host's files at start, and points the agent's
/// variable (CLAUDE_CONFIG_DIR, CODEX_HOME) at it: what a run writes there is seen by later
/// runs only, never by the agent started outside.
public struct AgentStateSettings: Equatable, Sendable {
    /// The directory's name under STATE/agents/.
    public let name: Sourced<String>
    /// The variable set to the directory inside the sandbox.
    public let variable: Sourced<String>
    /// Host files copied into the directory (by their base name) when the copy is missing:
    /// state the sandbox then owns (onboarding, trusted folders).
    public let seed: [EffectivePolicy.PathEntry]
    /// Host files copied in whenever the host's is newer than the copy: logins and settings
    /// the user changes outside.
    public let refresh: [EffectivePolicy.PathEntry]
    /// Host paths (directories of commands, skills) that appear in the directory as symbolic
    /// links by their base name: read where the sandbox sees them (read-only in a read-only
    /// home), never copied.
    public let link: [EffectivePolicy.PathEntry]

    public init(name: Sourced<String>, variable: Sourced<String>, seed: [EffectivePolicy.PathEntry],
                refresh: [EffectivePolicy.PathEntry], link: [EffectivePolicy.PathEntry] = []) {
        self.name = name
        self.variable = variable
        self.seed = seed
        self.refresh = refresh
        self.link = link
    }

    /// What the section does, without where it was written: equal when two policies copy the
    /// same files into the same directory under the same variable.
    public var effect: [String] {
        ["state=" + name.value, "state_env=" + variable.value] + seed.map { "seed=" + $0.path } + refresh.map { "refresh=" + $0.path }
            + link.map { "link=" + $0.path }
    }

    /// Checks the `[agent]` keys together: a name and a variable both or neither, and files
    /// only with a directory to copy them into.
    static func make(name: Sourced<String>?, variable: Sourced<String>?, seed: [EffectivePolicy.PathEntry],
                     refresh: [EffectivePolicy.PathEntry], link: [EffectivePolicy.PathEntry]) throws -> AgentStateSettings? {
        guard let name, let variable else {
            if let given = name ?? variable {
                throw ProfileError(given.origin, keyPath: name == nil ? "agent.state_env" : "agent.state",
                                   "agent.state and agent.state_env go together: the directory's name and the variable that points the agent at it")
            }
            if let file = seed.first ?? refresh.first ?? link.first {
                throw ProfileError(file.origin, keyPath: !seed.isEmpty ? "agent.seed" : !refresh.isEmpty ? "agent.refresh" : "agent.link",
                                   "'\(file.path)' has nowhere to be copied: set agent.state and agent.state_env")
            }
            return nil
        }
        let nameCharacters = name.value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }
        guard !name.value.isEmpty, nameCharacters, name.value.first != "." else {
            throw ProfileError(name.origin, keyPath: "agent.state",
                               "'\(name.value)' is not a directory name: letters, digits, '-', '_' and '.' (not first)")
        }
        let variableCharacters = variable.value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
        guard let first = variable.value.first, variableCharacters, !first.isNumber else {
            throw ProfileError(variable.origin, keyPath: "agent.state_env", "'\(variable.value)' is not a variable name")
        }
        for (key, files) in [("agent.seed", seed), ("agent.refresh", refresh)] {
            if let directory = files.first(where: \.createIfMissing) {
                throw ProfileError(directory.origin, keyPath: key, "'\(directory.path)/' is a directory: name the files to copy")
            }
        }
        return AgentStateSettings(name: name, variable: variable, seed: seed, refresh: refresh, link: link)
    }
}
