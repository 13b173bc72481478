import Foundation
import XCTest

/// A `python3 -m http.server`-like server on the host's 127.0.0.1, on a port the kernel picks
/// (so no two test classes can collide), serving `directory`.
final class LoopbackHTTPServer {
    let process: Launched
    let port: Int

    private static let script = """
        import functools, http.server, sys
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        open(sys.argv[2] + ".tmp", "w").write(str(server.server_address[1]))
        import os; os.rename(sys.argv[2] + ".tmp", sys.argv[2])
        server.serve_forever()
        """

    /// Nil (with the reason in `failure`) when the server did not come up.
    init?(serving directory: String, failure: inout String) {
        let portFile = Harness.workRoot + "/port-\(UUID().uuidString)"
        process = Harness.launch(["/usr/bin/python3", "-c", Self.script, directory, portFile], as: .current, in: directory)
        guard process.wait(until: { FileManager.default.fileExists(atPath: portFile) }),
              let text = try? String(contentsOfFile: portFile, encoding: .utf8), let port = Int(text) else {
            failure = "the test's HTTP server did not start: \(process.stderr)"
            kill(process.pid, SIGKILL)
            return nil
        }
        self.port = port
    }

    func stop() {
        kill(process.pid, SIGTERM)
        _ = process.finish()
    }
}

/// The audit file a `--verbose` run names on stderr, one JSON object per line.
func auditEvents(_ result: RunResult, file: StaticString = #filePath, line: UInt = #line) throws -> [[String: Any]] {
    let path = try XCTUnwrap(result.stderr.split(separator: "\n").first { $0.hasPrefix("sbx: audit: ") }?.dropFirst(12),
                             "no audit path on stderr (--verbose): \(result.stderr)", file: file, line: line)
    return try String(contentsOfFile: String(path), encoding: .utf8).split(separator: "\n").map {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], file: file, line: line)
    }
}

/// The `protocol` of each connection event, in order.
func connectionProtocols(_ events: [[String: Any]]) -> [String] {
    events.filter { $0["event"] as? String == "connection" }.map { $0["protocol"] as? String ?? "?" }
}

/// Thrown from setUpWithError when what a test needs could not be made: the test fails.
struct SetupFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
