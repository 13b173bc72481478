#if canImport(Glibc)
import Glibc
#endif
import CSandbox

/// The host side of a run: starts the init in fresh namespaces, hands it the plan, forwards
/// signals, and returns the command's exit status. sbx may be multithreaded here; the child
/// it creates runs only C until it execs the init (see CSandbox/spawn.c).
public enum Supervisor {
    /// The argument that makes `sbx` the sandbox's init instead of the CLI.
    public static let initModeArgument = "__sbx_init"

    /// Runs the plan; returns the command's exit status, or throws when the sandbox could not
    /// be set up (the command then never ran).
    /// With `cgroup`, the sandbox starts inside it (see `RunCgroup`).
    /// With `plan.listenPorts`, `plan.transparentPorts` or `plan.socketService`, `serve` gets
    /// the sockets the init made for them, once the sandbox is set up. It must not block.
    public static func run(_ plan: SandboxPlan, timeout: RunTimeout? = nil, cgroup: RunCgroup? = nil,
                           serve: ((HandedSockets) throws -> Void)? = nil) throws -> Int32 {
        var pair: [Int32] = [0, 0]
        try checkLibc(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair),
                      "socketpair")
        let channel = ControlChannel(fd: pair[0])
        defer { channel.close() }
        let initEnd = pair[1]
        // The init's end survives its exec; every other fd of ours is closed by the child.
        try checkLibc(fcntl(initEnd, F_SETFD, 0), "fcntl")
        for fd in plan.passedFileDescriptors {
            guard fcntl(fd, F_SETFD, 0) == 0 else {
                throw SandboxError("--pass-fd \(fd): file descriptor \(fd) is not open")
            }
        }
        try ForwardedSignals.take()

