import XCTest
@testable import EgressProxy

/// The proxy's answers to whole requests, on an in-memory channel (rules that allow nothing).
final class ProxyParsingTests: XCTestCase {
    func answer(_ text: String) -> String { String(decoding: ProxyParsing.feed(Array(text.utf8)), as: UTF8.self) }

    func testRefusalsAndMalformedRequests() {
        XCTAssertTrue(answer("CONNECT evil.test:443 HTTP/1.1\r\nHost: evil.test\r\n\r\n").hasPrefix("HTTP/1.1 403 Forbidden"))
        XCTAssertTrue(answer("GET http://evil.test/ HTTP/1.1\r\n\r\n").contains("sbx: evil.test:80 not in allow-list"))
        XCTAssertTrue(answer("GET / HTTP/1.1\r\nHost: x\r\n\r\n").hasPrefix("HTTP/1.1 400 Bad Request"))
        XCTAssertTrue(answer("CONNECT nohost HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 400"))
        XCTAssertTrue(answer("\u{1}\u{2}garbage\r\n\r\n").hasPrefix("HTTP/1.1 400"))
        // SOCKS5: no authentication chosen, then "not allowed" (2) for a refused name.
        let socks = ProxyParsing.feed([5, 1, 0], [5, 1, 0, 3, 9] + Array("evil.test".utf8) + [1, 187])
        XCTAssertEqual(Array(socks.prefix(4)), [5, 0, 5, 2])
        XCTAssertEqual(ProxyParsing.feed([5, 0xff]), [])  // incomplete greeting: nothing, no crash
    }
}

/// The transparent side's DNS: what it answers, and that odd datagrams are dropped.
final class DNSResponderTests: XCTestCase {
    /// A query for `name`, type `type`, with an EDNS OPT record after the question as glibc sends.
    func query(_ name: String, type: UInt16 = 1, id: UInt16 = 0x1234) -> [UInt8] {
        var bytes: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xFF), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1]
        for label in name.split(separator: ".") { bytes.append(UInt8(label.utf8.count)); bytes += label.utf8 }
        bytes += [0, UInt8(type >> 8), UInt8(type & 0xFF), 0, 1]
        bytes += [0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 0]
        return bytes
    }

    func testAllowedNamesGetAnAddressFrom198_18AndOthersNoSuchName() throws {
        let answer = try XCTUnwrap(ProxyParsing.resolve(query("Api.Example.TEST")))
        XCTAssertEqual(Array(answer[0..<4]), [0x12, 0x34, 0x85, 0x80], "id, QR+AA+RD+RA, no error")
        XCTAssertEqual(Array(answer[6..<8]), [0, 1], "one answer")
        XCTAssertEqual(Array(answer.suffix(4)[...].prefix(2)), [198, 18])
        let again = try XCTUnwrap(ProxyParsing.resolve(query("api.example.test")))
        XCTAssertEqual(Array(again.suffix(4)), Array(answer.suffix(4)), "one name, one address, whatever the case")
        let aaaa = try XCTUnwrap(ProxyParsing.resolve(query("api.example.test", type: 28)))
        XCTAssertEqual(Array(aaaa[2..<4]), [0x85, 0x80])
        XCTAssertEqual(Array(aaaa[6..<8]), [0, 0], "no AAAA records: clients fall back to A")
        for refused in ["evil.test", "example.com", "test"] {
            let answer = try XCTUnwrap(ProxyParsing.resolve(query(refused)))
            XCTAssertEqual(answer[3] & 0x0F, 3, "\(refused): NXDOMAIN")
            XCTAssertEqual(Array(answer[6..<8]), [0, 0], refused)
        }
    }

    func testMalformedDatagramsAreDropped() {
        var answer = query("a.test")
        answer[2] |= 0x80  // a response, not a query
        for datagram in [[], Array(query("a.test").prefix(11)), answer, Array(query("a.test").prefix(18)),
                         [0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 0x0C, 0, 1, 0, 1],  // compression in the question
                         [0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 0x61, 0x20, 0x62, 0, 0, 1, 0, 1]] {  // a space in a label
            XCTAssertNil(ProxyParsing.resolve(datagram), "\(datagram)")
        }
    }
}
