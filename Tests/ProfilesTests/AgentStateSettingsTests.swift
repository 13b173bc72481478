import XCTest
@testable import Profiles

/// `[agent]`: the sandbox-only configuration directory of an agent's profile.
final class AgentStateSettingsTests: XCTestCase {
    private func load(_ text: String, environment: [String: String] = [:]) throws -> EffectivePolicy {
        let fixture = TestStore()
        fixture.write("p.toml", text)
        return try PolicyLoader(store: fixture.store, variables: variables(environment: environment)).load(profile: "p", flags: FlagOverrides())
    }

    func testNameVariableAndFilesAreResolved() throws {
        let policy = try load("""
            [agent]
            state = "claude-code"
            state_env = "CLAUDE_CONFIG_DIR"
            seed = ["~/.claude.json", "${env:CLAUDE_CONFIG_DIR}/.claude.json"]
            refresh = ["~/.claude/.credentials.json"]
            link = ["~/.claude/commands"]
            """)
        let agent = try XCTUnwrap(policy.agentState)
        XCTAssertEqual(agent.name.value, "claude-code")
        XCTAssertEqual(agent.variable.value, "CLAUDE_CONFIG_DIR")
        // The entry naming an unset variable is dropped, as in filesystem lists.
        XCTAssertEqual(agent.seed.map(\.path), ["/home/u/.claude.json"])
        XCTAssertEqual(agent.refresh.map(\.path), ["/home/u/.claude/.credentials.json"])
        XCTAssertEqual(agent.link.map(\.path), ["/home/u/.claude/commands"])
        XCTAssertTrue(PolicyReport(policy: policy, enforcement: []).rows.contains { $0.key == "agent.state" && $0.value == "claude-code" })
    }

    func testNoSectionNoDirectory() throws {
        XCTAssertNil(try load("description = \"x\"\n").agentState)
    }

    func testHalfASectionIsAnError() {
        for text in ["[agent]\nstate = \"x\"\n", "[agent]\nstate_env = \"X\"\n", "[agent]\nseed = [\"~/.x\"]\n",
                     "[agent]\nlink = [\"~/.x\"]\n"] {
            XCTAssertThrowsError(try load(text), text) { error in
                XCTAssertTrue("\(error)".contains("agent."), "\(error)")
            }
        }
    }

    func testNamesThatAreNotNamesAreErrors() {
        for (state, variable) in [("../up", "X"), (".hidden", "X"), ("a/b", "X"), ("", "X"), ("ok", "1X"), ("ok", "A-B")] {
            let text = "[agent]\nstate = \"\(state)\"\nstate_env = \"\(variable)\"\n"
            XCTAssertThrowsError(try load(text), text)
        }
    }

    func testADirectoryToCopyIsAnError() {
        XCTAssertThrowsError(try load("[agent]\nstate = \"a\"\nstate_env = \"A\"\nrefresh = [\"~/.a/\"]\n")) { error in
            XCTAssertTrue("\(error)".contains("is a directory"), "\(error)")
        }
    }

    func testAProjectFileThatChangesItWidens() throws {
        let base = try load("[agent]\nstate = \"a\"\nstate_env = \"A\"\nseed = [\"~/.a.json\"]\n")
        let same = try load("[agent]\nstate = \"a\"\nstate_env = \"A\"\nseed = [\"~/.a.json\"]\n")
        let more = try load("[agent]\nstate = \"a\"\nstate_env = \"A\"\nseed = [\"~/.a.json\", \"~/.ssh/id_ed25519\"]\n")
        XCTAssertEqual(ProjectProfileCheck.widenings(from: base, to: same), [])
        XCTAssertEqual(ProjectProfileCheck.widenings(from: base, to: more).count, 1)
        XCTAssertEqual(ProjectProfileCheck.widenings(from: try load("description = \"x\"\n"), to: base).count, 1)
    }

    func testBuiltinAgentProfilesUseIt() throws {
        let store = ProfileStore(userDirectory: "/nonexistent-sbx-user", systemDirectory: "/nonexistent-sbx-system", builtins: BuiltinProfiles.all)
        for (profile, variable) in [("claude-code", "CLAUDE_CONFIG_DIR"), ("codex", "CODEX_HOME")] {
            let policy = try PolicyLoader(store: store, variables: variables()).load(profile: profile, flags: FlagOverrides())
            XCTAssertEqual(policy.agentState?.variable.value, variable, profile)
            // The host's own configuration is not granted writable any more.
            XCTAssertFalse(policy.write.contains { $0.path.hasPrefix("/home/u/.claude") || $0.path.hasPrefix("/home/u/.codex") }, profile)
            XCTAssertFalse(policy.envPass.contains { $0.value == variable }, profile)
        }
    }
}
