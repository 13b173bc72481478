/// The exit statuses sbx promises, in the shell's conventions.
public enum ExitStatus {
    /// sbx itself failed: bad flag, or the sandbox could not be set up. The command did not run.
    public static let sandboxFailure: Int32 = 125
    /// The command exists but could not be executed.
    public static let notExecutable: Int32 = 126
    public static let notFound: Int32 = 127
    /// The run's timeout passed and the command ended within the grace period after SIGTERM,
    /// however it ended (as timeout(1) reports it). Killed after the grace period: 137.
    public static let timedOut: Int32 = 124

    /// A wait(2) status as a shell reports it: the exit code, or 128+N for signal N.
    public static func from(waitStatus status: Int32) -> Int32 {
        let signal = status & 0x7f
        if signal == 0 { return (status >> 8) & 0xff }
        return 128 + signal
    }
}
