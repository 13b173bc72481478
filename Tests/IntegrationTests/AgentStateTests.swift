import Foundation
import XCTest

/// A profile's `[agent]` directory (STATE/agents/NAME): seeded from the host's files, writable
/// inside and kept across runs, while the host's own files are never written.
final class AgentStateTests: XCTestCase {
    func testTheDirectoryIsSeededKeptAcrossRunsAndTheHostsFilesStayUnwritten() throws {
        for caller in Harness.callers {
            let project = Harness.makeProject(for: caller)
            let home = Harness.makeProject(for: caller, "agenthome")
            let name = "it-" + UUID().uuidString.prefix(8).lowercased()
            let state = Harness.stateHome(of: caller) + "/sbx/agents/" + name
            let profile = project + "/agent.toml"
            func write(_ text: String, _ path: String, age seconds: TimeInterval) throws {
                try Data(text.utf8).write(to: URL(fileURLWithPath: path))
                try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -seconds)], ofItemAtPath: path)
                if caller == .unprivileged { chown(path, Harness.unprivilegedIDs.uid, Harness.unprivilegedIDs.gid) }
            }
            func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "<missing>" }
            try write("""
                extends = ["default"]
                [agent]
                state = "\(name)"
                state_env = "IT_AGENT_DIR"
                seed = ["~/.agent.json"]
                refresh = ["~/.agent-login"]
                link = ["~/commands"]
                """, profile, age: 0)
            try FileManager.default.createDirectory(atPath: home + "/commands", withIntermediateDirectories: true)
            if caller == .unprivileged { chown(home + "/commands", Harness.unprivilegedIDs.uid, Harness.unprivilegedIDs.gid) }
            try write("HOST-COMMAND", home + "/commands/hello.md", age: 0)
            try write("HOST-STATE-1", home + "/.agent.json", age: 1000)
            try write("LOGIN-1", home + "/.agent-login", age: 1000)
            func run(_ script: String) -> RunResult {
                Harness.sbx(["run", "--profile", profile, "--", "/bin/sh", "-c", script], as: caller, in: project, environment: ["HOME": home])
            }
            let show = #"cat "$IT_AGENT_DIR/.agent.json"; echo; cat "$IT_AGENT_DIR/.agent-login"; echo; "#

            // Seeded; what the run writes lands in sbx's copy, not in the host's file.
            var result = run(show + #"echo PLANTED > "$IT_AGENT_DIR/.agent.json"; echo x >> "$HOME/.agent.json" 2>/dev/null; echo "dir=$IT_AGENT_DIR""#)
            XCTAssertEqual(result.status, 0, "\(caller): \(result.stderr)")
            XCTAssertTrue(result.stdout.contains("HOST-STATE-1\nLOGIN-1\n"), "\(caller): \(result.stdout)")
            XCTAssertTrue(result.stdout.contains("dir=" + state), "\(caller): \(result.stdout)")
            XCTAssertEqual(read(home + "/.agent.json"), "HOST-STATE-1", "\(caller): the host's file was written")
            XCTAssertEqual(read(state + "/.agent.json"), "PLANTED\n", "\(caller): control: the write inside did not land in sbx's copy")

            // A linked directory is read through the link, and stays the host's, read-only.
            result = run(#"cat "$IT_AGENT_DIR/commands/hello.md"; echo; echo x > "$IT_AGENT_DIR/commands/planted.md" || echo REFUSED"#)
            XCTAssertTrue(result.stdout.contains("HOST-COMMAND\nREFUSED"), "\(caller): \(result.stdout) \(result.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: home + "/commands/planted.md"), "\(caller): planted into the host's directory")

            // The host's files change: the seeded one stays the sandbox's own, the refreshed one follows.
            try write("HOST-STATE-2", home + "/.agent.json", age: 500)
            try write("LOGIN-2", home + "/.agent-login", age: 500)
            result = run(show + #"echo LOGIN-INSIDE > "$IT_AGENT_DIR/.agent-login""#)
            XCTAssertTrue(result.stdout.contains("PLANTED\n\nLOGIN-2\n"), "\(caller): \(result.stdout) \(result.stderr)")

            // A copy newer than the host's (a token refreshed inside) is kept.
            result = run(show)
            XCTAssertTrue(result.stdout.contains("LOGIN-INSIDE"), "\(caller): \(result.stdout) \(result.stderr)")
            XCTAssertEqual(read(home + "/.agent-login"), "LOGIN-2", "\(caller): the host's login was written")

            // `sbx explain` names the directory and the variable, and creates nothing.
            let other = state + "-explained"
            try write(String(read(profile)).replacingOccurrences(of: "\"\(name)\"", with: "\"\(name)-explained\""), profile, age: 0)
            let explain = Harness.sbx(["explain", "--profile", profile], as: caller, in: project, environment: ["HOME": home])
            XCTAssertTrue(explain.stdout.contains("agent.state") && explain.stdout.contains("IT_AGENT_DIR=" + other), "\(caller): \(explain.stdout)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: other), "\(caller): explain created \(other)")
        }
    }

    func testAFileThatCannotBeCopiedStopsTheRunWithItsName() throws {
        let project = Harness.makeProject(for: .current)
        let name = "it-" + UUID().uuidString.prefix(8).lowercased()
        let state = Harness.stateHome(of: .current) + "/sbx/agents/" + name
        try FileManager.default.createDirectory(atPath: state + "/.agent-login", withIntermediateDirectories: true)
        try Data("LOGIN".utf8).write(to: URL(fileURLWithPath: project + "/login"))
        try Data("extends = [\"default\"]\n[agent]\nstate = \"\(name)\"\nstate_env = \"D\"\nrefresh = [\"\(project)/login\"]\n".utf8)
            .write(to: URL(fileURLWithPath: project + "/agent.toml"))
        // The copy's place is a directory (a run made it so), older than the host's file: a
        // clear error, exit 125.
        try FileManager.default.moveItem(atPath: state + "/.agent-login", toPath: state + "/login")
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -1000)], ofItemAtPath: state + "/login")
        let result = Harness.sbx(["run", "--profile", project + "/agent.toml", "--", "/bin/true"], as: .current, in: project)
        XCTAssertEqual(result.status, 125, result.stderr)
        XCTAssertTrue(result.stderr.contains(state + "/login"), result.stderr)
    }
}
