import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// One --host-port connection: once the sandbox's side is up, connects to the host's
/// 127.0.0.1:PORT and relays; reading starts only then.
final class HostPortForwarder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let port: Int
    private let audit: AuditLog

    init(port: Int, audit: AuditLog) {
        self.port = port
        self.audit = audit
    }

    func channelActive(context: ChannelHandlerContext) {
        let (clientSide, hostSide) = RelayHandler.pair()
        let channel = context.channel
        let (port, audit) = (self.port, self.audit)
        ClientBootstrap(group: context.eventLoop)
            .connectTimeout(.seconds(10))
            .channelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .channelInitializer { host in host.eventLoop.makeCompletedFuture { try host.pipeline.syncOperations.addHandler(hostSide) } }
            .connect(host: "127.0.0.1", port: port)
            .whenComplete { result in
                let relayed = result.isSuccess && completeForwarding(channel, replacing: self, with: clientSide, farSide: hostSide) {
                    audit.record(AuditLog.Entry(proto: "host-port", host: "127.0.0.1", port: port, address: "127.0.0.1", allowed: true,
                                                rule: "--host-port \(port)", bytesUp: clientSide.bytesRead, bytesDown: hostSide.bytesRead))
                }
                if !relayed {
                    audit.record(AuditLog.Entry(proto: "host-port", host: "127.0.0.1", port: port, address: "127.0.0.1",
                                                allowed: false, rule: "--host-port \(port): nothing listens on the host"))
                    channel.close(promise: nil)
                }
            }
        context.fireChannelActive()
    }
}

/// One --expose connection, from the host's 127.0.0.1:PORT: once a socket connected to the
/// sandbox's PORT is there (made on the thread pool: it blocks), relays between the two.
final class ExposedPortForwarder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let port: Int
    private let audit: AuditLog
    private let pool: NIOThreadPool
    private let inside: NIOLockedValueBox<(@Sendable (Int) throws -> Int32)?>

    init(port: Int, audit: AuditLog, pool: NIOThreadPool, inside: NIOLockedValueBox<(@Sendable (Int) throws -> Int32)?>) {
        self.port = port
        self.audit = audit
        self.pool = pool
        self.inside = inside
    }

    func channelActive(context: ChannelHandlerContext) {
        let (hostSide, sandboxSide) = RelayHandler.pair()
        let channel = context.channel
        let eventLoop = context.eventLoop
        let (port, audit, inside) = (self.port, self.audit, self.inside)
        func refuse(_ reason: String) {
            audit.record(AuditLog.Entry(proto: "expose", host: "sandbox", port: port, address: "127.0.0.1", allowed: false,
                                        rule: "--expose \(port): \(reason)"))
            channel.close(promise: nil)
        }
        pool.runIfActive(eventLoop: eventLoop) { () throws -> Int32 in
            guard let connect = inside.withLockedValue({ $0 }) else { throw ExposeError.notStarted }
            return try connect(port)
        }.flatMap { fd in
            ClientBootstrap(group: eventLoop)
                .channelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
                .channelInitializer { sandbox in sandbox.eventLoop.makeCompletedFuture { try sandbox.pipeline.syncOperations.addHandler(sandboxSide) } }
                .withConnectedSocket(fd)
        }.whenComplete { result in
            switch result {
            case .failure(let error):
                refuse(error is ExposeError ? "the sandbox is not up yet" : "nothing listens there in the sandbox")
            case .success:
                let relayed = completeForwarding(channel, replacing: self, with: hostSide, farSide: sandboxSide) {
                    audit.record(AuditLog.Entry(proto: "expose", host: "sandbox", port: port, address: "127.0.0.1", allowed: true,
                                                rule: "--expose \(port)", bytesUp: sandboxSide.bytesRead, bytesDown: hostSide.bytesRead))
                }
                if !relayed { refuse("the connection closed") }
            }
        }
        context.fireChannelActive()
    }

    private enum ExposeError: Error { case notStarted }
}

/// The last step of a forwarder: the accepted channel's side of the relay takes the
/// forwarder's place, gets what `HeldInput` kept, and the relay starts reading both ways;
/// `ended` runs when the far side's channel is gone.
/// False when the accepted channel is gone already.
private func completeForwarding(_ channel: Channel, replacing forwarder: RemovableChannelHandler, with side: RelayHandler,
                                farSide: RelayHandler, ended: @escaping () -> Void) -> Bool {
    guard (try? channel.pipeline.syncOperations.addHandler(side, position: .after(forwarder))) != nil else { return false }
    farSide.onInactive = ended
    channel.pipeline.syncOperations.removeHandler(forwarder, promise: nil)
    channel.pipeline.syncOperations.releaseHeldInput()
    return true
}

private extension Result {
    var isSuccess: Bool { if case .success = self { return true }; return false }
}
