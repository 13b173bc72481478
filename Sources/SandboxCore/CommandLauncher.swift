#if canImport(Glibc)
import Glibc
#endif
import CSandbox

/// Forks the command's process from the init. Everything the child does between fork and
/// exec is here: it must stay short, since a failure can only be reported on stderr.
enum CommandLauncher {
    /// Returns the child's pid, or -1 with errno set when fork fails.
    static func start(_ plan: SandboxPlan, filter: SeccompFilter, creationGuard: CreationGuard?) -> pid_t {
        // Prepare every C string before fork, so the child allocates nothing.
        let program = strdup(plan.command[0])!
        return withCStringArray(plan.command) { argv in
            withCStringArray(plan.environment) { envp in
                plan.passedFileDescriptors.withUnsafeBufferPointer { keep in
                    let pid = fork()
                    if pid != 0 { return pid }
                    sbx_signals_restore_defaults()
                    // process.tty = false: no controlling terminal, so no TIOCSTI target either.
                    if plan.newSession { _ = setsid() }
                    // Before the descriptors are closed: it sends the filter's listener to the init.
                    if let creationGuard {
                        let rc = creationGuard.restrictCommand()
                        if rc != 0 { fail("cannot set up the creation guard", -rc, ExitStatus.sandboxFailure) }
                    }
                    sbx_close_fds_except(3, keep.baseAddress, Int32(keep.count))
                    for limit in plan.resourceLimits {
                        var value = rlimit(rlim_cur: rlim_t(limit.value), rlim_max: rlim_t(limit.value))
                        if setrlimit(__rlimit_resource_t(UInt32(limit.resource)), &value) != 0 {
                            fail("cannot set resource limit \(limit.resource)", errno, ExitStatus.sandboxFailure)
                        }
                    }
                    let loaded = filter.load()
                    if loaded != 0 { fail("cannot load the seccomp filter", -loaded, ExitStatus.sandboxFailure) }
                    let code = -sbx_execvpe(program, argv, envp)
                    if code == ENOENT {
                        fail("\(plan.command[0]): command not found", nil, ExitStatus.notFound)
                    }
                    fail("\(plan.command[0]): cannot execute", code, ExitStatus.notExecutable)
                }
            }
        }
    }

    private static func fail(_ message: String, _ code: Int32?, _ status: Int32) -> Never {
        let detail = code.map { ": " + String(cString: strerror($0)) } ?? ""
        let line = Array("sbx: \(message)\(detail)\n".utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        _exit(status)
    }
}
