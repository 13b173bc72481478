import NIOCore

/// First in the pipeline of a connection whose relay is not in place yet (the forwarders, the
/// transparent side): keeps what arrives meanwhile, bytes and EOF, and hands it on when it
/// leaves the pipeline. Needed even with autoRead off: NIO drains a socket whose peer has shut
/// its output (EPOLLRDHUP), so a client that sends and half-closes at once is read before the
/// relay could take it.
final class HeldInput: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private var held: [NIOAny] = []
    private var inputClosed = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        held.append(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {}

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            inputClosed = true
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func removeHandler(context: ChannelHandlerContext, removalToken: ChannelHandlerContext.RemovalToken) {
        let held = self.held
        self.held = []
        for data in held { context.fireChannelRead(data) }
        if !held.isEmpty { context.fireChannelReadComplete() }
        if inputClosed { context.fireUserInboundEventTriggered(ChannelEvent.inputClosed) }
        context.leavePipeline(removalToken: removalToken)
    }
}

extension ChannelPipeline.SynchronousOperations {
    /// Removes the `HeldInput`, if any: what it kept goes to the handlers after it.
    func releaseHeldInput() {
        if let held = try? handler(type: HeldInput.self) { removeHandler(held, promise: nil) }
    }
}
