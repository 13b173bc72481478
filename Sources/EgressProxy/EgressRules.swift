#if canImport(Glibc)
import Glibc
#endif

/// The egress allow- and deny-lists and the decisions made with them.
///
/// Entries: `host`, `*.domain` (subdomains only, not the apex), an IPv4 or IPv6 address, a CIDR
/// (`10.0.0.0/8`, `2001:db8::/32`), each optionally with `:port` (`[v6]:port` for an IPv6
/// address) or `:*` for any port. An entry that names no port allows `defaultPorts`
/// (network.ports, by default 80 and 443). Names compare case-insensitively, without a
/// trailing dot; a name with non-ASCII labels is compared in its IDNA ASCII form (`IDNA`), so
/// "bücher.example" and "xn--bcher-kva.example" are the same name.
///
/// Two steps, because a name is not an address: `decide` before any lookup (an unlisted name
/// is refused without being resolved), `admits` for each address the name resolved to:
/// loopback, link-local (cloud metadata), private, shared and unique-local addresses pass only
/// when the allowing entry names that address or that exact host, so that a wildcard cannot be
/// pointed at the router or the metadata endpoint by DNS. Deny entries win at both steps.
public struct EgressRules: Sendable {
    public struct Rule: Equatable, Sendable {
        public enum Target: Equatable, Sendable {
            case host(String)
            case subdomains(of: String)
            case network(IPNetwork)
        }
        public let target: Target
        /// nil: any port.
        public let ports: [Int]?
        /// As written, for messages and the audit log.
        public let text: String
    }

    public enum Decision: Equatable, Sendable {
        case allowed(Rule)
        case refused(String)
    }

    public let allow: [Rule]
    public let deny: [Rule]

    public init(allow: [String], deny: [String], defaultPorts: [Int] = [80, 443]) throws(Invalid) {
        self.allow = try allow.map { entry throws(Invalid) in try Self.parse(entry, defaultPorts: defaultPorts) }
        self.deny = try deny.map { entry throws(Invalid) in try Self.parse(entry, defaultPorts: nil) }
    }

    public struct Invalid: Error, Equatable {
        public let entry: String
        public let message: String
    }

    /// Before resolution: is `host` (a name or an address literal) allowed on `port`?
    public func decide(host rawHost: String, port: Int) -> Decision {
        guard let host = Self.normalize(rawHost) else {
            return .refused("\(rawHost): not a valid host name")
        }
        let address = IPAddress(host)
        if let rule = deny.first(where: { $0.matches(host: host, address: address, port: port) }) {
            return .refused("\(host):\(port) denied by \(rule.text)")
        }
        if let rule = allow.first(where: { $0.matches(host: host, address: address, port: port) }) {
            return .allowed(rule)
        }
        return .refused("\(host):\(port) not in allow-list")
    }

    /// After resolution: may the connection allowed by `rule` go to `address`?
    public func admits(_ address: IPAddress, host: String, port: Int, rule: Rule) -> Decision {
        if let denied = deny.first(where: { if case .network(let net) = $0.target { return net.contains(address) && $0.allows(port) } else { return false } }) {
            return .refused("\(host) resolves to \(address), denied by \(denied.text)")
        }
        guard address.isSpecial else { return .allowed(rule) }
        switch rule.target {
        case .host: return .allowed(rule)
        case .network(let net) where net.contains(address): return .allowed(rule)
        default:
            return .refused("\(host) resolves to \(address), a loopback, link-local or private address that \(rule.text) does not name")
        }
    }

    /// Lowercased, without a trailing dot, brackets of an IPv6 literal removed, non-ASCII labels
    /// in their IDNA ASCII form (`IDNA`); nil when not a usable name.
    public static func normalize(_ host: String) -> String? {
        var name = host.lowercased()
        if name.hasPrefix("[") && name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        if name.hasSuffix(".") || name.hasSuffix("\u{3002}") || name.hasSuffix("\u{FF0E}") || name.hasSuffix("\u{FF61}") {
            name.removeLast()
        }
        if !name.unicodeScalars.allSatisfy(\.isASCII) {
            // IDNA: the ASCII form (Punycode labels) is what is matched, resolved and logged.
            guard let ascii = IDNA.toASCII(name) else { return nil }
            name = ascii
        }
        guard !name.isEmpty, name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else { return nil }
        return name
    }

