import CSandbox

/// The seccomp rule the isolation core owns: no terminal input injection (TIOCSTI/TIOCLINUX).
/// Built in the init, loaded by the command's process as its last step before exec.
struct TerminalFilter {
    private let filter: OpaquePointer

    init() throws {
        var error: Int32 = 0
        guard let built = sbx_terminal_filter_build(&error) else {
            throw SandboxError.system("build the seccomp filter", errno: -error)
        }
        filter = built
    }

    func load() -> Int32 { sbx_terminal_filter_load(filter) }
}
