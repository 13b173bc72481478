import XCTest
@testable import Profiles

final class PolicyTests: XCTestCase {
    func testDefaultsAndExpansion() throws {
        let fixture = TestStore()
        let policy = try PolicyLoader(store: fixture.store, variables: variables()).load(profile: nil, flags: FlagOverrides())
        XCTAssertEqual(policy.hide.map(\.path), ["/home/u/.ssh"])
        XCTAssertEqual(policy.networkMode.value, "none")
        XCTAssertEqual(policy.networkPorts.map(\.value), [80, 443])
        XCTAssertEqual(policy.hostname.value, "sbx")
        XCTAssertTrue(policy.tty.value)
        XCTAssertFalse(policy.homeHidden.value)
    }

    func testFlagsOverrideTheProfileForOneRun() throws {
        let fixture = TestStore()
        fixture.write("p.toml", "[network]\nmode = \"proxy\"\nallow = [\"a.example\"]\n[filesystem]\nwrite = [\"/w\"]\n[env]\nset = { A = \"1\" }\n")
        var flags = FlagOverrides()
        flags.network = "none"
        flags.allowDomains = ["b.example"]
        flags.write = ["/w2"]
        flags.hide = ["~/.netrc"]
        flags.environment = ["A=2", "TOKEN"]
        flags.memory = "1G"
        let policy = try PolicyLoader(store: fixture.store, variables: variables()).load(profile: "p", flags: flags)
        XCTAssertEqual(policy.networkMode.value, "none")
        XCTAssertEqual(policy.networkMode.origin, .flag("--net"))
        XCTAssertEqual(policy.networkAllow.map(\.value), ["a.example", "b.example"])
        XCTAssertEqual(policy.write.map(\.path), ["/w", "/w2"])
        XCTAssertEqual(policy.hide.map(\.path), ["/home/u/.netrc"])
        XCTAssertEqual(policy.envSet["A"]?.value, "2")
        XCTAssertEqual(policy.envPass.map(\.value), ["TOKEN"])
        XCTAssertEqual(policy.memory?.value, "1G")
    }

    func testMalformedFlagsAreErrors() {
        for change in [{ (f: inout FlagOverrides) in f.network = "open" }, { $0.memory = "much" }, { $0.timeout = "never" },
                       { $0.cpus = 0 }, { $0.pids = -1 }] {
            var flags = FlagOverrides()
            change(&flags)
            XCTAssertThrowsError(try flags.settings())
        }
    }

    func projectFixture(_ projectProfile: String) -> (TestStore, Variables) {
        let fixture = TestStore()
        let project = fixture.root + "/project"
        try! FileManager.default.createDirectory(atPath: project, withIntermediateDirectories: true)
        try! projectProfile.write(toFile: project + "/.sbx.toml", atomically: true, encoding: .utf8)
        return (fixture, variables(project: project))
    }

    func testProjectFileThatNarrowsIsApplied() throws {
        let (fixture, vars) = projectFixture("[filesystem]\nhide = [\"secrets\"]\nprotect = [\"Makefile\"]\n")
        let policy = try PolicyLoader(store: fixture.store, variables: vars).load(profile: nil, flags: FlagOverrides())
        XCTAssertEqual(policy.hide.map(\.path), ["/home/u/.ssh", vars.project + "/secrets"])
        XCTAssertTrue(policy.chain.last!.hasSuffix(".sbx.toml"))
    }

    func testProjectFileThatWidensIsRefusedUnlessChosenExplicitly() throws {
        let (fixture, vars) = projectFixture("[filesystem]\nwrite = [\"~/.bashrc\"]\nhide = [\"!~/.ssh\"]\n[network]\nmode = \"proxy\"\n[env]\npass = [\"AWS_SECRET_ACCESS_KEY\"]\n")
        let loader = PolicyLoader(store: fixture.store, variables: vars)
        XCTAssertThrowsError(try loader.load(profile: nil, flags: FlagOverrides())) { error in
            let message = "\(error)"
            for expected in ["filesystem.write adds /home/u/.bashrc", "filesystem.hide drops /home/u/.ssh",
                             "network.mode turns the network on", "env.pass adds AWS_SECRET_ACCESS_KEY", "--no-project-profile"] {
                XCTAssertTrue(message.contains(expected), "\(expected) in \(message)")
            }
        }
        XCTAssertNoThrow(try loader.load(profile: nil, flags: FlagOverrides(), useProjectFile: false))
        let explicit = try loader.load(profile: vars.project + "/.sbx.toml", flags: FlagOverrides())
        XCTAssertEqual(explicit.networkMode.value, "proxy")
    }

