#if canImport(Glibc)
import Glibc
#endif
import CSandbox

/// pid 1 inside the sandbox. Single-threaded by construction (it is a fresh exec of sbx that
/// never starts Dispatch or NIO), because the setup below and the fork that follows need it.
///
/// The recipe, in order: read the plan; build the root; hostname and loopback, the sockets
/// the supervisor serves; read the seccomp programs; drop every capability and set
/// no_new_privs; Landlock; start the command (which loads the programs); then
/// forward signals, reap orphans, and exit with the command's status.
public enum SandboxInit {
    public static func run(channelFD: Int32) -> Never {
        let channel = ControlChannel(fd: channelFD)
        let command: pid_t
        var socketService: Int32 = -1
        var guardListener: Int32 = -1
        do {
            try ForwardedSignals.take()
            // The 'g' of the handshake was read by the C child before it exec'd us; the plan follows.
            guard let bytes = try channel.receiveFrame() else {
                exit(ExitStatus.sandboxFailure)
            }
            let plan = try PlanCodec.decode(bytes)
            try RootFilesystem(operations: plan.mounts).build()
            try checkShim(sbx_set_hostname(plan.hostname), "set the hostname")
            try checkShim(sbx_loopback_up(), "bring up the loopback interface")
            // With loopback addresses only, glibc's getaddrinfo(AI_ADDRCONFIG) finds no IPv4
            // configured and fails even for "localhost". One address from the benchmarking
            // range (198.18.0.0/15, never routed) fixes that; with no route out, a lookup or
            // connection to anything else fails at once instead of hanging.
            try checkShim(sbx_loopback_add_address(SandboxInit.loopbackAddress.bigEndian, 32),
                          "add 198.18.0.1 to the loopback interface")
            // On every IPv4 address (127.0.0.1 and 198.18.0.1), so that no server inside can take the
            // port on one of them.
            let listeners = try plan.listenPorts.map { port in
                let fd = sbx_listen_tcp(0, Int32(port))
                try checkShim(min(fd, 0), "listen on 0.0.0.0:\(port) in the sandbox")
                return fd
            }
            var transparent: [Int32] = []
            if !plan.transparentPorts.isEmpty {
                try checkShim(sbx_loopback_add_local_route(SandboxInit.fakeNetwork.bigEndian, 15),
                              "route 198.18.0.0/15 to the loopback interface")
                for port in plan.transparentPorts {
                    let fd = sbx_listen_tcp(0, Int32(port))
                    try checkShim(min(fd, 0), "listen on 0.0.0.0:\(port) in the sandbox")
                    transparent.append(fd)
                }
                let dns = sbx_bind_udp(SandboxInit.resolverAddress, 53)
                try checkShim(min(dns, 0), "bind 127.0.0.53:53 (DNS) in the sandbox")
                transparent.append(dns)
            }
            // The same ports on IPv6 are taken and refuse connections (::1 included), for as long as
            // the init lives: a server inside could otherwise answer what was meant for sbx.
            for port in Set(plan.listenPorts + plan.transparentPorts) {
                let fd = sbx_reserve_tcp6(Int32(port))
                if fd < 0 && fd != -EAFNOSUPPORT { try checkShim(fd, "take [::]:\(port) in the sandbox") }
            }
            // Our end answers the supervisor's socket requests; the other end goes to it below.
            var servicePair: [Int32] = [-1, -1]
            if plan.socketService {
                try checkLibc(socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &servicePair),
                              "make the socket service's channel")
                socketService = servicePair[0]
            }
            // The supervisor generated them from plan.seccomp meanwhile; they follow the plan.
            guard let programs = try channel.receiveFrame() else { exit(ExitStatus.sandboxFailure) }
            let filter = try PlanCodec.decodeFilter(programs)
            try dropPrivileges()
            let landlockABI = plan.landlock ? try LandlockWall.apply(inherited: [0, 1, 2] + plan.passedFileDescriptors) : 0
            let creationGuard = plan.guarded.isEmpty ? nil : try CreationGuard(guarded: plan.guarded, landlockABI: landlockABI)
            try checkLibc(chdir(plan.workingDirectory),
                          "enter the working directory \(plan.workingDirectory) inside the sandbox")
            command = try checkLibc(CommandLauncher.start(plan, filter: filter, creationGuard: creationGuard), "fork the command")
            guardListener = creationGuard?.receiveListener() ?? -1
            try channel.sendFrame([])
            for fd in listeners + transparent + (plan.socketService ? [servicePair[1]] : []) {
                try checkShim(sbx_send_fd(channel.fd, fd), "hand a socket to sbx")
                close(fd)
            }
        } catch {
            let message = (error as? SandboxError)?.message ?? "\(error)"
            try? channel.sendFrame(Array("cannot set up the sandbox: \(message)".utf8))
            exit(ExitStatus.sandboxFailure)
        }
        channel.close()
        // The init's own working directory is not the command's: a name the guard resolves through
        // a "self" it did not rewrite lands in / (read-only), where it decides nothing.
        _ = chdir("/")
        exit(forwardSignalsUntilExit(of: command, socketService: socketService, guardListener: guardListener))
    }

    /// 198.18.0.1, on the sandbox's loopback interface.
    public static let loopbackAddress: UInt32 = 0xC612_0001
    /// 198.18.0.0/15: the addresses the transparent side's DNS gives out.
    public static let fakeNetwork: UInt32 = 0xC612_0000
    /// 127.0.0.53, where the transparent side's DNS listens.
    public static let resolverAddress: UInt32 = 0x7F00_0035

    private static func dropPrivileges() throws {
        var step: UnsafePointer<CChar>? = nil
        let rc = sbx_drop_all_capabilities(&step)
        try checkShim(rc, "drop capabilities (\(step.map { String(cString: $0) } ?? "?"))")
        try checkShim(sbx_set_no_new_privs(), "set no_new_privs")
        // Same uid as the command and no capabilities: without this, the command could ptrace
        // its init, which runs outside the command's seccomp filter.
        try checkShim(sbx_set_dumpable(0), "make the init non-dumpable")
    }

    /// Reaps every child (orphans are re-parented to us) and returns when the command exits.
    /// Our exit then ends every other process in the sandbox: the kernel kills a pid
    /// namespace whose init is gone. Meanwhile answers the socket requests that come on
    /// `socketService` (when it is not -1) until the supervisor closes its end, and the
    /// creation guard's notifications on `guardListener` (when it is not -1).
    private static func forwardSignalsUntilExit(of command: pid_t, socketService: Int32, guardListener: Int32) -> Int32 {
        var watched = [socketService, guardListener]
        while true {
            let (signal, fromKernel, ready) = ForwardedSignals.nextOrReadable(watched)
            if signal == 0 && ready == 0 {
                // A request, or the supervisor's end closed (then stop listening for them).
                if sbx_serve_socket_request(watched[0]) != 0 {
                    close(watched[0])
                    watched[0] = -1
                }
                continue
            }
            if signal == 0 && ready == 1 {
                // A creating syscall; the listener fails once no process in the sandbox is left
                // under the filter.
                if sbx_guard_serve(watched[1]) != 0 {
                    close(watched[1])
                    watched[1] = -1
                }
                continue
            }
            if signal == SIGCHLD {
                if let status = reapExitedChildren().first(where: { $0.pid == command })?.status {
                    return ExitStatus.from(waitStatus: status)
                }
            } else if signal > 0 && !fromKernel {
                kill(command, signal)
            }
        }
    }
}
