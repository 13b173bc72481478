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