    func testAllowWritableHomeComesFromTheFlagOrAProfileAndWidensFromAProjectFile() throws {
        let (fixture, vars) = projectFixture("[filesystem]\nallow_writable_home = true\n")
        let loader = PolicyLoader(store: fixture.store, variables: vars)
        XCTAssertThrowsError(try loader.load(profile: nil, flags: FlagOverrides())) { error in
            XCTAssertTrue("\(error)".contains("filesystem.allow_writable_home lets the home directory be granted writable"), "\(error)")
        }
        let plain = try loader.load(profile: nil, flags: FlagOverrides(), useProjectFile: false)
        XCTAssertFalse(plain.allowWritableHome.value)
        var flags = FlagOverrides()
        flags.allowWritableHome = true
        let flagged = try loader.load(profile: nil, flags: flags, useProjectFile: false)
        XCTAssertEqual(flagged.allowWritableHome, Sourced(true, .flag("--allow-writable-home")))
        XCTAssertTrue(try loader.load(profile: vars.project + "/.sbx.toml", flags: FlagOverrides()).allowWritableHome.value)
    }

    /// /tmp, /dev/shm and /run have sizes by default, set by a profile or a flag (the flag
    /// wins); a project file may lower them, not raise them.
    func testPrivateTmpfsSizesHaveDefaultsAndAProjectFileMayOnlyLowerThem() throws {
        let fixture = TestStore()
        fixture.write("p.toml", "[filesystem]\ntmp_size = \"2G\"\nshm_size = \"64M\"\n")
        let loader = PolicyLoader(store: fixture.store, variables: variables())
        let standard = try loader.load(profile: nil, flags: FlagOverrides())
        XCTAssertEqual([standard.tmpSize, standard.shmSize, standard.runSize].map(\.value), ["1G", "256M", "64M"])
        XCTAssertEqual(standard.tmpSize.origin, EffectivePolicy.builtinDefault)
        var flags = FlagOverrides()
        flags.shmSize = "32M"
        let set = try loader.load(profile: "p", flags: flags)
        XCTAssertEqual(set.tmpSize.value, "2G")
        XCTAssertEqual(set.tmpSize.origin.line, 2)
        XCTAssertEqual(set.shmSize, Sourced("32M", .flag("--shm-size")))
        flags.tmpSize = "lots"
        XCTAssertThrowsError(try flags.settings()) { XCTAssertTrue("\($0)".contains("--tmp-size"), "\($0)") }

        let (raising, vars) = projectFixture("[filesystem]\ntmp_size = \"8G\"\n")
        XCTAssertThrowsError(try PolicyLoader(store: raising.store, variables: vars).load(profile: nil, flags: FlagOverrides())) { error in
            XCTAssertTrue("\(error)".contains("filesystem.tmp_size raises or removes the limit"), "\(error)")
        }
        let (lowering, lowVars) = projectFixture("[filesystem]\ntmp_size = \"100M\"\n")
        XCTAssertEqual(try PolicyLoader(store: lowering.store, variables: lowVars).load(profile: nil, flags: FlagOverrides()).tmpSize.value, "100M")
    }

    func testReportCarriesOrigins() throws {
        let fixture = TestStore()
        let policy = try PolicyLoader(store: fixture.store, variables: variables()).load(profile: nil, flags: FlagOverrides())
        let report = PolicyReport(policy: policy, enforcement: [("namespaces", "active")])
        XCTAssertTrue(report.text().contains("filesystem.hide      /home/u/.ssh"), report.text())
        XCTAssertTrue(report.text().contains("built-in:default:3:9"), report.text())
        let json = try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any]
        XCTAssertEqual(json?["profile"] as? String, "default")
        XCTAssertEqual((json?["settings"] as? [[String: String]])?.first { $0["key"] == "filesystem.hide" }?["origin"],
                       "built-in:default:3:9")
    }

    func testJSONQuoting() {
        XCTAssertEqual(quote("a\"b\\c\n\u{1}"), "\"a\\\"b\\\\c\\n\\u0001\"")
    }
}
