import XCTest
@testable import Profiles

final class ProfileParserTests: XCTestCase {
    func testEveryKindParses() throws {
        let document = try parse("""
            description = "all kinds"
            extends = ["default"]
            [filesystem]
            home = "hidden"
            write = ["~/.claude/", "${XDG_CACHE_HOME}/pip"]
            [env]
            set = { A = "1", B = "two" }
            [network]
            mode = "proxy"
            ports = [443, 8443]
            [seccomp]
            nested_userns = true
            [limits]
            memory = "1.5G"
            cpu = 2
            pids = 100
            timeout = "30m"
            optional = ["memory"]
            [process]
            tty = false
            """)
        XCTAssertEqual(document.description, "all kinds")
        XCTAssertEqual(document.extends.map(\.value), ["default"])
        XCTAssertEqual(strings(document.settings["filesystem.write"]), ["~/.claude/", "${XDG_CACHE_HOME}/pip"])
        XCTAssertEqual(strings(document.settings["network.ports"]), ["443", "8443"])
        guard case let .map(set)? = document.settings["env.set"] else { return XCTFail("env.set") }
        XCTAssertEqual(set.mapValues(\.value), ["A": "1", "B": "two"])
        guard case let .scalar(cpu)? = document.settings["limits.cpu"] else { return XCTFail("cpu") }
        XCTAssertEqual(cpu.value, .number(2))
        XCTAssertEqual(cpu.origin, Origin(source: "test.toml", line: 15, column: 1))
    }

    func assertError(_ text: String, line: Int, column: Int? = nil, keyPath: String?, contains: String,
                     file: StaticString = #filePath, fileLine: UInt = #line) {
        XCTAssertThrowsError(try parse(text), file: file, line: fileLine) { error in
            guard let error = error as? ProfileError else { return XCTFail("\(error)", file: file, line: fileLine) }
            XCTAssertEqual(error.origin.source, "test.toml", file: file, line: fileLine)
            XCTAssertEqual(error.origin.line, line, "\(error)", file: file, line: fileLine)
            if let column { XCTAssertEqual(error.origin.column, column, "\(error)", file: file, line: fileLine) }
            XCTAssertEqual(error.keyPath, keyPath, file: file, line: fileLine)
            XCTAssertTrue(error.message.contains(contains), error.description, file: file, line: fileLine)
        }
    }

    func testInvalidTOMLNamesLineAndColumn() {
        assertError("[network]\nmode = \"none\"\nallow = [\"a\",\n", line: 3, keyPath: nil, contains: "invalid TOML")
        assertError("a = = 1", line: 1, keyPath: nil, contains: "invalid TOML")
    }

    /// Inputs toml++ asserts on (found by fuzz/) or would silently truncate are refused first.
    func testInputsTheTOMLParserMishandlesAreRefused() {
        assertError("[,\0#", line: 1, column: 2, keyPath: nil, contains: "table header")
        assertError("[network]\nmode = \"none\"\0\n[filesystem]\n", line: 2, column: 14, keyPath: nil, contains: "NUL byte")
        assertError("[,", line: 1, column: 2, keyPath: nil, contains: "table header")
        assertError("a = 1\n  [[ =b]]\n", line: 2, column: 6, keyPath: nil, contains: "table header")
        assertError("[\nnetwork]\n", line: 1, column: 2, keyPath: nil, contains: "table header")
        assertError("[[ \r\n", line: 1, column: 4, keyPath: nil, contains: "table header")
        assertError("[env]\npass = [\n  \"A\",\n  }\"]\n", line: 4, column: 3, keyPath: nil, contains: "'}' where a value was expected")
        assertError(" [\"\"]#", line: 1, keyPath: "", contains: "unknown key")
        assertError("[env]\npass = [ # c\n }\n", line: 3, column: 2, keyPath: nil, contains: "'}' where a value was expected")
        assertError("[env]\npass = [\"a\\\"\0\"]\n", line: 2, column: 13, keyPath: nil, contains: "NUL byte")
        XCTAssertNoThrow(try parse("[ network ]\nmode = \"none\"\n[ \"env\" ]\npass = []\n"))
        // Look-alikes inside strings and nested arrays are left alone (the schema then decides).
        XCTAssertNoThrow(try parse("description = \"\"\"\n[,\n, }\"\"\"\n[env]\npass = [\"x,}\", 'y[,}']\n"))
        XCTAssertThrowsError(try parse("[env]\npass = [\n[ +1 ],\n]\n")) { error in
            XCTAssertFalse("\(error)".contains("table header"), "\(error)")
        }
    }

