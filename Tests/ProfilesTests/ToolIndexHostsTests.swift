import Foundation
import XCTest
@testable import Profiles

/// A runner that answers from a table, keyed by the command's first word, and records what it
/// was asked; unknown commands "cannot run".
private final class FakeRunner: @unchecked Sendable {
    private let lock = NSLock()
    private var asked: [[String]] = []
    private let answers: [String: String]

    init(_ answers: [String: String] = [:]) { self.answers = answers }

    var commands: [[String]] { lock.withLock { asked } }

    var runner: CommandRunner {
        CommandRunner { [self] command in
            lock.withLock { asked.append(command) }
            return answers[command.first ?? ""]
        }
    }
}

/// A fresh directory holding a home, a project and a system root, so that no test reads the
/// machine's own configuration.
private struct Machine {
    let root = NSTemporaryDirectory() + "sbx-tool-hosts-\(UUID().uuidString)"
    var home: String { root + "/home" }
    var project: String { root + "/project" }
    var system: String { root + "/system" }

    init() {
        for directory in [home, project, system] {
            try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
    }

    /// Writes `text` at `path` (absolute, or relative to the root), creating directories.
    @discardableResult
    func write(_ path: String, _ text: String) -> String {
        let full = path.hasPrefix("/") ? path : root + "/" + path
        try! FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                 withIntermediateDirectories: true)
        try! text.write(toFile: full, atomically: true, encoding: .utf8)
        return full
    }

    func makeExecutable(_ path: String, _ script: String) {
        let full = write(path, script)
        try! FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: full)
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }
}

final class ToolIndexHostsTests: XCTestCase {
    private var machine: Machine!

    override func setUp() { machine = Machine() }
    override func tearDown() { machine.remove() }

    private func resolve(_ tool: String, _ environment: [String: String] = [:],
                         runner: FakeRunner = FakeRunner()) -> [String] {
        ToolIndexHosts.resolve(tool, environment: environment, home: machine.home, project: machine.project,
                               runner: runner.runner, systemRoot: machine.system)
    }

    // MARK: pip

    func testPipIndexURLsComeFromTheEnvironment() {
        let runner = FakeRunner()
        let environment = ["PIP_INDEX_URL": "https://pkgs.example.test/simple",
                           "PIP_EXTRA_INDEX_URL": "https://extra.example.test/simple  http://user:pw@third.example.test:8080/x"]
        XCTAssertEqual(resolve("pip-index", environment, runner: runner),
                       ["pkgs.example.test", "extra.example.test", "third.example.test:8080"])
        XCTAssertEqual(runner.commands, [])
    }

    func testPipConfigFilesAreReadInPipsOrder() {
        let configFile = machine.write("elsewhere/pip.ini", "[global]\nindex-url = https://env-file.example.test/simple\n")
        machine.write("system/etc/pip.conf", "[global]\nextra-index-url = https://system.example.test/simple\n")
        machine.write("home/.config/pip/pip.conf", """
            # a comment: index-url = https://commented.example.test/
            [install]
            extra_index_url =
                https://xdg-one.example.test/simple
                ; another comment
                https://xdg-two.example.test/simple
            trusted-host = trusted.example.test
            """)
        machine.write("home/.pip/pip.conf", "[global]\nextra-index-url: https://legacy.example.test/simple\n")
        machine.write("venv/pip.conf", "[whatever]\nIndex-URL=https://venv.example.test/simple\n")
        let environment = ["PIP_CONFIG_FILE": configFile, "VIRTUAL_ENV": machine.root + "/venv"]
        XCTAssertEqual(resolve("pip-index", environment),
                       ["env-file.example.test", "venv.example.test", "system.example.test",
                        "xdg-one.example.test", "xdg-two.example.test", "legacy.example.test"])
    }

    func testPipHonoursXDGConfigHome() {
        machine.write("home/.config/pip/pip.conf", "[global]\nindex-url = https://default-xdg.example.test/\n")
        machine.write("xdg/pip/pip.conf", "[global]\nindex-url = https://custom-xdg.example.test/\n")
        XCTAssertEqual(resolve("pip-index", ["XDG_CONFIG_HOME": machine.root + "/xdg"]), ["custom-xdg.example.test"])
        XCTAssertEqual(resolve("pip-index", ["XDG_CONFIG_HOME": "relative"]), ["default-xdg.example.test"])
    }

