import NIOCore
import NIOEmbedded
import NIOPosix

/// One client's bytes through the proxy's protocol handling (sniffing, HTTP, SOCKS5) on an
/// in-memory channel, with rules that allow nothing, so that nothing is resolved or dialled:
/// the fuzz target in fuzz/ feeds it arbitrary input. Each chunk arrives as one read (a SOCKS
/// client sends its request after the greeting's answer). Returns what the proxy answered.
public enum ProxyParsing {
    private static let upstream = Upstream(rules: try! EgressRules(allow: [], deny: []), hosts: [:],
                                           pool: NIOThreadPool(numberOfThreads: 1), audit: AuditLog(path: nil))

    public static func feed(_ chunks: [UInt8]...) -> [UInt8] { feed(chunks) }

    public static func feed(_ chunks: [[UInt8]]) -> [UInt8] {
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        guard (try? channel.pipeline.syncOperations.addHandler(ProtocolSniffer(upstream: upstream))) != nil,
              let peer = try? SocketAddress(ipAddress: "127.0.0.1", port: 1),
              (try? channel.connect(to: peer).wait()) != nil else { return [] }
        for chunk in chunks where channel.isActive {
            var buffer = channel.allocator.buffer(capacity: chunk.count)
            buffer.writeBytes(chunk)
            _ = try? channel.writeInbound(buffer)
            channel.embeddedEventLoop.run()
        }
        var answer: [UInt8] = []
        while let part = try? channel.readOutbound(as: ByteBuffer.self) { answer += part.readableBytesView }
        return answer
    }

    /// An upstream's answer to a plain HTTP request through `ConnectionCloseResponseHead`, each
    /// chunk one read; returns what the client gets.
    public static func closingAnswer(_ chunks: [[UInt8]]) -> [UInt8] {
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        guard (try? channel.pipeline.syncOperations.addHandler(ConnectionCloseResponseHead())) != nil else { return [] }
        var answer: [UInt8] = []
        for chunk in chunks {
            var buffer = channel.allocator.buffer(capacity: chunk.count)
            buffer.writeBytes(chunk)
            _ = try? channel.writeInbound(buffer)
            while let part = try? channel.readInbound(as: ByteBuffer.self) { answer += part.readableBytesView }
        }
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        while let part = try? channel.readInbound(as: ByteBuffer.self) { answer += part.readableBytesView }
        return answer
    }

    private static let resolverRules = try! EgressRules(allow: ["*.test"], deny: ["evil.test"])
    private static let fakeAddresses = FakeAddresses()

    /// One datagram to the transparent side's DNS (rules: allow *.test, deny evil.test);
    /// returns its answer, or nil when it is dropped.
    public static func resolve(_ datagram: [UInt8]) -> [UInt8]? {
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        let handler = DNSResponder(rules: resolverRules, addresses: fakeAddresses, audit: AuditLog(path: nil))
        guard (try? channel.pipeline.syncOperations.addHandler(handler)) != nil,
              let peer = try? SocketAddress(ipAddress: "127.0.0.1", port: 5353) else { return nil }
        var buffer = channel.allocator.buffer(capacity: datagram.count)
        buffer.writeBytes(datagram)
        _ = try? channel.writeInbound(AddressedEnvelope(remoteAddress: peer, data: buffer))
        return (try? channel.readOutbound(as: AddressedEnvelope<ByteBuffer>.self))?.map { Array($0.data.readableBytesView) }
    }
}
