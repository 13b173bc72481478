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
}
