/// `sbx explain`: the effective policy with the origin of every setting, as a table for people
/// or as JSON for tools. `enforcement` says which layer applies each part today.
public struct PolicyReport {
    public struct Row: Sendable {
        public let key: String
        public let value: String
        public let origin: String
    }

    public let policy: EffectivePolicy
    public let enforcement: [(layer: String, state: String)]
    /// Sections computed outside this module (the seccomp rules), printed after the layers.
    public let details: [(title: String, lines: [String])]

    public init(policy: EffectivePolicy, enforcement: [(layer: String, state: String)],
                details: [(title: String, lines: [String])] = []) {
        self.policy = policy
        self.enforcement = enforcement
        self.details = details
    }

    public var rows: [Row] {
        let p = policy
        var rows: [Row] = []
        func add(_ key: String, _ value: String, _ origin: Origin) { rows.append(Row(key: key, value: value, origin: origin.description)) }
        add("filesystem.home", p.homeHidden.value ? "hidden" : "read-only", p.homeHidden.origin)
        add("filesystem.tmp_size", p.tmpSize.value, p.tmpSize.origin)
        add("filesystem.shm_size", p.shmSize.value, p.shmSize.origin)
        add("filesystem.run_size", p.runSize.value, p.runSize.origin)
        if p.allowWritableHome.value { add("filesystem.allow_writable_home", "true", p.allowWritableHome.origin) }
        for (key, entries) in [("filesystem.read", p.read), ("filesystem.write", p.write),
                               ("filesystem.hide", p.hide), ("filesystem.protect", p.protect), ("filesystem.sockets", p.sockets)] {
            let marker = key == "filesystem.protect" ? "/ (a directory)" : "/ (created if missing)"
            for entry in entries { add(key, entry.path + (entry.createIfMissing ? marker : ""), entry.origin) }
        }
        for item in p.envPass { add("env.pass", item.value, item.origin) }
        for name in p.envSet.keys.sorted() { add("env.set", "\(name)=\(p.envSet[name]!.value)", p.envSet[name]!.origin) }
        add("network.mode", p.networkMode.value, p.networkMode.origin)
        for item in p.networkAllow { add("network.allow", item.value, item.origin) }
        for item in p.networkDeny { add("network.deny", item.value, item.origin) }
        for item in p.networkPorts { add("network.ports", String(item.value), item.origin) }
        for name in p.networkHosts.keys.sorted() { add("network.hosts", "\(name)=\(p.networkHosts[name]!.value)", p.networkHosts[name]!.origin) }
        for item in p.seccompAllow { add("seccomp.allow", item.value, item.origin) }
        for item in p.seccompDeny { add("seccomp.deny", item.value, item.origin) }
        if let action = p.seccompAction { add("seccomp.action", action.value, action.origin) }
        if let nested = p.nestedUserNamespaces { add("seccomp.nested_userns", String(nested.value), nested.origin) }
        if let v = p.memory { add("limits.memory", v.value, v.origin) }
        if let v = p.cpu { add("limits.cpu", String(v.value), v.origin) }
        if let v = p.pids { add("limits.pids", String(v.value), v.origin) }
        if let v = p.timeout { add("limits.timeout", v.value, v.origin) }
        for item in p.optional { add("limits.optional", item.value, item.origin) }
        add("process.tty", String(p.tty.value), p.tty.origin)
        add("process.hostname", p.hostname.value, p.hostname.origin)
        if let agent = p.agentState {
            add("agent.state", agent.name.value, agent.name.origin)
            add("agent.state_env", agent.variable.value, agent.variable.origin)
            for entry in agent.seed { add("agent.seed", entry.path, entry.origin) }
            for entry in agent.refresh { add("agent.refresh", entry.path, entry.origin) }
            for entry in agent.link { add("agent.link", entry.path, entry.origin) }
        }
        return rows
    }

    public func text() -> String {
        var out = "profile \(policy.profile): \(policy.chain.joined(separator: " -> "))\n\n"
        let rows = self.rows
        let keyWidth = rows.map(\.key.count).max() ?? 0
        let valueWidth = min(rows.map(\.value.count).max() ?? 0, 60)
        for row in rows {
            out += pad(row.key, keyWidth) + "  " + pad(row.value, valueWidth) + "  " + row.origin + "\n"
        }
        out += "\nenforced by\n"
        let layerWidth = enforcement.map(\.layer.count).max() ?? 0
        for (layer, state) in enforcement { out += "  " + pad(layer, layerWidth) + "  " + state + "\n" }
        for note in policy.notes { out += "note: \(note)\n" }
        for (title, lines) in details {
            out += "\n\(title)\n" + lines.map { "  " + $0 + "\n" }.joined()
        }
        return out
    }

    public func json() -> String {
        let settings = rows.map { "{\"key\":\(quote($0.key)),\"value\":\(quote($0.value)),\"origin\":\(quote($0.origin))}" }
        let layers = enforcement.map { "{\"layer\":\(quote($0.layer)),\"state\":\(quote($0.state))}" }
        return "{\"profile\":\(quote(policy.profile)),\"chain\":[\(policy.chain.map(quote).joined(separator: ","))]," +
            "\"settings\":[\(settings.joined(separator: ","))],\"enforcement\":[\(layers.joined(separator: ","))]," +
            "\"notes\":[\(policy.notes.map(quote).joined(separator: ","))]," +
            "\"details\":{\(details.map { quote($0.title) + ":[" + $0.lines.map(quote).joined(separator: ",") + "]" }.joined(separator: ","))}}\n"
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}

/// A JSON string literal.
func quote(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 {
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}