    func testPipIsAskedForItsDefaultIndexWhenNoneIsConfigured() {
        let runner = FakeRunner(["python3": "pkgs.example.test\nfiles.example.test\n"])
        XCTAssertEqual(resolve("pip-index", runner: runner), ["pkgs.example.test", "files.example.test"])
        XCTAssertEqual(runner.commands, [[
            "python3", "-c",
            "from pip._internal.models.index import PyPI; print(PyPI.netloc); print(PyPI.file_storage_domain)",
        ]])
    }

    func testPipPrecedence() {
        machine.write("home/.pip/pip.conf", """
            [global]
            index-url = https://file-index.example.test/simple
            extra-index-url = https://file-extra.example.test/simple
            """)
        let runner = FakeRunner(["python3": "default.example.test"])
        // The environment replaces the same setting only; files beat asking pip.
        XCTAssertEqual(resolve("pip-index", ["PIP_INDEX_URL": "https://env.example.test/"], runner: runner),
                       ["env.example.test", "file-extra.example.test"])
        XCTAssertEqual(resolve("pip-index", ["PIP_EXTRA_INDEX_URL": "https://env.example.test/"], runner: runner),
                       ["file-index.example.test", "env.example.test"])
        XCTAssertEqual(runner.commands, [])
        // An extra index adds to pip's default index, which pip then names.
        machine.write("home/.pip/pip.conf", "[global]\nextra-index-url = https://file-extra.example.test/simple\n")
        XCTAssertEqual(resolve("pip-index", runner: runner), ["default.example.test", "file-extra.example.test"])
        XCTAssertEqual(runner.commands.count, 1)
    }

    func testPipIgnoresValuesThatAreNotURLs() {
        machine.write("home/.pip/pip.conf",
                      "[global]\nindex-url = /srv/wheels\nextra-index-url = https://ok.example.test/ # mirror\n")
        XCTAssertEqual(resolve("pip-index"), ["ok.example.test"])
    }

    // MARK: npm

    func testNpmRegistryComesFromTheEnvironment() {
        let runner = FakeRunner()
        XCTAssertEqual(resolve("npm-registry", ["NPM_CONFIG_REGISTRY": "https://upper.example.test/"], runner: runner),
                       ["upper.example.test"])
        XCTAssertEqual(resolve("npm-registry", ["npm_config_registry": "https://lower.example.test/npm/"], runner: runner),
                       ["lower.example.test"])
        XCTAssertEqual(runner.commands, [])
    }

    func testNpmRegistryComesFromNpmrcFiles() {
        machine.write("project/.npmrc", """
            ; comment registry=https://commented.example.test/
            @corp:registry = "https://corp.example.test/npm/"
            //corp.example.test/npm/:_authToken=${TOKEN}
            registry=https://${MIRROR_HOST}/npm/ # inline comment
            """)
        machine.write("home/.npmrc",
                      "registry='https://home.example.test'\n@team:registry=https://team.example.test${SUFFIX?}/\n")
        XCTAssertEqual(resolve("npm-registry", ["MIRROR_HOST": "mirror.example.test"]),
                       ["mirror.example.test", "home.example.test", "corp.example.test", "team.example.test"])
    }

    func testNpmIsAskedWhenNoDefaultRegistryIsConfigured() {
        machine.write("home/.npmrc", "@corp:registry=https://corp.example.test/\nregistry=https://${UNSET}/\n")
        let runner = FakeRunner(["npm": "https://default.example.test/\n"])
        XCTAssertEqual(resolve("npm-registry", runner: runner), ["default.example.test", "corp.example.test"])
        XCTAssertEqual(runner.commands, [["npm", "config", "get", "registry"]])
    }

    func testNpmPrecedence() {
        machine.write("home/.npmrc", "registry=https://file.example.test/\n@corp:registry=https://corp.example.test/\n")
        let runner = FakeRunner(["npm": "https://default.example.test/"])
        XCTAssertEqual(resolve("npm-registry", ["npm_config_registry": "https://env.example.test/"], runner: runner),
                       ["env.example.test", "corp.example.test"])
        XCTAssertEqual(resolve("npm-registry", runner: runner), ["file.example.test", "corp.example.test"])
        XCTAssertEqual(runner.commands, [])
    }

    // MARK: cargo

