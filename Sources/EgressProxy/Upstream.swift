#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix

/// Opens the connection a client asked for, if the rules allow it: decides on the name first
/// (an unlisted name is not even resolved), resolves it on the host side (`hosts` first, as
/// curl's --resolve, then getaddrinfo on a thread), checks each address, connects to the first
/// admitted one. Every attempt ends up in the audit log.
struct Upstream {
    let rules: EgressRules
    let hosts: [String: [IPAddress]]
    let pool: NIOThreadPool
    let audit: AuditLog
    /// The transparent side's DNS answers: a client that resolved a name there and then asks
    /// for the address (SOCKS with local resolution) means the name.
    var fakeAddresses = FakeAddresses()

    struct Refused: Error {
        let reason: String
        /// The rules allowed it, but no address answered (or none was found): not a policy
        /// refusal, so clients get 502 / SOCKS "host unreachable" rather than 403 / "not allowed".
        var unreachable = false
    }

    /// The connected channel (its pipeline built by `initializer`) and the audit entry to
    /// complete when the connection ends.
    func connect(host: String, port: Int, proto: String, on eventLoop: EventLoop,
                 initializer: @escaping (Channel) -> EventLoopFuture<Void>) -> EventLoopFuture<(Channel, AuditLog.Entry)> {
        let given = IPAddress(host).flatMap(fakeAddresses.name(for:))
        let host = given ?? host
        let name = EgressRules.normalize(host) ?? host
        func refuse(_ reason: String, address: String? = nil, unreachable: Bool = false) -> EventLoopFuture<(Channel, AuditLog.Entry)> {
            audit.record(AuditLog.Entry(proto: proto, host: name, port: port, address: address, allowed: false, rule: reason))
            return eventLoop.makeFailedFuture(Refused(reason: reason, unreachable: unreachable))
        }
        let rule: EgressRules.Rule
        switch rules.decide(host: host, port: port) {
        case .allowed(let allowing): rule = allowing
        case .refused(let reason): return refuse(reason)
        }
        return resolve(name, on: eventLoop).flatMap { addresses -> EventLoopFuture<(Channel, AuditLog.Entry)> in
            guard !addresses.isEmpty else { return refuse("\(name): no address found", unreachable: true) }
            var admitted: [IPAddress] = []
            var reason = ""
            for address in addresses {
                switch rules.admits(address, host: name, port: port, rule: rule) {
                case .allowed: admitted.append(address)
                case .refused(let why): reason = why
                }
            }
            guard !admitted.isEmpty else { return refuse(reason, address: addresses.first?.description) }
            // Each admitted address in turn (an IPv6 one first on a host without IPv6 routes).
            func attempt(_ index: Int, lastError: String) -> EventLoopFuture<(Channel, AuditLog.Entry)> {
                guard index < admitted.count, let socketAddress = try? SocketAddress(ipAddress: admitted[index].description, port: port) else {
                    return refuse("\(name):\(port): cannot connect: \(lastError)", address: admitted.last?.description, unreachable: true)
                }
                let address = admitted[index]
                return ClientBootstrap(group: eventLoop)
                    .connectTimeout(.seconds(10))
                    .channelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
                    .channelInitializer(initializer)
                    .connect(to: socketAddress)
                    .map { channel in
                        (channel, AuditLog.Entry(proto: proto, host: name, port: port, address: address.description, allowed: true, rule: rule.text))
                    }
                    .flatMapError { error in attempt(index + 1, lastError: "\(address): \(error)") }
            }
            return attempt(0, lastError: "no address")
        }
    }

    /// `connect`, with the upstream's pipeline made of `handlers` and its side of a relay; gives
    /// back the upstream channel and the client's side of the relay, and logs the connection
    /// with its byte counts when the upstream closes.
    func relayed(host: String, port: Int, proto: String, on eventLoop: EventLoop,
                 handlers: @escaping () -> [ChannelHandler] = { [] }) -> EventLoopFuture<(Channel, RelayHandler)> {
        // A fresh pair for each attempt: a failed attempt's channel takes its handlers with it.
        final class Pair { var sides = RelayHandler.pair() }
        let pair = Pair()
        let audit = self.audit
        return connect(host: host, port: port, proto: proto, on: eventLoop) { channel in
            pair.sides = RelayHandler.pair()
            let upstreamSide = pair.sides.1
            return channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandlers(handlers() + [upstreamSide]) }
        }.map { channel, entry in
            let (clientSide, upstreamSide) = pair.sides
            upstreamSide.onInactive = {
                var entry = entry
                entry.bytesUp = clientSide.bytesRead
                entry.bytesDown = upstreamSide.bytesRead
                audit.record(entry)
            }
            return (channel, clientSide)
        }
    }

    private func resolve(_ name: String, on eventLoop: EventLoop) -> EventLoopFuture<[IPAddress]> {
        if let literal = IPAddress(name) { return eventLoop.makeSucceededFuture([literal]) }
        if let mapped = hosts[name] { return eventLoop.makeSucceededFuture(mapped) }
        return pool.runIfActive(eventLoop: eventLoop) { Self.getaddrinfo(name) }
    }

    /// The system resolver (/etc/hosts, DNS) as configured on the host.
    static func getaddrinfo(_ name: String) -> [IPAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard Glibc.getaddrinfo(name, nil, &hints, &result) == 0 else { return [] }
        defer { freeaddrinfo(result) }
        var addresses: [IPAddress] = []
        var cursor = result
        while let info = cursor?.pointee {
            if info.ai_family == AF_INET, let sa = info.ai_addr {
                let bytes = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { withUnsafeBytes(of: $0.pointee.sin_addr) { Array($0) } }
                addresses.append(IPAddress(bytes: bytes))
            } else if info.ai_family == AF_INET6, let sa = info.ai_addr {
                let bytes = sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { withUnsafeBytes(of: $0.pointee.sin6_addr) { Array($0) } }
                addresses.append(IPAddress(bytes: bytes))
            }
            cursor = info.ai_next
        }
        var seen = Set<IPAddress>()
        return addresses.filter { seen.insert($0).inserted }
    }
}
