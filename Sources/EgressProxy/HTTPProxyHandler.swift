import NIOCore
import NIOHTTP1

/// HTTP on the proxy port: CONNECT host:port (a tunnel, for HTTPS and anything else), and
/// plain HTTP requests in absolute form (http://host/path), forwarded one per connection with
/// "Connection: close", which the answer says too (a second request on the same connection is
/// not read: a client that pipelines gets the first answer and a closed connection, never an
/// unchecked upstream).
/// Refusals are 403 with a body naming the host and the reason.
final class HTTPProxyHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        case connecting(pending: [HTTPServerRequestPart])
        case forwarding(upstream: Channel, client: RelayHandler)
        case tunnel
        case done
    }

    private let upstream: Upstream
    private let encoder: HTTPResponseEncoder
    private let decoder: ByteToMessageHandler<HTTPRequestDecoder>
    private let heldEOF: HeldEOF
    private var state = State.idle
    /// Set when the connection goes: the decoder then forwards the raw bytes it still holds,
    /// which are not request parts and are dropped.
    private var closing = false
    /// The client shut its output while the upstream was being reached.
    private var inputClosedWhileConnecting = false

    init(upstream: Upstream, encoder: HTTPResponseEncoder, decoder: ByteToMessageHandler<HTTPRequestDecoder>, heldEOF: HeldEOF) {
        self.upstream = upstream
        self.encoder = encoder
        self.decoder = decoder
        self.heldEOF = heldEOF
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .tunnel = state {
            context.fireChannelRead(data)  // raw bytes after the decoder left
            return
        }
        if closing { return }
        let part = unwrapInboundIn(data)
        switch (state, part) {
        case (.idle, .head(let head)):
            if head.method == .CONNECT {
                connect(context: context, head: head)
            } else {
                forward(context: context, head: head)
            }
        case (.connecting(var pending), _):
            pending.append(part)
            state = .connecting(pending: pending)
        case (.forwarding(let channel, let client), .body(let body)):
            client.countForwarded(body.readableBytes)
            channel.writeAndFlush(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil)
        case (.forwarding(let channel, _), .end(let trailers)):
            channel.writeAndFlush(HTTPClientRequestPart.end(trailers), promise: nil)
            state = .done
        default:
            break  // a second request on this connection: not read (see above)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closing = true
        context.fireChannelInactive()
    }

    /// A client that stops sending before its request is complete gets no answer to wait for;
    /// one that stops while the upstream is being reached has its EOF passed on to the relay
    /// (plain HTTP here; CONNECT's waits in `heldEOF`).
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            switch state {
            case .idle:
                closing = true
                context.close(promise: nil)
                return
            case .connecting:
                inputClosedWhileConnecting = true
                return
            default:
                break
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Once the relay is in place (after `self`): the EOF that came while connecting.
    private func passOnEarlyEOF(context: ChannelHandlerContext) {
        if inputClosedWhileConnecting { context.fireUserInboundEventTriggered(ChannelEvent.inputClosed) }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        closing = true
        if case .idle = state {
            refuse(context: context, status: .badRequest, "malformed request: \(error)")
        } else {
            context.close(promise: nil)
        }
    }

    // MARK: CONNECT

    private func connect(context: ChannelHandlerContext, head: HTTPRequestHead) {
        guard let (host, port) = Self.authority(head.uri, defaultPort: nil) else {
            return refuse(context: context, status: .badRequest, "CONNECT needs host:port, got '\(head.uri)'")
        }
        state = .connecting(pending: [])
        heldEOF.holding = true
        let channel = context.channel
        upstream.relayed(host: host, port: port, proto: "connect", on: context.eventLoop).whenComplete { result in
            switch result {
            case .failure(let error):
                self.refuse(context: context, error)
            case .success(let (upstreamChannel, clientSide)):
                self.state = .tunnel
                // Raw from here on: the response line by hand (an encoder would frame it).
                var line = channel.allocator.buffer(capacity: 64)
                line.writeString("HTTP/1.1 200 Connection Established\r\n\r\n")
                let pipeline = channel.pipeline.syncOperations
                do {
                    pipeline.removeHandler(self.encoder, promise: nil)
                    try pipeline.addHandler(clientSide, position: .after(self))
                    context.writeAndFlush(NIOAny(line), promise: nil)
                    // The decoder leaves later (on the next loop turn), passing on the bytes after
                    // the request; the client's EOF, if it came, only then.
                    let decoderGone = channel.eventLoop.makePromise(of: Void.self)
                    pipeline.removeHandler(self.decoder, promise: decoderGone)
                    pipeline.removeHandler(self, promise: nil)
                    let heldEOF = self.heldEOF
                    decoderGone.futureResult.whenComplete { _ in
                        heldEOF.release()
                        channel.pipeline.syncOperations.removeHandler(heldEOF, promise: nil)
                    }
                } catch {
                    channel.close(promise: nil)
                    upstreamChannel.close(promise: nil)
                }
            }
        }
    }

    // MARK: plain HTTP

    private func forward(context: ChannelHandlerContext, head: HTTPRequestHead) {
        guard head.uri.lowercased().hasPrefix("http://") else {
            return refuse(context: context, status: .badRequest,
                          "expected an absolute http:// URL or CONNECT (for https, use the proxy with CONNECT), got '\(head.uri)'")
        }
        let rest = head.uri.dropFirst(7)
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        guard let (host, port) = Self.authority(String(rest[..<authorityEnd]), defaultPort: 80) else {
            return refuse(context: context, status: .badRequest, "no host in '\(head.uri)'")
        }
        var path = String(rest[authorityEnd...])
        if path.isEmpty || !path.hasPrefix("/") { path = "/" + path }
        var upstreamHead = HTTPRequestHead(version: .http1_1, method: head.method, uri: path, headers: head.headers)
        for name in ["proxy-connection", "proxy-authorization", "connection", "keep-alive"] { upstreamHead.headers.remove(name: name) }
        upstreamHead.headers.replaceOrAdd(name: "connection", value: "close")
        if !upstreamHead.headers.contains(name: "host") { upstreamHead.headers.add(name: "host", value: String(rest[..<authorityEnd])) }

        state = .connecting(pending: [])
        let channel = context.channel
        let relayed = upstream.relayed(host: host, port: port, proto: "http", on: context.eventLoop, handlers: { [HTTPRequestEncoder(), ConnectionCloseResponseHead()] })
        relayed.whenComplete { result in
            switch result {
            case .failure(let error):
                self.refuse(context: context, error)
            case .success(let (upstreamChannel, clientSide)):
                guard case .connecting(let pending) = self.state else { return }
                // The answer comes back as raw bytes through the relay; the request goes out
                // part by part through the upstream's encoder.
                let pipeline = channel.pipeline.syncOperations
                pipeline.removeHandler(self.encoder, promise: nil)
                guard (try? pipeline.addHandler(clientSide, position: .after(self))) != nil else {
                    channel.close(promise: nil)
                    upstreamChannel.close(promise: nil)
                    return
                }
                upstreamChannel.write(HTTPClientRequestPart.head(upstreamHead), promise: nil)
                self.state = .forwarding(upstream: upstreamChannel, client: clientSide)
                for part in pending { self.channelRead(context: context, data: NIOAny(part)) }
                upstreamChannel.flush()
                self.passOnEarlyEOF(context: context)
            }
        }
    }

    // MARK: helpers

    /// 403 for what the rules refuse, 502 when the upstream could not be reached.
    private func refuse(context: ChannelHandlerContext, _ error: Error) {
        let refused = error as? Upstream.Refused
        refuse(context: context, status: refused?.unreachable == false ? .forbidden : .badGateway, refused?.reason ?? "\(error)")
    }

    private func refuse(context: ChannelHandlerContext, status: HTTPResponseStatus, _ reason: String) {
        state = .done
        let body = "sbx: \(reason)\n"
        var head = HTTPResponseHead(version: .http1_1, status: status)
        head.headers.add(name: "content-type", value: "text/plain; charset=utf-8")
        head.headers.add(name: "content-length", value: String(body.utf8.count))
        head.headers.add(name: "connection", value: "close")
        var buffer = context.channel.allocator.buffer(capacity: body.utf8.count)
        buffer.writeString(body)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }

    /// "host:port", "[v6]:port", or "host" with `defaultPort`.
    static func authority(_ text: String, defaultPort: Int?) -> (String, Int)? {
        var host = Substring(text)
        var port = defaultPort
        if let userinfo = host.lastIndex(of: "@") { host = host[host.index(after: userinfo)...] }
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            let after = host[host.index(after: close)...]
            if after.hasPrefix(":") { port = Int(after.dropFirst()) } else if !after.isEmpty { return nil }
            host = host[host.index(after: host.startIndex)..<close]
        } else if let colon = host.lastIndex(of: ":") {
            port = Int(host[host.index(after: colon)...])
            host = host[..<colon]
        }
        guard !host.isEmpty, let port, (1...65535).contains(port) else { return nil }
        return (String(host), port)
    }
}