    func testCargoRegistriesComeFromTheEnvironment() {
        let environment = ["CARGO_REGISTRIES_ZED_INDEX": "sparse+https://zed.example.test/index/",
                           "CARGO_REGISTRIES_MY_REG_INDEX": "https://my-reg.example.test/git/index",
                           "CARGO_REGISTRIES_INDEX": "https://malformed.example.test/"]
        XCTAssertEqual(resolve("cargo-registry", environment), ["my-reg.example.test", "zed.example.test"])
    }

    func testCargoConfigFilesAreScannedForRegistriesAndSources() {
        machine.write("project/.cargo/config.toml", """
            [source.crates-io]
            replace-with = "mirror"

            [source."mirror"]  # a comment
            registry = "sparse+https://mirror.example.test/index/"
            directory = "/not/a/host"

            [registries]
            inline = { index = "https://inline.example.test/index", token = "secret" }
            dotted.index = 'https://dotted.example.test/index'
            """)
        machine.write("project/.cargo/config",
                      "[registries.legacy-project]\nindex = \"git+https://legacy-project.example.test/i\"\n")
        machine.write("home/.cargo/config.toml", """
            [registries."home.reg"]
            index = "https://home.example.test/index"
            # index = "https://commented.example.test/"
            token = "https://token.example.test/"

            [[bin]]
            index = "https://array-table.example.test/"

            [net]
            registry = "https://not-a-source.example.test/"
            """)
        machine.write("home/.cargo/config", "registries.legacy-home.index = \"https://legacy-home.example.test/\"\n")
        XCTAssertEqual(resolve("cargo-registry"),
                       ["mirror.example.test", "inline.example.test", "dotted.example.test",
                        "legacy-project.example.test", "home.example.test", "legacy-home.example.test"])
    }

    func testCargoEnvironmentBeatsFilesForTheSameRegistry() {
        machine.write("home/.cargo/config.toml", """
            [registries.my-reg]
            index = "https://file.example.test/index"
            [registries.other]
            index = "https://other.example.test/index"
            """)
        XCTAssertEqual(resolve("cargo-registry", ["CARGO_REGISTRIES_MY_REG_INDEX": "https://env.example.test/index"]),
                       ["env.example.test", "other.example.test"])
    }

