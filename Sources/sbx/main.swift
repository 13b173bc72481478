#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import SandboxCore

// The same binary is the sandbox's init: the supervisor re-executes it with this argument.
// Checked before anything else so the init starts without the CLI's cost.
if CommandLine.arguments.count == 3, CommandLine.arguments[1] == Supervisor.initModeArgument,
   let fd = Int32(CommandLine.arguments[2]) {
    SandboxInit.run(channelFD: fd)
}

exit(SbxCommand.runReturningStatus())
