import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSOCKS

/// The egress proxy of one run, served from the supervisor (the host side) on the socket the
/// sandbox's 127.0.0.1:PORT listens on: HTTP CONNECT, plain HTTP and SOCKS5 on the same port,
/// told apart by the first byte (5: SOCKS). Limits: connections at once, time to the request.
public final class ProxyServer {
    public static let maximumConnections = 512
    /// A client must have sent its request (or SOCKS handshake) by then.
    static let requestTimeout = TimeAmount.seconds(30)

    public let audit: AuditLog
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let pool = NIOThreadPool(numberOfThreads: 2)
    private let upstream: Upstream
    private let rules: EgressRules
    private let open = NIOLockedValueBox(0)
    private var server: Channel?
    private let stopped = NIOLockedValueBox(false)
    private let forwarders = NIOLockedValueBox([Channel]())
    private let inside = NIOLockedValueBox<(@Sendable (Int) throws -> Int32)?>(nil)

    /// `hosts`: names mapped to addresses before the system resolver (--add-host).
    public init(rules: EgressRules, hosts: [String: [IPAddress]], audit: AuditLog) {
        self.audit = audit
        self.rules = rules
        pool.start()
        upstream = Upstream(rules: rules, hosts: hosts, pool: pool, audit: audit)
    }

    /// Starts serving `listeningFD` (already bound and listening); returns at once.
    public func serve(listeningFD: Int32) throws {
        let upstream = self.upstream
        let open = self.open
        server = try ServerBootstrap(group: group)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                guard Self.admit(channel, open: open) else { return channel.close() }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ProtocolSniffer(upstream: upstream))
                }
            }
            .withBoundSocket(listeningFD)
            .wait()
    }

    /// Serves the transparent side (see `TransparentSide.swift`): `listeningFDs`, sockets on
    /// the sandbox's 0.0.0.0 at the ports the rules name, and `resolverFD`, the sandbox's DNS
    /// socket (UDP 127.0.0.53:53).
    public func serveTransparent(listeningFDs: [Int32], resolverFD: Int32) throws {
        let (upstream, audit, rules, addresses) = (self.upstream, self.audit, self.rules, self.upstream.fakeAddresses)
        let open = self.open
        for fd in listeningFDs {
            let listener = try ServerBootstrap(group: group)
                .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
                .childChannelOption(ChannelOptions.autoRead, value: false)
                .childChannelInitializer { channel in
                    guard Self.admit(channel, open: open) else { return channel.close() }
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandlers(HeldInput(), TransparentConnection(upstream: upstream, addresses: addresses, audit: audit))
                    }
                }
                .withBoundSocket(fd)
                .wait()
            forwarders.withLockedValue { $0.append(listener) }
        }
        let resolver = try DatagramBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(DNSResponder(rules: rules, addresses: addresses, audit: audit))
                }
            }
            .withBoundSocket(resolverFD)
            .wait()
        forwarders.withLockedValue { $0.append(resolver) }
    }

    /// Serves `listeningFD` (a socket on the sandbox's 127.0.0.1:PORT) by forwarding each
    /// connection to the host's 127.0.0.1:`port` (--host-port), outside the rules: the user
    /// named this port. Each connection is in the audit log.
    public func forward(listeningFD: Int32, toHostPort port: Int) throws {
        let audit = self.audit
        let forwarder = try ServerBootstrap(group: group)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelOption(ChannelOptions.autoRead, value: false)
            .childChannelInitializer { client in
                client.eventLoop.makeCompletedFuture {
                    try client.pipeline.syncOperations.addHandlers(HeldInput(), HostPortForwarder(port: port, audit: audit))
                }
            }
            .withBoundSocket(listeningFD)
            .wait()
        forwarders.withLockedValue { $0.append(forwarder) }
    }

    /// Listens on the host's 127.0.0.1:`port` at once (failing when it is taken) and forwards
    /// each connection to the same port on the sandbox's loopback (--expose), through a socket
    /// from the function given to `exposeInside` once the sandbox is up. Outside the rules: the
    /// user named this port. Each connection is in the audit log.
    public func expose(port: Int) throws {
        let (audit, pool, inside) = (self.audit, self.pool, self.inside)
        let listener = try ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelOption(ChannelOptions.autoRead, value: false)
            .childChannelInitializer { client in
                client.eventLoop.makeCompletedFuture {
                    try client.pipeline.syncOperations.addHandlers(HeldInput(), ExposedPortForwarder(port: port, audit: audit, pool: pool, inside: inside))
                }
            }
            .bind(host: "127.0.0.1", port: port)
            .wait()
        forwarders.withLockedValue { $0.append(listener) }
    }

    /// How --expose reaches the sandbox: a blocking function that returns a socket connected
    /// to a port on the sandbox's loopback (SandboxSockets.connect).
    public func exposeInside(_ connect: @escaping @Sendable (Int) throws -> Int32) {
        inside.withLockedValue { $0 = connect }
    }

    /// Counts a new connection against `maximumConnections` until it closes; false when there
    /// are that many already (the caller closes it).
    private static func admit(_ channel: Channel, open: NIOLockedValueBox<Int>) -> Bool {
        let admitted = open.withLockedValue { count -> Bool in
            guard count < maximumConnections else { return false }
            count += 1
            return true
        }
        if admitted { channel.closeFuture.whenComplete { _ in open.withLockedValue { $0 -= 1 } } }
        return admitted
    }

    /// Stops serving; the connections still open are closed. Safe to call more than once.
    public func shutdown() {
        let already = stopped.withLockedValue { (value: inout Bool) -> Bool in let was = value; value = true; return was }
        guard !already else { return }
        try? server?.close().wait()
        for channel in forwarders.withLockedValue({ $0 }) { try? channel.close().wait() }
        try? group.syncShutdownGracefully()
        try? pool.syncShutdownGracefully()
    }
}

/// Looks at the first byte of a connection and sets up the SOCKS or the HTTP pipeline.
final class ProtocolSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let upstream: Upstream
    private var deadline: Scheduled<Void>?

    init(upstream: Upstream) { self.upstream = upstream }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: ProxyServer.requestTimeout) {
            if (try? channel.pipeline.syncOperations.handler(type: RelayHandler.self)) == nil { channel.close(promise: nil) }
        }
        channel.closeFuture.whenComplete { _ in self.deadline?.cancel() }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return }
        let pipeline = context.pipeline
        let handlers: [ChannelHandler]
        if first == 5 {
            let handshake = SOCKSServerHandshakeHandler()
            handlers = [handshake, SOCKSProxyHandler(upstream: upstream, handshake: handshake)]
        } else {
            let decoder = ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes))
            let encoder = HTTPResponseEncoder()
            let heldEOF = HeldEOF()
            handlers = [heldEOF, decoder, encoder, HTTPProxyHandler(upstream: upstream, encoder: encoder, decoder: decoder, heldEOF: heldEOF)]
        }
        do {
            try pipeline.syncOperations.addHandlers(handlers, position: .after(self))
        } catch {
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(data)
        pipeline.syncOperations.removeHandler(self, promise: nil)
    }
}
