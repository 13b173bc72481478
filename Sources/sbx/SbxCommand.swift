#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Profiles
import SandboxCore

struct SbxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sbx",
        abstract: "Run a command in a local sandbox: no secrets, no network, writes confined to the project.",
        subcommands: [RunCommand.self, ExplainCommand.self, ProfileCommand.self, ExportCommand.self, ConnectCommand.self, DoctorCommand.self]
    )

    /// Parses and runs; returns the process's exit status. Usage errors exit 125, like every
    /// failure of sbx itself, so a caller can tell them from the command's own statuses.
    static func runReturningStatus() -> Int32 {
        do {
            var command = try parseAsRoot()
            try command.run()
            return 0
        } catch let exit as ExitCode {
            return exit.rawValue
        } catch let error as SandboxError {
            printError(error.message)
            return ExitStatus.sandboxFailure
        } catch let error as ProfileError {
            printError(error.description)
            return ExitStatus.sandboxFailure
        } catch {
            if exitCode(for: error) == .success {
                print(fullMessage(for: error))
                return 0
            }
            printError(fullMessage(for: error))
            return ExitStatus.sandboxFailure
        }
    }

    static func printError(_ message: String) {
        let text = message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message
        let line = Array("sbx: \(text)\n".utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }
}
