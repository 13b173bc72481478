import NIOCore

/// On a plain HTTP request's upstream channel, before its side of the relay: the answer's head
/// says "Connection: close" (the upstream's Connection and Keep-Alive headers dropped), as the
/// proxy serves one request per connection (`HTTPProxyHandler`). Without it a keep-alive client
/// sends its next request on a connection about to close, and sees it dropped. Interim (1xx)
/// heads pass as they are; after the final head (or a head too large to be one), bytes pass.
final class ConnectionCloseResponseHead: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    static let maximumHeadSize = 64 * 1024
    private static let dropped: Set<String> = ["connection", "keep-alive", "proxy-connection"]

    /// The bytes of the head not complete yet.
    private var pending: [UInt8] = []
    private var passing = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if passing { return context.fireChannelRead(data) }
        pending += unwrapInboundIn(data).readableBytesView
        var out: [UInt8] = []
        while !passing, let end = Self.headEnd(in: pending) {
            let head = Array(pending[..<end])
            pending.removeFirst(end)
            switch Self.status(head) ?? 0 {
            case 101:  // Switching Protocols: the last head on the connection, as it is
                out += head
                passing = true
            case 100..<200:  // interim
                out += head
            default:
                out += Self.closing(head)
                passing = true
            }
        }
        if passing || pending.count > Self.maximumHeadSize {
            passing = true
            out += pending
            pending = []
        }
        guard !out.isEmpty else { return }
        var buffer = context.channel.allocator.buffer(capacity: out.count)
        buffer.writeBytes(out)
        context.fireChannelRead(wrapInboundOut(buffer))
    }

    /// The upstream closed before a whole head: what came is passed on as it is.
    func channelInactive(context: ChannelHandlerContext) {
        flushPending(context: context)
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event { flushPending(context: context) }
        context.fireUserInboundEventTriggered(event)
    }

    private func flushPending(context: ChannelHandlerContext) {
        guard !pending.isEmpty else { return }
        var buffer = context.channel.allocator.buffer(capacity: pending.count)
        buffer.writeBytes(pending)
        pending = []
        passing = true
        context.fireChannelRead(wrapInboundOut(buffer))
        context.fireChannelReadComplete()
    }

    /// The length of the head at the start of `bytes`, its blank line included; nil while incomplete.
    static func headEnd(in bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i + 4
        }
        return nil
    }

    /// The status code of "HTTP/1.1 200 ...", if it is one.
    static func status(_ head: [UInt8]) -> Int? {
        guard head.count > 12, head.starts(with: Array("HTTP/".utf8)) else { return nil }
        return Int(String(decoding: head[9..<12], as: UTF8.self))
    }

    /// `head` (ending in CRLF CRLF) with "Connection: close" for its connection headers.
    static func closing(_ head: [UInt8]) -> [UInt8] {
        var lines = split(head.dropLast(4))
        lines.removeAll { line in
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return false }
            let name = String(decoding: line[line.startIndex..<colon].filter { $0 != 32 && $0 != 9 }, as: UTF8.self).lowercased()
            return dropped.contains(name)
        }
        lines.append(ArraySlice("Connection: close".utf8))
        return lines.flatMap { Array($0) + [13, 10] } + [13, 10]
    }

    private static func split(_ bytes: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = bytes.startIndex
        var i = bytes.startIndex
        while i < bytes.endIndex {
            if bytes[i] == 13, i + 1 < bytes.endIndex, bytes[i + 1] == 10 {
                lines.append(bytes[start..<i])
                i += 2
                start = i
            } else {
                i += 1
            }
        }
        lines.append(bytes[start..<bytes.endIndex])
        return lines
    }
}