    func testCargoRegistriesAlreadyUsedAreFound() throws {
        let cargoHome = machine.root + "/cargo-home"
        machine.write(cargoHome + "/registry/index/index.pkgs.example.test-0123456789abcdef/config.json",
                      #"{"dl":"https:\/\/static.example.test\/crates","api" : "https://api.example.test"}"#)
        machine.write(cargoHome + "/registry/index/git.example.test-fedcba9876543210/.git/HEAD", "ref\n")
        machine.write(cargoHome + "/registry/index/not-a-hash-0123/config.json", "{}")
        machine.write(cargoHome + "/registry/index/short-0123456789abcde/x", "")
        machine.write(cargoHome + "/config.toml", "[registries.r]\nindex = \"https://configured.example.test/\"\n")
        machine.write("home/.cargo/registry/index/ignored.example.test-0123456789abcdef/config.json", "{}")
        XCTAssertEqual(resolve("cargo-registry", ["CARGO_HOME": cargoHome]),
                       ["configured.example.test", "git.example.test",
                        "index.pkgs.example.test", "static.example.test", "api.example.test"])
    }

    // MARK: Go

    func testGoProxyComesFromTheEnvironment() {
        let runner = FakeRunner()
        let environment = ["GOPROXY": "https://proxy.example.test/go, mirror.example.test|direct,off,file:///srv/modules"]
        XCTAssertEqual(resolve("go-proxy", environment, runner: runner), ["proxy.example.test", "mirror.example.test"])
        XCTAssertEqual(resolve("go-proxy", ["GOPROXY": "direct"], runner: runner), [])
        XCTAssertEqual(runner.commands, [])
    }

    func testGoIsAskedWhenGOPROXYIsUnset() {
        let runner = FakeRunner(["go": "https://proxy.example.test,direct\n"])
        XCTAssertEqual(resolve("go-proxy", ["GOPROXY": ""], runner: runner), ["proxy.example.test"])
        XCTAssertEqual(runner.commands, [["go", "env", "GOPROXY"]])
    }

    func testGoSumDBAddsItsHost() {
        let proxy = ["GOPROXY": "https://proxy.example.test"]
        func hosts(_ sumDB: String) -> [String] { resolve("go-proxy", proxy.merging(["GOSUMDB": sumDB]) { $1 }) }
        XCTAssertEqual(hosts("off"), ["proxy.example.test"])
        XCTAssertEqual(hosts("sum.example.test"), ["proxy.example.test", "sum.example.test"])
        XCTAssertEqual(hosts("sum.example.test+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"),
                       ["proxy.example.test", "sum.example.test"])
        XCTAssertEqual(hosts("sum.example.test+033de0ae+Ac4z https://sumdb-mirror.example.test/db"),
                       ["proxy.example.test", "sumdb-mirror.example.test"])
        XCTAssertEqual(hosts("nodots+033de0ae+Ac4z"), ["proxy.example.test"])
    }

    // MARK: URLs

    /// What network.allow gets: the port kept when the URL names one (a registry on :4873).
    func testAllowEntriesKeepTheURLsPort() {
        let cases: [(String, String?)] = [
            ("http://registry.example.test:4873/npm/", "registry.example.test:4873"),
            ("https://pkgs.example.test/simple/", "pkgs.example.test"),
            ("http://user:pw@Third.Example.Test:8080/x", "third.example.test:8080"),
            ("http://[::1]:8080/simple", "[::1]:8080"),
            ("http://[::1]/simple", "::1"),
            ("https://pkgs.example.test:notaport/", "pkgs.example.test"),
            ("https://pkgs.example.test:70000/", "pkgs.example.test"),
            ("file:///srv/simple", nil),
        ]
        for (url, expected) in cases {
            XCTAssertEqual(ToolIndexHosts.allowEntry(of: url), expected, url)
        }
    }

    func testHostsOfURLs() {
        let cases: [(String, String?)] = [
            ("https://pkgs.example.test/simple/", "pkgs.example.test"),
            ("HTTPS://User:P%40ss@Pkgs.Example.Test:8443/simple?x=1#top", "pkgs.example.test"),
            ("https://user:p@ss@pkgs.example.test/", "pkgs.example.test"),
            ("http://[::1]:8080/simple", "::1"),
            ("http://[FE80::1]/", "fe80::1"),
            ("http://[::1", nil),
            ("http://[not:an:address!]/", nil),
            ("pkgs.example.test/path/to", "pkgs.example.test"),
            ("pkgs.example.test:3128", "pkgs.example.test"),
            ("https://pkgs.example.test./", "pkgs.example.test"),
            ("sparse+https://index.example.test/", "index.example.test"),
            ("registry+https://index.example.test/", "index.example.test"),
            ("git+ssh://git@index.example.test/repo.git", "index.example.test"),
            ("https://pkgs.example.test?query", "pkgs.example.test"),
            ("  https://padded.example.test  ", "padded.example.test"),
            ("127.0.0.1:8080", "127.0.0.1"),
            ("localhost", "localhost"),
            ("file:///srv/simple", nil),
            ("file://host.example.test/srv", nil),
            ("https://", nil),
            ("https:///path", nil),
            ("", nil),
            ("#", nil),
            ("${UNSET}", nil),
            ("https://bad..example.test/", nil),
            ("https://-bad.example.test/", nil),
            ("ht tp://x.example.test/", nil),
        ]
        for (url, expected) in cases {
            XCTAssertEqual(ToolIndexHosts.host(of: url), expected, url)
        }
    }

    func testResultsAreLowercasedAndDeduplicated() {
        let environment = ["GOPROXY": "https://Proxy.Example.Test/a,https://proxy.example.test/b,PROXY.example.test."]
        XCTAssertEqual(resolve("go-proxy", environment), ["proxy.example.test"])
    }

    // MARK: Nothing configured

    func testAnUnconfiguredMachineYieldsNothing() {
        let runner = FakeRunner()
        for tool in ToolIndexHosts.tools {
            XCTAssertEqual(resolve(tool, runner: runner), [], tool)
        }
        XCTAssertEqual(resolve("no-such-tool", runner: runner), [])
        XCTAssertEqual(runner.commands.map { $0[0] }, ["python3", "npm", "go"])
    }

    // MARK: The system runner

    func testSystemRunnerReturnsStdoutOnly() {
        let runner = CommandRunner.system(environment: ["PATH": "/usr/bin:/bin"])
        XCTAssertEqual(runner.run(["sh", "-c", "echo out; echo err >&2"]), "out\n")
        XCTAssertEqual(runner.run(["cat"]), "", "stdin is /dev/null")
        XCTAssertEqual(CommandRunner.system.run(["/bin/sh", "-c", "printf ok"]), "ok")
    }

    func testSystemRunnerFailsOnErrorOrAMissingProgram() {
        let runner = CommandRunner.system(environment: ["PATH": "/usr/bin:/bin"])
        XCTAssertNil(runner.run(["sh", "-c", "echo partial; exit 3"]))
        XCTAssertNil(runner.run(["sh", "-c", "kill -TERM $$"]))
        XCTAssertNil(runner.run(["sbx-no-such-program"]))
        XCTAssertNil(runner.run([]))
    }

    func testSystemRunnerSearchesTheGivenPATHAndPassesTheEnvironment() {
        machine.makeExecutable("bin/sbx-fake-tool", "#!/bin/sh\necho \"$MARKER\"\n")
        let runner = CommandRunner.system(environment: ["PATH": machine.root + "/bin", "MARKER": "seen"])
        XCTAssertEqual(runner.run(["sbx-fake-tool"]), "seen\n")
        XCTAssertNil(CommandRunner.system(environment: ["PATH": "/usr/bin:/bin"]).run(["sbx-fake-tool"]))
    }

    func testSystemRunnerKillsAHelperThatOverrunsTheTimeout() {
        let runner = CommandRunner.system(environment: ["PATH": "/usr/bin:/bin"], timeoutMilliseconds: 300)
        let start = Date()
        XCTAssertNil(runner.run(["sh", "-c", "echo early; sleep 10"]))
        XCTAssertNil(runner.run(["sh", "-c", "sleep 10 & echo detached"]), "a child holding stdout counts as running")
        XCTAssertLessThan(Date().timeIntervalSince(start), 3)
    }

    func testResolveRunsTheSystemRunnerWithItsEnvironment() {
        machine.makeExecutable("bin/go", "#!/bin/sh\n[ \"$1 $2\" = \"env GOPROXY\" ] && echo \"https://$PROXY_HOST,direct\"\n")
        let environment = ["PATH": machine.root + "/bin:/usr/bin:/bin", "PROXY_HOST": "proxy.example.test"]
        XCTAssertEqual(ToolIndexHosts.resolve("go-proxy", environment: environment, home: machine.home,
                                              project: machine.project),
                       ["proxy.example.test"])
    }
}

/// The answers kept for a day: reused for the same question only.
final class ToolAnswerCacheTests: XCTestCase {
    func testAnAnswerIsReusedForTheSameQuestionOnly() throws {
        let directory = NSTemporaryDirectory() + "sbx-tool-answers-\(getpid())-\(UUID().uuidString.prefix(6))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let fake = FakeRunner(["sh": "registry.example.test\n"])
        let environment = ["PATH": "/usr/bin:/bin", "HOME": "/nonexistent"]
        let command = ["sh", "-c", "echo"]
        func ask(_ environment: [String: String], maxAge: Int = 86_400) -> String? {
            CommandRunner.cached(fake.runner, directory: directory, environment: environment, maxAgeSeconds: maxAge).run(command)
        }
        XCTAssertEqual(ask(environment), "registry.example.test\n")
        XCTAssertEqual(ask(environment), "registry.example.test\n")
        XCTAssertEqual(fake.commands.count, 1, "the second answer came from the cache")
        // Another variable a tool reads for it: another question.
        XCTAssertEqual(ask(environment.merging(["npm_config_userconfig": "/x"]) { $1 }), "registry.example.test\n")
        XCTAssertEqual(fake.commands.count, 2)
        // Too old: asked again.
        XCTAssertEqual(ask(environment, maxAge: -1), "registry.example.test\n")
        XCTAssertEqual(fake.commands.count, 3)
        // A file whose key is not the question (planted, or a hash collision) is not an answer.
        let files = try FileManager.default.contentsOfDirectory(atPath: directory)
        for file in files {
            try Data("another question\n\u{1E}\nevil.example.test\n".utf8).write(to: URL(fileURLWithPath: directory + "/" + file))
        }
        XCTAssertEqual(ask(environment), "registry.example.test\n")
        XCTAssertEqual(fake.commands.count, 4)
        // A program that cannot be found: not cached, asked every time.
        let missing = CommandRunner.cached(fake.runner, directory: directory, environment: ["PATH": "/nonexistent"], maxAgeSeconds: 86_400)
        _ = missing.run(command)
        _ = missing.run(command)
        XCTAssertEqual(fake.commands.count, 6)
    }
}
