import XCTest
@testable import EgressProxy

/// Plain HTTP's answers say "Connection: close" (the proxy serves one request per connection).
final class ConnectionCloseResponseHeadTests: XCTestCase {
    func answer(_ chunks: String...) -> String {
        String(decoding: ProxyParsing.closingAnswer(chunks.map { Array($0.utf8) }), as: UTF8.self)
    }

    func testTheFinalHeadSaysConnectionClose() {
        XCTAssertEqual(answer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\nhi"),
                       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
        // Split anywhere, even inside the blank line; the body after it passes as it is.
        XCTAssertEqual(answer("HTTP/1.1 200 OK\r\nconnection : Keep-Alive\r", "\n\r", "\nbody with\r\n\r\nConnection: keep-alive"),
                       "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nbody with\r\n\r\nConnection: keep-alive")
        // Interim heads pass unchanged; the final one is rewritten.
        XCTAssertEqual(answer("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n\r\n"),
                       "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
        // 101 is the last head on its connection: it passes as it is.
        XCTAssertEqual(answer("HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\n\r\n"),
                       "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\n\r\n")
    }

    func testWhatIsNotAHeadPassesAsItIs() {
        XCTAssertEqual(answer("HTTP/1.1 200 OK\r\nX: y"), "HTTP/1.1 200 OK\r\nX: y")  // the upstream closed early
        let huge = "HTTP/1.1 200 OK\r\n" + String(repeating: "X: y\r\n", count: 20000)
        XCTAssertEqual(answer(huge, "\r\n"), huge + "\r\n")
    }
}
