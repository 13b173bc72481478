import NIOCore
import NIOSOCKS

/// SOCKS5 on the proxy port (socks5h: names travel to the proxy and are resolved on the host
/// side): no authentication, CONNECT only. A refusal is the SOCKS reply "connection not
/// allowed by ruleset" (2).
final class SOCKSProxyHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ClientMessage
    typealias OutboundOut = ServerMessage

    private let upstream: Upstream
    private let handshake: SOCKSServerHandshakeHandler
    private var tunnel = false
    /// Set when the connection goes: the handshake handler then hands over the raw bytes it
    /// still holds, which are not SOCKS messages and are dropped.
    private var closing = false
    /// The client's request came; the upstream is being reached.
    private var connecting = false
    /// The client shut its output meanwhile.
    private var inputClosedWhileConnecting = false

    init(upstream: Upstream, handshake: SOCKSServerHandshakeHandler) {
        self.upstream = upstream
        self.handshake = handshake
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if tunnel || closing {
            if tunnel { context.fireChannelRead(data) }  // raw bytes after the handshake
            return
        }
        switch unwrapInboundIn(data) {
        case .greeting(let greeting):
            let method: AuthenticationMethod = greeting.methods.contains(.noneRequired) ? .noneRequired : .noneAcceptable
            context.writeAndFlush(wrapOutboundOut(.selectedAuthenticationMethod(.init(method: method))), promise: nil)
            if method == .noneAcceptable { return context.close(promise: nil) }
            // A request sent with the greeting waits in the handshake handler for another read,
            // which may never come (the client waits for the answer): an empty one parses it.
            // Straight to the handshake handler: the sniffer before it is still there.
            if let handshakeContext = try? context.pipeline.syncOperations.context(handler: handshake) {
                handshake.channelRead(context: handshakeContext, data: NIOAny(context.channel.allocator.buffer(capacity: 0)))
            }
        case .request(let request):
            connect(context: context, request: request)
        case .authenticationData:
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        closing = true
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        closing = true
        context.fireChannelInactive()
    }

    /// A client that stops sending before the handshake is complete gets no answer to wait for;
    /// one that stops once its request came has its EOF passed on to the relay.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if !tunnel, let event = event as? ChannelEvent, case .inputClosed = event {
            if connecting {
                inputClosedWhileConnecting = true
                return
            }
            closing = true
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func connect(context: ChannelHandlerContext, request: SOCKSRequest) {
        let unbound = SOCKSAddress.address(try! SocketAddress(ipAddress: "0.0.0.0", port: 0))
        guard request.command == .connect else {
            return reply(context: context, .commandUnsupported, unbound, close: true)
        }
        let host: String, port: Int
        switch request.addressType {
        case .domain(let name, let p): (host, port) = (name, p)
        case .address(let address):
            guard let ip = address.ipAddress, let p = address.port else { return reply(context: context, .addressUnsupported, unbound, close: true) }
            (host, port) = (ip, p)
        }
        let channel = context.channel
        connecting = true
        upstream.relayed(host: host, port: port, proto: "socks5", on: context.eventLoop).whenComplete { result in
            self.connecting = false
            switch result {
            case .failure(let error):
                let unreachable = (error as? Upstream.Refused)?.unreachable ?? true
                self.reply(context: context, unreachable ? .hostUnreachable : .notAllowed, unbound, close: true)
            case .success(let (upstreamChannel, clientSide)):
                self.tunnel = true
                let bound = upstreamChannel.localAddress.map(SOCKSAddress.address) ?? unbound
                self.reply(context: context, .succeeded, bound, close: false)
                let pipeline = channel.pipeline.syncOperations
                guard (try? pipeline.addHandler(clientSide, position: .after(self))) != nil else {
                    channel.close(promise: nil)
                    upstreamChannel.close(promise: nil)
                    return
                }
                pipeline.removeHandler(self.handshake, promise: nil)  // passes on the bytes after the request
                if self.inputClosedWhileConnecting { context.fireUserInboundEventTriggered(ChannelEvent.inputClosed) }
                pipeline.removeHandler(self, promise: nil)
            }
        }
    }

    private func reply(context: ChannelHandlerContext, _ reply: SOCKSServerReply, _ address: SOCKSAddress, close: Bool) {
        let written = context.writeAndFlush(wrapOutboundOut(.response(SOCKSResponse(reply: reply, boundAddress: address))))
        if close { written.whenComplete { _ in context.close(promise: nil) } }
    }
}
