#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import EgressProxy
import Profiles
import SandboxCore

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a command in a sandbox and exit with its status.",
        discussion: """
            The command after '--' is executed as given, never through a shell. Exit status: the \
            command's own; 128+N when it was killed by signal N; 127 when it is not found; 126 when \
            it cannot be executed; 125 when sbx itself failed.
            """
    )

    @OptionGroup var policyOptions: PolicyOptions

    @Option(name: .customLong("pass-fd"), help: ArgumentHelp("Keep the open file descriptor N in the sandbox. Repeatable.", valueName: "n"))
    var passFD: [Int32] = []

    @Flag(name: .long, help: "At the end, print the run's wall time, with limits its peak memory, CPU time and processes, and the audit file.")
    var verbose = false

    @Flag(name: .long, help: "No summary of the proxy's connections at the end.")
    var quiet = false

    @Argument(parsing: .postTerminator, help: ArgumentHelp("The command and its arguments, after '--'.", valueName: "command"))
    var command: [String] = []

    /// The order matters: limits and the overlays' work directories first (what they create is
    /// undone by the defers, whatever happens next), then the audit file, the proxy, and the sandbox.
    func run() throws {
        guard !command.isEmpty else {
            throw SandboxError("no command given: put it after '--', e.g. 'sbx run -- python agent.py'")
        }
        let (policy, project, workingDirectory, home) = try policyOptions.resolve(seedingAgentState: true)
        let (cgroup, fallbackLimits, limitWarnings) = try PolicyEnforcement.limits(policy)
        defer { cgroup?.remove() }
        for warning in limitWarnings { SbxCommand.printError("warning: " + warning) }
        let state = try HostUser.stateDirectory(environment: HostUser.environment(), home: home)
        // The overlays' work directories live until the sandbox is gone (this function returns or throws).
        let overlayWork = OverlayWorkDirectories(bases: OverlayWorkDirectories.bases(state: state))
        defer { overlayWork.release() }
        var filesystem = try PolicyEnforcement.filesystem(policy, home: home, project: project)
        filesystem.protect += GitWorktree.protectedPaths(project: project, protect: policy.protect.map(\.path))
            .filter { !filesystem.protect.contains($0) }
        // The walk costs start-up time: only when the profile protects something in the project.
        let repositories = policy.protect.contains { isInside($0.path, project) && $0.path != project }
            ? NestedRepositories.Walk(root: project) : nil
        if let repositories, repositories.cutShort {
            SbxCommand.printError("warning: \(project) has more than \(NestedRepositories.Walk.limit) directories: sbx looked for git "
                + "repositories in the first ones only, so the hooks and config of one further down are not protected in this run")
        }
        let missing = PolicyEnforcement.missingProtectedPaths(policy)
            + PolicyEnforcement.protectEverywhere(policy, in: &filesystem, project: project, repositories: repositories?.repositories ?? [])
        let notHeld = PolicyEnforcement.holdMissing(missing, in: &filesystem, project: project, policy: policy, work: overlayWork.make)
        let overlays = filesystem.stubOverlays
        for (reason, paths) in notHeld {
            SbxCommand.printError("warning: the missing protected paths " + paths.joined(separator: ", ")
                + " are not held in this run: \(reason); sbx reports at the end whether the command created them")
        }
        // Stubs are checked too: where overlayfs refuses the overlay, the init binds the root
        // without them (and says so), and then nothing held them.
        let unheld = filesystem.unheld(missing, project: project) + notHeld.flatMap(\.paths) + overlays.flatMap(\.stubs)
        _ = PolicyEnforcement.hideState(state, in: &filesystem, project: project)
        // Work directories outside the state directory are hidden like it.
        for overlay in overlays where !isInside(overlay.work, state) {
            _ = PolicyEnforcement.hideState(String(overlay.work[..<overlay.work.lastIndex(of: "/")!]), in: &filesystem, project: project)
        }
        // Checked in every mode: a bad entry is an error.
        let rules = try EgressSetup.rules(policy)
        let hosts = try EgressSetup.hosts(policy, flags: policyOptions.addHost)

        let proxyMode = policy.networkMode.value == "proxy"
        let hostPorts = try EgressSetup.hostPorts(policyOptions.hostPorts, proxyMode: proxyMode)
        let exposePorts = try EgressSetup.exposePorts(policyOptions.exposePorts)
        // The transparent side, for programs that ignore the proxy variables (TransparentSide.swift).
        let transparentPorts = proxyMode ? EgressSetup.transparentPorts(rules, hostPorts: hostPorts) : []
        let request = RunRequest(
            command: command, project: project, workingDirectory: workingDirectory,
            // The proxy's variables first: env.set and --env may change them.
            environmentRequests: (proxyMode ? EgressSetup.environment() : [])
                + policy.envPass.map(\.value) + policy.envSet.keys.sorted().map { "\($0)=\(policy.envSet[$0]!.value)" },
            passedFileDescriptors: passFD,
            filesystem: filesystem,
            hostname: policy.hostname.value,
            newSession: !policy.tty.value,
            seccomp: try PolicyEnforcement.seccomp(policy),
            landlock: PolicyEnforcement.landlock(policy),
            resourceLimits: fallbackLimits,
            listenPorts: (proxyMode ? [EgressSetup.port] : []) + hostPorts.map(UInt16.init),
            socketService: !exposePorts.isEmpty,
            transparentPorts: transparentPorts,
            resolverConfiguration: transparentPorts.isEmpty ? nil : try EgressSetup.resolverConfiguration(stateDirectory: state))
        // All input checked (ports, seccomp names, --env, --pass-fd) before the audit file:
        // only a run that really starts has one.
        let plan = try request.resolve()

        // Every run that starts has an audit file: its start and end, and the proxy's connections.
        let audit = AuditLog(path: try EgressSetup.auditPath(stateDirectory: state))
        audit.event("start", [("command", "[" + command.map(audit.json).joined(separator: ",") + "]"),
                              ("profile", audit.json(policy.profile)), ("project", audit.json(project)),
                              ("network", audit.json(policy.networkMode.value))])
        // The proxy (and --host-port's forwarders) run on threads of this process.
        // Before the first thread: every thread inherits the blocked mask (Signals.swift).
        try Supervisor.takeSignals()
        let proxy = proxyMode || !hostPorts.isEmpty || !exposePorts.isEmpty
            ? ProxyServer(rules: rules, hosts: hosts, audit: audit) : nil
        defer { proxy?.shutdown() }
        // The host's side of --expose listens before the sandbox starts: a taken port stops the run.
        for port in exposePorts {
            do {
                try proxy?.expose(port: port)
            } catch {
                audit.discard()
                throw SandboxError("--expose \(port): cannot listen on the host's 127.0.0.1:\(port): \(error)")
            }
        }

        let started = monotonicSeconds()
        let status = try Supervisor.run(plan, timeout: PolicyEnforcement.timeout(policy), cgroup: cgroup,
                                        serve: { handed in
                                            var fds = handed.listeners[...]
                                            if proxyMode { try proxy?.serve(listeningFD: fds.removeFirst()) }
                                            for (fd, port) in zip(fds, hostPorts) { try proxy?.forward(listeningFD: fd, toHostPort: port) }
                                            if let resolver = handed.resolver {
                                                try proxy?.serveTransparent(listeningFDs: handed.transparent, resolverFD: resolver)
                                            }
                                            if let sockets = handed.sockets { proxy?.exposeInside { try sockets.connect(toPort: UInt16($0)) } }
                                        })
        proxy?.shutdown()
        // Repositories made during the run had nothing protected: their hooks and config are
        // the command's (only where the profile protects .git/hooks or .git/config).
        let protectsGit = policy.protect.contains { $0.path == project + "/.git/hooks" || $0.path == project + "/.git/config" }
        let newRepositories = protectsGit && repositories?.cutShort == false ? repositories?.made() ?? [] : []
        report(status: status, seconds: monotonicSeconds() - started, cgroup: cgroup, audit: audit, proxyMode: proxyMode,
               created: unheld.filter { var info = stat(); return lstat($0, &info) == 0 }, repositories: newRepositories,
               networkHint: PolicyEnforcement.unusedAllowList(policy))
        throw ExitCode(status)
    }

    /// The end of a run: what the limits did, the audit file's exit line, the proxy's
    /// summary, and with --verbose the run's cost.
    /// `created`: protected paths no stub could hold, which the command created.
    private func report(status: Int32, seconds: Double, cgroup: RunCgroup?, audit: AuditLog, proxyMode: Bool, created: [String],
                        repositories: [String], networkHint: String?) {
        var findings = cgroup?.findings() ?? []
        if !created.isEmpty {
            findings.append("warning: the command created " + created.joined(separator: ", ")
                + ", protected paths that nothing held (their parent did not exist, or no overlay could be had): read them before a tool on the host"
                + " uses them (git runs .git/hooks and what .git/config names)")
        }
        // A failure with the network off, where the profile names hosts: most likely it wanted them.
        if status != 0, let networkHint { findings.append("note: " + networkHint) }
        if !repositories.isEmpty {
            findings.append("warning: the command made the git repositories " + repositories.joined(separator: ", ")
                + ", whose hooks and config nothing protected: read them before you run git there")
        }
        for finding in findings { SbxCommand.printError(finding) }
        let milliseconds = Int(seconds * 1000)
        let wall = "\(milliseconds / 1000).\(String(milliseconds % 1000 + 1000).dropFirst())"
        audit.event("exit", [("status", String(status)), ("wall_seconds", wall)]
                    + (cgroup?.usageNumbers() ?? []).map { ($0.0, String($0.1)) }
                    + [("findings", "[" + findings.map(audit.json).joined(separator: ",") + "]")])
        if proxyMode, !quiet, let summary = audit.summary() { SbxCommand.printError(summary) }
        if verbose {
            let usage = cgroup.map { ", " + $0.usage() } ?? ""
            SbxCommand.printError("run took \(wall) s\(usage); exit status \(status)")
            if let path = audit.path { SbxCommand.printError("audit: \(path)") }
        }
    }
}

private func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
