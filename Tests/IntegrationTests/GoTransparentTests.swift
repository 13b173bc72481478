import XCTest

/// README: programs that ignore the proxy variables (Go without the environment proxy) go
/// through the transparent side. A Go HTTP client (golang-go, an install dependency; built on
/// the host before the run) with `Proxy: nil`, through Go's own resolver (which reads
/// /etc/resolv.conf and asks the sandbox's DNS itself) and through cgo's (glibc's
/// getaddrinfo), reaches an allowed name; an unlisted name does not resolve. The control: Go's
/// default client, which reads HTTP_PROXY, goes through the proxy, and the audit file tells
/// the two apart.
final class GoTransparentTests: XCTestCase {
    static let client = """
        package main

        import (
            "fmt"
            "io"
            "net/http"
            "os"
        )

        func main() {
            client := http.DefaultClient
            if os.Args[1] == "direct" {
                client = &http.Client{Transport: &http.Transport{Proxy: nil}}
            }
            response, err := client.Get(os.Args[2])
            if err != nil {
                fmt.Println("error:", err)
                os.Exit(1)
            }
            body, _ := io.ReadAll(response.Body)
            fmt.Print(string(body))
        }
        """

    func testGoIgnoringTheProxyGoesThroughTheTransparentSide() throws {
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: "/usr/bin/go"), "/usr/bin/go is missing: run scripts/install-deps")
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/go") else { return }
        let build = Harness.makeProject(for: .current, "gobuild")
        FileManager.default.createFile(atPath: build + "/client.go", contents: Data(Self.client.utf8))
        let built = Harness.launch(["/usr/bin/go", "build", "-o", "client", "client.go"], as: .current, in: build,
                                   environment: ["GOCACHE": build + "/cache", "GOPATH": build + "/path", "GO111MODULE": "off"]).finish(timeout: 180)
        XCTAssertEqual(built.status, 0, "go build: \(built.stderr)")
        guard built.status == 0 else { return }

        let site = Harness.makeProject(for: .current, "site")
        FileManager.default.createFile(atPath: site + "/hello", contents: Data("hello from upstream\n".utf8))
        var failure = ""
        let upstream = try XCTUnwrap(LoopbackHTTPServer(serving: site, failure: &failure), failure)
        defer { upstream.stop() }
        let p = upstream.port
        for caller in Harness.callers {
            let project = Harness.makeProject(for: caller)
            XCTAssertEqual(Harness.shell(["install", "-m", "755", build + "/client", project + "/client"]), 0)
            let result = Harness.sbx(["run", "--allow-domain", "up.test:\(p)", "--add-host", "up.test=127.0.0.1", "--verbose", "--",
                                      "/bin/sh", "-c", """
                                        GODEBUG=netdns=go ./client direct http://up.test:\(p)/hello
                                        GODEBUG=netdns=cgo ./client direct http://up.test:\(p)/hello
                                        GODEBUG=netdns=go ./client direct http://evil.test:\(p)/hello | sed 's/^error: .*no such host$/no such host/'
                                        ./client default http://up.test:\(p)/hello
                                        """], as: caller, in: project, timeout: 60)
            XCTAssertEqual(result.stdout, "hello from upstream\nhello from upstream\nno such host\nhello from upstream\n", "\(caller): \(result.stderr)")
            XCTAssertEqual(connectionProtocols(try auditEvents(result)).filter { $0 != "dns" }, ["transparent", "transparent", "http"],
                           "\(caller): the Go clients without the proxy on the transparent side, the default one through the proxy")
        }
    }
}
