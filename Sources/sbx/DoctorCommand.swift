import ArgumentParser
import SandboxCore

/// `sbx doctor`: whether this host gives sbx what it needs, one line per check, with the fix.
/// The checks are in SandboxCore (HostReadiness); this only finds the state directory and prints.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check what sbx needs from this host (namespaces, seccomp, Landlock, cgroups, overlayfs) and say how to fix what is missing.",
        discussion: "Exits 0 when a default 'sbx run' can work here, 1 when it cannot."
    )

    @Flag(name: .long, help: "Print JSON for scripts: an array with one object per check (name, status, detail, fix, required).")
    var json = false

    func run() throws {
        let environment = HostUser.environment()
        let state = Result { try HostUser.stateDirectory(environment: environment, home: HostUser.home(environment: environment)) }
            .mapError { $0 as? SandboxError ?? SandboxError("\($0)") }
        let checks = HostReadiness.checks(state: state)
        if json {
            print("[" + checks.map(\.json).joined(separator: ",\n ") + "]")
        } else {
            for check in checks { print(check.line) }
        }
        if checks.contains(where: { $0.required && $0.status != .ok }) { throw ExitCode(1) }
    }
}