        // libseccomp's BPF generation takes a millisecond or two: done meanwhile, on a thread.
        let filter = try BackgroundWork { try SeccompFilter(plan.seccomp) }
        defer { _ = try? filter.join() }  // never left running, whatever happens
        let pid = try spawnInit(channelFD: initEnd, parentFD: pair[0], cgroupFD: cgroup?.fd ?? -1, keep: (plan.passedFileDescriptors + [initEnd]).sorted())
        close(initEnd)
        do {
            try handOver(plan, filter: filter, to: pid, over: channel)
            func receive(_ what: String) throws -> Int32 {
                let fd = sbx_receive_fd(channel.fd)
                try checkShim(min(fd, 0), "receive \(what) from the sandbox")
                return fd
            }
            var handed = HandedSockets()
            handed.listeners = try plan.listenPorts.map { try receive("the socket of 127.0.0.1:\($0)") }
            if !plan.transparentPorts.isEmpty {
                handed.transparent = try plan.transparentPorts.map { try receive("the socket of 0.0.0.0:\($0)") }
                handed.resolver = try receive("the DNS socket")
            }
            if plan.socketService { handed.sockets = SandboxSockets(channel: try receive("the socket service")) }
            if !handed.isEmpty { try serve?(handed) }
        } catch {
            kill(pid, SIGKILL)
            _ = waitForExit(of: pid)
            throw error
        }
        return superviseUntilExit(of: pid, timeout: timeout)
    }

    /// The sockets the init made for the supervisor, each in the order of the plan's ports.
    public struct HandedSockets {
        /// Listening on the sandbox's 127.0.0.1, one per `plan.listenPorts`.
        public var listeners: [Int32] = []
        /// Listening on the sandbox's 0.0.0.0, one per `plan.transparentPorts`.
        public var transparent: [Int32] = []
        /// UDP, the sandbox's 127.0.0.53:53.
        public var resolver: Int32? = nil
        public var sockets: SandboxSockets? = nil

        var isEmpty: Bool { listeners.isEmpty && transparent.isEmpty && resolver == nil && sockets == nil }
    }

    private static func spawnInit(channelFD: Int32, parentFD: Int32, cgroupFD: Int32, keep: [Int32]) throws -> pid_t {
        let argv = ["sbx", initModeArgument, String(channelFD)]
        let pid = withCStringArray(argv) { argvPointer in
            withCStringArray([]) { envPointer in
                keep.withUnsafeBufferPointer { keepPointer in
                    sbx_spawn_init(sbx_sandbox_namespaces, channelFD, parentFD, cgroupFD, keepPointer.baseAddress, Int32(keep.count),
                                   "/proc/self/exe", argvPointer, envPointer)
                }
            }
        }
        guard pid > 0 else {
            let code = -pid
            if code == EPERM || code == ENOSPC || code == EINVAL || code == EACCES {
                throw UserNamespace.diagnoseUnavailable(errno: code)
            }
            throw SandboxError(SandboxError.system("clone3", errno: code).message + HostCheck.doctorPointer)
        }
        return pid
    }

    /// The plan first, so that the init builds the root while `filter` is finished here, then
    /// the seccomp programs, which the init reads just before it starts the command.
    private static func handOver(_ plan: SandboxPlan, filter: BackgroundWork<SeccompFilter>, to pid: pid_t,
                                 over channel: ControlChannel) throws {
        guard try channel.receiveByte() == UInt8(ascii: "r") else {
            throw SandboxError("the sandbox's first process died before setup")
        }
        try UserNamespace.writeMaps(for: pid, uid: geteuid(), gid: getegid())
        try channel.sendByte(UInt8(ascii: "g"))
        // The init may fail setup and exit while a frame is sent: then its answer, already
        // waiting on the socket (read without blocking), says why.
        func send(_ frame: [UInt8]) throws {
            do { try channel.sendFrame(frame) } catch let error as SandboxError {
                _ = fcntl(channel.fd, F_SETFL, fcntl(channel.fd, F_GETFL) | O_NONBLOCK)
                guard let answer = try? channel.receiveFrame(), !answer.isEmpty else { throw error }
                throw SandboxError(String(decoding: answer, as: UTF8.self))
            }
        }
        try send(PlanCodec.encode(plan))
        try send(PlanCodec.encode(try filter.join()))
        guard let answer = try channel.receiveFrame() else {
            throw SandboxError("the sandbox's init died during setup")
        }
        if !answer.isEmpty {
            throw SandboxError(String(decoding: answer, as: UTF8.self) + Self.apparmorRestrictionHint(answer))
        }
    }

    /// Ubuntu's AppArmor restriction lets the namespaces be made but takes the init's
    /// capabilities in them, so its setup fails with EPERM: then the cause, the fix and the
    /// pointer to `sbx doctor`. Not for root (exempt), nor for an sbx that runs under an AppArmor
    /// profile of its own (the fix is in place), nor for other errors.
    private static func apparmorRestrictionHint(_ answer: [UInt8]) -> String {
        let message = String(decoding: answer, as: UTF8.self)
        let label = CgroupDiscovery.readText("/proc/self/attr/current")?.trimmingWhitespace() ?? "unconfined"
        guard geteuid() != 0, label == "unconfined",
              message.contains(String(cString: strerror(EPERM))) || message.contains(String(cString: strerror(EACCES))),
              let found = UserNamespaceKnobs.read().restriction(binary: executablePath()) else { return "" }
        return ". This is likely because \(found.cause). Fix: \(found.fix)" + HostCheck.doctorPointer
    }

    /// Forwards signals that a process (not the terminal) sent us, until the init exits. At the
    /// timeout the command gets SIGTERM (through the init), and after the grace period the
    /// init gets SIGKILL, which ends every process of the sandbox (its pid namespace goes).
    private static func superviseUntilExit(of pid: pid_t, timeout: RunTimeout?) -> Int32 {
        var deadline = timeout.map { monotonicSeconds() + $0.seconds }
        var stage = 0  // 1: SIGTERM sent, 2: SIGKILL sent
        while true {
            let wait = deadline.map { Int32(max(0, min(($0 - monotonicSeconds()) * 1000, 86_400_000)).rounded(.up)) } ?? -1
            let (signal, fromKernel) = ForwardedSignals.next(timeoutMilliseconds: wait)
            if signal == SIGCHLD {
                if let status = reapExitedChildren().first(where: { $0.pid == pid })?.status {
                    guard let timeout, stage > 0 else { return ExitStatus.from(waitStatus: status) }
                    timeout.report(stage == 1
                        ? "timed out after \(timeout.text): the command was sent SIGTERM"
                        : "timed out after \(timeout.text): killed after \(Int(timeout.grace)) s of grace")
                    return stage == 1 ? ExitStatus.timedOut : 128 + SIGKILL
                }
            } else if signal > 0 && !fromKernel {
                kill(pid, signal)
            } else if signal == 0, let timeout, let due = deadline, monotonicSeconds() >= due {
                stage += 1
                kill(pid, stage == 1 ? SIGTERM : SIGKILL)
                deadline = stage == 1 ? due + timeout.grace : nil
            }
        }
    }

    private static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    private static func waitForExit(of pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status
    }
}

/// A wall-clock limit on a run (`--timeout`, `limits.timeout`).
public struct RunTimeout: Sendable {
    public let seconds: Double
    /// As the user wrote it ("30m"), for the message.
    public let text: String
    /// Between SIGTERM and SIGKILL, as `docker stop` does.
    public let grace: Double
    /// Where the message goes (stderr).
    public let report: @Sendable (String) -> Void

    public init(seconds: Double, text: String, grace: Double = 10, report: @escaping @Sendable (String) -> Void) {
        self.seconds = seconds
        self.text = text
        self.grace = grace
        self.report = report
    }
}

/// Calls `body` with a NULL-terminated C array of copies of `strings`.
func withCStringArray<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    pointers.append(nil)
    defer { pointers.forEach { free($0) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
