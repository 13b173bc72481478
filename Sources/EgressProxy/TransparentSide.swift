import NIOConcurrencyHelpers
import NIOCore

// The egress proxy for programs that ignore the proxy variables (Node's fetch before 24, Go
// programs built without the environment proxy, anything with its own HTTP client). Inside
// the sandbox, /etc/resolv.conf names 127.0.0.53, where `DNSResponder` answers each name the
// rules might allow with an address of its own from 198.18.0.0/15 (never routed anywhere;
// the sandbox routes the whole range to its loopback). A connection to such an address lands
// on a socket listening on 0.0.0.0:PORT, and `TransparentConnection` maps the address back to
// the name and goes on as CONNECT would: rules, resolution on the host, relay.

/// The names' addresses, both ways; handed out in order, kept for the run.
final class FakeAddresses: Sendable {
    private struct State {
        var byName: [String: IPAddress] = [:]
        var byAddress: [IPAddress: String] = [:]
        /// 198.18.1.1 on: 198.18.0.0/24 stays free (198.18.0.1 is the loopback's own address).
        var next: UInt32 = 0xC612_0101
    }

    private let state = NIOLockedValueBox(State())

    /// The address for `name`; nil when the range is used up.
    func address(for name: String) -> IPAddress? {
        state.withLockedValue { state in
            if let known = state.byName[name] { return known }
            guard state.next <= 0xC613_FFFE else { return nil }
            let value = state.next
            state.next += 1
            let address = IPAddress(bytes: [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)])
            state.byName[name] = address
            state.byAddress[address] = name
            return address
        }
    }

    func name(for address: IPAddress) -> String? {
        state.withLockedValue { $0.byAddress[address] }
    }
}

/// Answers the sandbox's DNS queries: an address from `FakeAddresses` for a name the rules
/// might allow (type A), no records for its other types (so AAAA lookups fall back to A), and
/// "no such name" for the rest, which goes to the audit log once per name (unless it is a
/// reverse lookup or a name without a dot).
final class DNSResponder: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private let rules: EgressRules
    private let addresses: FakeAddresses
    private let audit: AuditLog
    private var refusedNames = Set<String>()

    init(rules: EgressRules, addresses: FakeAddresses, audit: AuditLog) {
        self.rules = rules
        self.addresses = addresses
        self.audit = audit
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard let query = DNSQuery.parse(Array(envelope.data.readableBytesView)) else { return }
        let answer: [UInt8]
        let name = EgressRules.normalize(query.name) ?? query.name
        if query.questionClass != DNSQuery.classIN {
            answer = query.answer(.refused)
        } else if rules.mayAllow(name: name) {
            if query.type == DNSQuery.typeA, let address = addresses.address(for: name) {
                answer = query.answer(.noError, address: address.bytes)
            } else {
                answer = query.answer(.noError)
            }
        } else {
            answer = query.answer(.nameError)
            // Reverse lookups and single-label names (the sandbox's own hostname, which git
            // looks up for its default identity) are not connection attempts.
            if name.contains("."), !name.hasSuffix(".arpa"), refusedNames.count < 4096, refusedNames.insert(name).inserted {
                audit.record(AuditLog.Entry(proto: "dns", host: name, port: 53, address: nil, allowed: false,
                                            rule: "\(name) not in allow-list (DNS lookup)"))
            }
        }
        var buffer = context.channel.allocator.buffer(capacity: answer.count)
        buffer.writeBytes(answer)
        context.writeAndFlush(wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: buffer)), promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A datagram error (a client gone) is not the resolver's end.
    }
}

/// One connection to a 198.18.0.0/15 address: the name behind the address, then the same way
/// as CONNECT (`Upstream.relayed`), the port being the one the connection came to.
final class TransparentConnection: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let upstream: Upstream
    private let addresses: FakeAddresses
    private let audit: AuditLog

    init(upstream: Upstream, addresses: FakeAddresses, audit: AuditLog) {
        self.upstream = upstream
        self.addresses = addresses
        self.audit = audit
    }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        guard let local = channel.localAddress, let port = local.port, let text = local.ipAddress,
              let address = IPAddress(text), let name = addresses.name(for: address) else {
            let target = channel.localAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "?"
            audit.record(AuditLog.Entry(proto: "transparent", host: target, port: channel.localAddress?.port ?? 0, address: nil,
                                        allowed: false, rule: "\(target): not an address the sandbox's DNS gave out"))
            channel.close(promise: nil)
            return
        }
        upstream.relayed(host: name, port: port, proto: "transparent", on: context.eventLoop).whenComplete { result in
            switch result {
            case .failure:
                channel.close(promise: nil)
            case .success(let (upstreamChannel, clientSide)):
                guard (try? channel.pipeline.syncOperations.addHandler(clientSide, position: .after(self))) != nil else {
                    channel.close(promise: nil)
                    upstreamChannel.close(promise: nil)
                    return
                }
                channel.pipeline.syncOperations.removeHandler(self, promise: nil)
                channel.pipeline.syncOperations.releaseHeldInput()
            }
        }
        context.fireChannelActive()
    }
}
