import NIOCore

/// Moves bytes between two channels, one handler on each: what one side reads, the other
/// writes, with backpressure (a side stops reading while its partner cannot write) and
/// half-close (EOF on one side shuts the other's output once what it read is written).
/// Counts the bytes each side read.
///
/// The relay asks for every read itself, whatever the channel's autoRead: the forwarders'
/// channels have it off (nothing is read before the far side is there), and a read NIO asks
/// for before the partner is in its pipeline is held, not lost.
final class RelayHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    private var partner: RelayHandler?
    private var context: ChannelHandlerContext?
    /// A read is due but waits for the partner: not in its pipeline yet, or not writable.
    private var readHeld = false
    /// This side's input is at EOF: no more reads.
    private var inputClosed = false
    /// The last write from the partner: a close waits for it (writes complete in order).
    private var lastWrite: EventLoopFuture<Void>?
    /// Bytes read from this handler's channel.
    private(set) var bytesRead = 0
    /// Called once, when this side's channel is gone.
    var onInactive: (() -> Void)?

    /// Bytes that reached the other side another way (plain HTTP's request body, re-encoded),
    /// for the audit log.
    func countForwarded(_ bytes: Int) { bytesRead += bytes }

    static func pair() -> (RelayHandler, RelayHandler) {
        let a = RelayHandler(), b = RelayHandler()
        a.partner = b
        b.partner = a
        return (a, b)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // The second of the pair in place: both sides start reading.
        if let partner, partner.context != nil {
            requestRead()
            partner.requestRead()
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        partner = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        requestRead()
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        bytesRead += unwrapInboundIn(data).readableBytes
        partner?.partnerWrite(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        partner?.partnerFlush()
        requestRead()
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner?.partnerClose()
        onInactive?()
        onInactive = nil
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            inputClosed = true
            partner?.partnerShutdownOutput()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { partner?.partnerBecameWritable() }
        context.fireChannelWritabilityChanged()
    }

    /// A read asked for by NIO (autoRead) or by a handler: the same gate as the relay's own.
    func read(context: ChannelHandlerContext) {
        requestRead()
    }

    private func requestRead() {
        guard let context, !inputClosed, context.channel.isActive else { return }
        if partner?.canTakeWrites ?? false {
            readHeld = false
            context.read()
        } else {
            readHeld = true
        }
    }

    // Calls from the partner (same event loop: both channels are served by one loop).
    private var canTakeWrites: Bool { context?.channel.isWritable ?? false }
    private func partnerWrite(_ data: NIOAny) {
        guard let context else { return }
        let written = context.eventLoop.makePromise(of: Void.self)
        lastWrite = written.futureResult
        context.write(data, promise: written)
    }
    private func partnerFlush() { context?.flush() }
    private func partnerBecameWritable() { if readHeld { requestRead() } }

    /// The partner's input ended: shut this side's output, after what is still queued for it
    /// (shutting the output of a channel whose input is closed already closes it, and a close
    /// drops queued writes).
    private func partnerShutdownOutput() {
        afterQueuedWrites { $0.close(mode: .output, promise: nil) }
    }

    /// The partner's channel is gone: close this one, after what is still queued for it.
    private func partnerClose() {
        afterQueuedWrites { $0.close(promise: nil) }
    }

    private func afterQueuedWrites(_ body: @escaping (ChannelHandlerContext) -> Void) {
        guard let context else { return }
        context.flush()
        if let lastWrite { lastWrite.whenComplete { _ in body(context) } } else { body(context) }
    }
}
