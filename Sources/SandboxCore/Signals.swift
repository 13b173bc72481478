#if canImport(Glibc)
import Glibc
#endif
import CSandbox

/// The signals the supervisor passes to the init and the init passes to the command.
enum ForwardedSignals {
    static let all: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH, SIGUSR1, SIGUSR2]
    /// What a waiting loop listens for: the forwarded ones and SIGCHLD.
    static let waitedFor: [Int32] = all + [SIGCHLD]

    static func take() throws {
        try checkShim(waitedFor.withUnsafeBufferPointer { sbx_signals_take($0.baseAddress, Int32($0.count)) },
                      "set up signal forwarding")
    }

    /// The next signal, and whether the kernel sent it (a terminal's Ctrl-C, resize, hangup),
    /// in which case the whole foreground process group, the command included, has it already.
    /// Waits at most `timeoutMilliseconds` when given; the signal is 0 when none came.
    static func next(timeoutMilliseconds: Int32 = -1) -> (signal: Int32, fromKernel: Bool) {
        var fromKernel: Int32 = 0
        let sig = waitedFor.withUnsafeBufferPointer {
            sbx_signals_wait($0.baseAddress, Int32($0.count), timeoutMilliseconds, &fromKernel)
        }
        return (sig, fromKernel != 0)
    }

    /// Like `next()`, but returns signal 0 as soon as one of `fds` (-1: none) is readable or
    /// hung up, with its index.
    static func nextOrReadable(_ fds: [Int32]) -> (signal: Int32, fromKernel: Bool, ready: Int) {
        var fromKernel: Int32 = 0
        var ready: Int32 = -1
        let sig = waitedFor.withUnsafeBufferPointer { signals in
            fds.withUnsafeBufferPointer {
                sbx_signals_wait_or_readable(signals.baseAddress, Int32(signals.count), $0.baseAddress, Int32($0.count),
                                             &fromKernel, &ready)
            }
        }
        return (sig, fromKernel != 0, Int(ready))
    }
}

extension Supervisor {
    /// Blocks the forwarded signals and SIGCHLD in the calling thread. Threads inherit the mask,
    /// so call it before any thread exists (the proxy's SwiftNIO threads, `BackgroundWork`'s):
    /// a process-directed SIGCHLD delivered to another thread is lost to the supervisor's
    /// `sigtimedwait`, which then waits forever. The init and the command start from a clean
    /// mask (`sbx_signals_restore_defaults` in `CommandLauncher`).
    public static func takeSignals() throws {
        try ForwardedSignals.take()
    }
}

/// Reaps every exited child without blocking; returns (pid, wait status) pairs.
func reapExitedChildren() -> [(pid: pid_t, status: Int32)] {
    var reaped: [(pid_t, Int32)] = []
    while true {
        var status: Int32 = 0
        let pid = waitpid(-1, &status, WNOHANG)
        if pid <= 0 { return reaped }
        reaped.append((pid, status))
    }
}