    func testMisspeltKeyIsAnErrorWithASuggestion() {
        assertError("[network]\nmode = \"none\"\n  dney = [\"x\"]\n", line: 3, column: 3, keyPath: "network.dney",
                    contains: "did you mean 'network.deny'")
        assertError("[filesytem]\nwrite = []\n", line: 1, keyPath: "filesytem", contains: "did you mean 'filesystem'")
        assertError("[filesystem]\nzzzzzzzz = 1\n", line: 2, keyPath: "filesystem.zzzzzzzz", contains: "unknown key")
    }

    func testWrongTypesAreErrors() {
        assertError("[network]\nallow = \"example.com\"\n", line: 2, keyPath: "network.allow", contains: "expected a list")
        assertError("[network]\nallow = [1]\n", line: 2, keyPath: "network.allow", contains: "expected a string")
        assertError("[limits]\npids = \"many\"\n", line: 2, keyPath: "limits.pids", contains: "expected an integer")
        assertError("[process]\ntty = \"yes\"\n", line: 2, keyPath: "process.tty", contains: "expected true or false")
        assertError("[env]\nset = { A = 1 }\n", line: 2, keyPath: "env.set", contains: "A: expected a string")
        assertError("network = 1\n", line: 1, keyPath: "network", contains: "must be a table")
        assertError("[filesystem]\nwrite = [\"a\"]\n[filesystem.more]\nx = 1\n", line: 3, keyPath: "filesystem.more", contains: "unknown key")
    }

    func testValuesAreChecked() {
        assertError("[network]\nmode = \"open\"\n", line: 2, keyPath: "network.mode", contains: "'open' is not one of none, proxy")
        assertError("[limits]\nmemory = \"lots\"\n", line: 2, keyPath: "limits.memory", contains: "size")
        assertError("[limits]\ntimeout = \"-5m\"\n", line: 2, keyPath: "limits.timeout", contains: "duration")
        assertError("[limits]\noptional = [\"landlock-x\"]\n", line: 2, keyPath: "limits.optional", contains: "is not one of")
    }

    func testQuantities() {
        XCTAssertEqual(Quantity.bytes("512"), 512)
        XCTAssertEqual(Quantity.bytes("2G"), 2 << 30)
        XCTAssertEqual(Quantity.bytes("1.5k"), 1536)
        XCTAssertEqual(Quantity.bytes("2GiB"), 2 << 30)
        XCTAssertNil(Quantity.bytes("G"))
        XCTAssertNil(Quantity.bytes("0"))
        XCTAssertEqual(Quantity.seconds("90"), 90)
        XCTAssertEqual(Quantity.seconds("30m"), 1800)
        XCTAssertEqual(Quantity.seconds("2h"), 7200)
        XCTAssertNil(Quantity.seconds("soon"))
    }

    func testKeyLocatorFindsQuotedAndDottedKeys() {
        let locator = KeyLocator("network.mode = \"none\"\n[filesystem]\n  \"write\" = []\n")
        XCTAssertEqual(locator.locate("network.mode").line, 1)
        XCTAssertEqual(locator.locate("filesystem.write").line, 3)
        XCTAssertEqual(locator.locate("filesystem.write").column, 3)
        XCTAssertEqual(locator.locate("filesystem.hide").line, 2)  // falls back to the header
    }
}

/// Each element of a list, and each entry of a table, carries its own line.
final class ElementOriginTests: XCTestCase {
    func testListElementsAndTableEntriesHaveTheirOwnLines() throws {
        let text = """
            [network]
            mode = "proxy"
            allow = [
                "a.test",   # a comment
                'b.test', "a.test:8080",
            ]
            [network.hosts]
            "a.test" = "127.0.0.1"
            """
        let document = try ProfileParser.parse(text, source: "t.toml", name: "t")
        guard case let .list(items)? = document.settings["network.allow"] else { return XCTFail("no list") }
        XCTAssertEqual(items.map { "\($0.origin.line):\($0.origin.column)" }, ["4:5", "5:5", "5:15"])
        guard case let .map(hosts)? = document.settings["network.hosts"] else { return XCTFail("no table") }
        XCTAssertEqual(hosts["a.test"]?.origin.line, 8)
        // A wrong element is reported at its own line.
        XCTAssertThrowsError(try ProfileParser.parse("[limits]\noptional = [\n  \"memory\",\n  3,\n]\n", source: "t.toml", name: "t")) { error in
            XCTAssertEqual((error as? ProfileError)?.origin.line, 2, "a number is not located: the key's line")
        }
    }
}
