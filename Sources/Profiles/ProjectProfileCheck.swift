/// A repository must not widen its own sandbox silently. Its `.sbx.toml` is applied on top of
/// the chosen profile only when it narrows it; anything it would widen is listed, and the user
/// decides (`--profile ./.sbx.toml` uses it as written, `--no-project-profile` ignores it).
public enum ProjectProfileCheck {
    /// What `combined` (profile + project file) allows that `base` (profile alone) does not.
    public static func widenings(from base: EffectivePolicy, to combined: EffectivePolicy) -> [String] {
        var found: [String] = []
        func added<T: Equatable>(_ key: String, _ old: [T], _ new: [T], _ show: (T) -> String) {
            for item in new where !old.contains(item) { found.append("\(key) adds \(show(item))") }
        }
        func dropped<T: Equatable>(_ key: String, _ old: [T], _ new: [T], _ show: (T) -> String) {
            for item in old where !new.contains(item) { found.append("\(key) drops \(show(item))") }
        }
        added("filesystem.read", base.read.map(\.path), combined.read.map(\.path)) { $0 }
        added("filesystem.write", base.write.map(\.path), combined.write.map(\.path)) { $0 }
        added("filesystem.sockets", base.sockets.map(\.path), combined.sockets.map(\.path)) { $0 }
        dropped("filesystem.hide", base.hide.map(\.path), combined.hide.map(\.path)) { $0 }
        dropped("filesystem.protect", base.protect.map(\.path), combined.protect.map(\.path)) { $0 }
        if base.homeHidden.value && !combined.homeHidden.value { found.append("filesystem.home makes the home directory visible") }
        if !base.allowWritableHome.value && combined.allowWritableHome.value {
            found.append("filesystem.allow_writable_home lets the home directory be granted writable")
        }
        added("env.pass", base.envPass.map(\.value), combined.envPass.map(\.value)) { $0 }
        for (name, value) in combined.envSet where base.envSet[name]?.value != value.value {
            found.append("env.set sets \(name)")
        }
        if base.networkMode.value == "none" && combined.networkMode.value != "none" { found.append("network.mode turns the network on") }
        added("network.allow", base.networkAllow.map(\.value), combined.networkAllow.map(\.value)) { $0 }
        dropped("network.deny", base.networkDeny.map(\.value), combined.networkDeny.map(\.value)) { $0 }
        added("network.ports", base.networkPorts.map(\.value), combined.networkPorts.map(\.value)) { String($0) }
        // A fixed address for an allowed name is how a private address gets through.
        for (name, value) in combined.networkHosts where base.networkHosts[name]?.value != value.value {
            found.append("network.hosts maps \(name)")
        }
        added("seccomp.allow", base.seccompAllow.map(\.value), combined.seccompAllow.map(\.value)) { $0 }
        dropped("seccomp.deny", base.seccompDeny.map(\.value), combined.seccompDeny.map(\.value)) { $0 }
        if combined.nestedUserNamespaces?.value == true && base.nestedUserNamespaces?.value != true {
            found.append("seccomp.nested_userns allows user namespaces")
        }
        let strength = ["log": 0, "errno": 1, "kill": 2]
        if strength[combined.seccompAction?.value ?? "errno"]! < strength[base.seccompAction?.value ?? "errno"]! {
            found.append("seccomp.action weakens the default action")
        }
        func raised(_ key: String, _ old: Double?, _ new: Double?) {
            if let old, new == nil || new! > old { found.append("\(key) raises or removes the limit") }
        }
        raised("limits.memory", base.memory.flatMap { Quantity.bytes($0.value) }.map(Double.init),
               combined.memory.flatMap { Quantity.bytes($0.value) }.map(Double.init))
        raised("limits.cpu", base.cpu?.value, combined.cpu?.value)
        raised("limits.pids", base.pids.map { Double($0.value) }, combined.pids.map { Double($0.value) })
        raised("limits.timeout", base.timeout.flatMap { Quantity.seconds($0.value) }, combined.timeout.flatMap { Quantity.seconds($0.value) })
        func size(_ value: Sourced<String>) -> Double? { Quantity.bytes(value.value).map(Double.init) }
        raised("filesystem.tmp_size", size(base.tmpSize), size(combined.tmpSize))
        raised("filesystem.shm_size", size(base.shmSize), size(combined.shmSize))
        raised("filesystem.run_size", size(base.runSize), size(combined.runSize))
        added("limits.optional", base.optional.map(\.value), combined.optional.map(\.value)) { $0 }
        // Seeding copies host files (hidden ones too) where the sandbox reads and writes them.
        if combined.agentState?.effect != base.agentState?.effect {
            found.append("agent.state, state_env, seed or refresh changes which host files are copied into the sandbox")
        }
        return found
    }
}
