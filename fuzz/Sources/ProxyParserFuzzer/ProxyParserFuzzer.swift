import EgressProxy

/// One input: a client's bytes to the egress proxy, whole and split in two reads (the split
/// point taken from the first byte), through the sniffer, the HTTP and SOCKS5 handling; and
/// the same bytes as a datagram to the transparent side's DNS.
/// Refusals and errors are expected; crashes, hangs and sanitizer reports are bugs.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzProxyParsing(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = ProxyParsing.feed(bytes)
    _ = ProxyParsing.resolve(bytes)
    if let first = bytes.first, bytes.count > 1 {
        let split = 1 + Int(first) % (bytes.count - 1)
        _ = ProxyParsing.feed(Array(bytes[..<split]), Array(bytes[split...]))
    }
    return 0
}
