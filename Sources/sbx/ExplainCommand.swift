import ArgumentParser
import EgressProxy
import Profiles
import SandboxCore

struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Show the effective policy of a run: every setting, its value and where it came from."
    )

    @OptionGroup var policyOptions: PolicyOptions

    @Flag(name: .long, help: "Print JSON for tools.")
    var json = false

    func run() throws {
        let (policy, project, _, home) = try policyOptions.resolve()
        let seccomp = try PolicyEnforcement.seccomp(policy)
        _ = try EgressSetup.rules(policy)
        _ = try EgressSetup.hosts(policy, flags: [])
        let report = PolicyReport(policy: policy, enforcement: PolicyEnforcement.layers(policy),
                                  details: [("filesystem view", try FilesystemReport.lines(policy, project: project, home: home)),
                                            ("seccomp rules", seccomp.explanation())])
        print(json ? report.json() : report.text(), terminator: "")
    }
}
