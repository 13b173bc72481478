import ArgumentParser
import Profiles
import SandboxCore

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Print part of the effective policy in another tool's format.",
        subcommands: [Seccomp.self]
    )

    struct Seccomp: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "seccomp",
            abstract: "The seccomp policy as OCI runtime-spec JSON (Docker, containerd, CRI-O, Kubernetes Localhost profiles).",
            discussion: """
                sbx loads two filters; the OCI format holds one. Rules that one filter cannot \
                express (ioctl TIOCSTI/TIOCLINUX) are left out, and each is named on stderr.
                """
        )

        @OptionGroup var policyOptions: PolicyOptions

        func run() throws {
            // Only the seccomp part: no path is granted, so none is checked (it works from $HOME).
            let (policy, _, _, _) = try policyOptions.resolve(checkingGrants: false)
            let (json, leftOut) = try PolicyEnforcement.seccomp(policy).ociJSON()
            for line in SeccompPolicy.lines(leftOut) {
                SbxCommand.printError("note: not expressible in one OCI filter, left out: " + line.drop { $0 == " " })
            }
            print(json, terminator: "")
        }
    }
}
