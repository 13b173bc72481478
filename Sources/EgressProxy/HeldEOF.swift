import NIOCore

/// Before the HTTP decoder on the proxy port: while `holding`, keeps the client's EOF from the
/// decoder, which drops the bytes after a CONNECT's head when it sees EOF (it hands them on
/// only when removed). `release` passes it on, once the tunnel's relay is in place.
final class HeldEOF: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    /// Set by `HTTPProxyHandler` when a CONNECT's upstream is being reached.
    var holding = false
    private var held = false
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if holding, let event = event as? ChannelEvent, case .inputClosed = event {
            held = true
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func release() {
        holding = false
        if held {
            held = false
            context?.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        }
    }
}