    static func parse(_ entry: String, defaultPorts: [Int]?) throws(Invalid) -> Rule {
        func fail(_ message: String) -> Invalid { Invalid(entry: entry, message: message) }
        var text = authority(ofURL: Substring(entry))
        var ports = defaultPorts
        // A port: the part after the last ':' when the rest is not a bare IPv6 address.
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw fail("unclosed '['") }
            let after = text[text.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw fail("expected ':port' after ']'") }
                ports = try port(after.dropFirst(), entry: entry)
            }
            text = text[text.index(after: text.startIndex)..<close]
        } else if let colon = text.lastIndex(of: ":"), text.firstIndex(of: ":") == colon {
            ports = try port(text[text.index(after: colon)...], entry: entry)
            text = text[..<colon]
        }
        let body = String(text)
        if let slash = body.firstIndex(of: "/") {
            guard let address = IPAddress(String(body[..<slash])), let bits = Int(body[body.index(after: slash)...]),
                  bits >= 0, bits <= address.bits else { throw fail("not a CIDR such as 10.0.0.0/8 or 2001:db8::/32") }
            return Rule(target: .network(IPNetwork(address: address, prefix: bits)), ports: ports, text: entry)
        }
        if let address = IPAddress(body) {
            return Rule(target: .network(IPNetwork(address: address, prefix: address.bits)), ports: ports, text: entry)
        }
        guard let name = normalize(body) else {
            throw fail("not a host name, *.domain, address or CIDR")
        }
        let label: (Substring) -> Bool = { !$0.isEmpty && $0.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2d || $0 == 0x5f } }
        if name.hasPrefix("*.") {
            let domain = name.dropFirst(2)
            guard domain.split(separator: ".", omittingEmptySubsequences: false).allSatisfy(label) else {
                throw fail("not a domain after '*.'")
            }
            return Rule(target: .subdomains(of: String(domain)), ports: ports, text: entry)
        }
        guard name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy(label) else {
            throw fail("not a host name, *.domain, address or CIDR")
        }
        return Rule(target: .host(name), ports: ports, text: entry)
    }

    /// A URL pasted as an entry ("https://registry.example:4873/npm/") stands for its host and
    /// port ("registry.example:4873"); anything else is returned as it is. A URL without a port
    /// keeps the entry's default ports.
    static func authority(ofURL entry: Substring) -> Substring {
        guard let scheme = entry.firstRange(of: "://") else { return entry }
        var rest = entry[scheme.upperBound...]
        if let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) { rest = rest[..<end] }
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }  // user:password@
        return rest
    }

    private static func port(_ text: Substring, entry: String) throws(Invalid) -> [Int]? {
        if text == "*" { return nil }
        guard let value = Int(text), (1...65535).contains(value) else {
            throw Invalid(entry: entry, message: "'\(text)' is not a port (1-65535, or * for any)")
        }
        return [value]
    }
}

extension EgressRules {
    /// Might a connection to the name `host` be allowed on some port? (Not an address literal,
    /// not denied on every port.) The transparent side's DNS answers only for such names; the
    /// port and the rest are decided when the connection comes.
    public func mayAllow(name rawHost: String) -> Bool {
        guard let host = Self.normalize(rawHost), IPAddress(host) == nil else { return false }
        if deny.contains(where: { $0.ports == nil && $0.matches(name: host) }) { return false }
        return allow.contains { $0.matches(name: host) }
    }

    /// Where the transparent side listens: the ports of the allow entries for names, sorted,
    /// without `excluding`, at most `limit`. Entries with any port (`:*`) add none: a listener
    /// for every port is not possible.
    public func namedPorts(excluding: [Int] = [], limit: Int = .max) -> [Int] {
        var ports = Set<Int>()
        for rule in allow {
            if case .network = rule.target { continue }
            ports.formUnion(rule.ports ?? [])
        }
        return Array(ports.subtracting(excluding).sorted().prefix(limit))
    }
}

extension EgressRules.Rule {
    func allows(_ port: Int) -> Bool { ports?.contains(port) ?? true }

    func matches(host: String, address: IPAddress?, port: Int) -> Bool {
        guard allows(port) else { return false }
        if let address {
            if case .network(let net) = target { return net.contains(address) }
            return false
        }
        return matches(name: host)
    }

    /// Does this entry name `host` (a normalised name, not an address), whatever the port?
    func matches(name host: String) -> Bool {
        switch target {
        case .host(let name): return host == name
        case .subdomains(let domain): return host.hasSuffix("." + domain)
        case .network: return false
        }
    }
}

/// An IPv4 or IPv6 address, as 4 or 16 bytes.
public struct IPAddress: Equatable, Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            bytes = withUnsafeBytes(of: v6) { Array($0) }
            return
        }
        return nil
    }

    init(bytes: [UInt8]) { self.bytes = bytes }

    var bits: Int { bytes.count * 8 }

    public var description: String {
        var buffer = [CChar](repeating: 0, count: 64)
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        _ = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) }
        return String(cString: buffer)
    }

    /// Loopback, link-local, private, shared (CGNAT), unique-local, unspecified, multicast,
    /// and IPv4-mapped forms of those.
    public var isSpecial: Bool {
        if bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff {
            return IPAddress(bytes: Array(bytes[12...])).isSpecial
        }
        return Self.special.contains { $0.contains(self) }
    }

    static let special: [IPNetwork] = [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4", "::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8",
    ].map { text in
        let parts = text.split(separator: "/")
        return IPNetwork(address: IPAddress(String(parts[0]))!, prefix: Int(parts[1])!)
    }
}

public struct IPNetwork: Equatable, Sendable {
    public let address: IPAddress
    public let prefix: Int

    func contains(_ other: IPAddress) -> Bool {
        guard other.bytes.count == address.bytes.count else { return false }
        var remaining = prefix
        for (a, b) in zip(address.bytes, other.bytes) where remaining > 0 {
            let mask: UInt8 = remaining >= 8 ? 0xff : ~(0xff >> UInt8(remaining))
            if a & mask != b & mask { return false }
            remaining -= 8
        }
        return true
    }
}
