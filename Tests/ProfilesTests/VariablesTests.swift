import XCTest
@testable import Profiles

final class VariablesTests: XCTestCase {
    let origin = Origin(source: "t.toml", line: 1, column: 1)

    func expand(_ text: String, _ vars: Variables = variables()) throws -> [String] {
        try vars.expand(text, origin: origin, keyPath: "k")
    }

    func testHomeProjectAndXDG() throws {
        XCTAssertEqual(try expand("~"), ["/home/u"])
        XCTAssertEqual(try expand("~/.claude"), ["/home/u/.claude"])
        XCTAssertEqual(try expand("a~b"), ["a~b"])
        XCTAssertEqual(try expand("${HOME}/x ${PROJECT} ${CWD} ${UID}"), ["/home/u/x /home/u/app /home/u/app 1000"])
        XCTAssertEqual(try expand("${XDG_CONFIG_HOME}|${XDG_CACHE_HOME}|${XDG_DATA_HOME}|${XDG_STATE_HOME}|${TMPDIR}"),
                       ["/home/u/.config|/home/u/.cache|/home/u/.local/share|/home/u/.local/state|/tmp"])
        let custom = variables(environment: ["XDG_CACHE_HOME": "/c", "TMPDIR": "/t", "XDG_CONFIG_HOME": "relative"])
        XCTAssertEqual(try expand("${XDG_CACHE_HOME} ${TMPDIR} ${XDG_CONFIG_HOME}", custom), ["/c /t /home/u/.config"])
    }

    func testEnvVariables() throws {
        XCTAssertEqual(try expand("${env:TOKEN_NAME}-${env:UNSET}", variables(environment: ["TOKEN_NAME": "v"])), ["v-"])
    }

    func testToolVariablesYieldOneEntryPerHost() throws {
        let vars = variables(tools: ["pip-index": ["pkgs.example.test", "files.example.test"]])
        XCTAssertEqual(try expand("${tool:pip-index}:443", vars), ["pkgs.example.test:443", "files.example.test:443"])
        XCTAssertEqual(try expand("${tool:npm-registry}", vars), [])
    }

    func testUnknownOrMalformedVariablesAreErrors() {
        for text in ["${NOPE}", "${tool:nope}", "${HOME"] {
            XCTAssertThrowsError(try expand(text), text) { error in
                XCTAssertEqual((error as? ProfileError)?.origin, self.origin)
            }
        }
    }

    func testPathsAreAbsoluteAndNormalised() throws {
        let vars = variables()
        XCTAssertEqual(try vars.expandPath(".git/hooks", origin: origin, keyPath: "k"), ["/home/u/app/.git/hooks"])
        XCTAssertEqual(try vars.expandPath("~/a/../b/./c/", origin: origin, keyPath: "k"), ["/home/u/b/c"])
        XCTAssertEqual(try vars.expandPath("../../../../etc", origin: origin, keyPath: "k"), ["/etc"])
    }

    /// "${env:CLAUDE_CONFIG_DIR}" with the variable unset must not mean the project itself.
    func testPathWithAnUnsetEnvVariableIsDropped() throws {
        let vars = variables(environment: ["SET": "/s", "EMPTY": ""])
        XCTAssertEqual(try vars.expandPath("${env:UNSET}", origin: origin, keyPath: "k"), [])
        XCTAssertEqual(try vars.expandPath("${env:EMPTY}/x", origin: origin, keyPath: "k"), [])
        XCTAssertEqual(try vars.expandPath("${env:SET}/x", origin: origin, keyPath: "k"), ["/s/x"])
    }
}
