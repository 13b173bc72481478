import ArgumentParser
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

    @Option(name: .long, help: ArgumentHelp("The directory the command may write (default: the current directory).", valueName: "dir"))
    var project: String?

    @Option(name: .long, help: ArgumentHelp("Pass the variable NAME from the environment, or set NAME=VALUE. Repeatable.", valueName: "name[=value]"))
    var env: [String] = []

    @Option(name: .customLong("pass-fd"), help: ArgumentHelp("Keep the open file descriptor N in the sandbox. Repeatable.", valueName: "n"))
    var passFD: [Int32] = []

    @Argument(parsing: .postTerminator, help: ArgumentHelp("The command and its arguments, after '--'.", valueName: "command"))
    var command: [String] = []

    func run() throws {
        let request = RunRequest(command: command, project: project, environmentRequests: env,
                                 passedFileDescriptors: passFD)
        let status = try Supervisor.run(try request.resolve())
        throw ExitCode(status)
    }
}
