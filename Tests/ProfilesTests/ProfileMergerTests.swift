import XCTest
@testable import Profiles

final class ProfileMergerTests: XCTestCase {
    func merged(_ name: String, _ fixture: TestStore) throws -> MergedProfile {
        let (document, layer) = try fixture.store.load(name)
        return try ProfileMerger.merge(document, layer: layer, store: fixture.store)
    }

    func testListsAppendScalarsOverrideTablesMerge() throws {
        let fixture = TestStore()
        fixture.write("base.toml", "[filesystem]\nwrite = [\"a\", \"b\"]\n[network]\nmode = \"proxy\"\n[env]\nset = { X = \"1\", Y = \"1\" }\n")
        fixture.write("child.toml", "extends = [\"base\"]\n[filesystem]\nwrite = [\"b\", \"c\"]\n[network]\nmode = \"none\"\n[env]\nset = { Y = \"2\" }\n")
        let profile = try merged("child", fixture)
        XCTAssertEqual(strings(profile.settings["filesystem.write"]), ["a", "b", "c"])
        guard case let .scalar(mode)? = profile.settings["network.mode"] else { return XCTFail() }
        XCTAssertEqual(mode.value, .string("none"))
        XCTAssertTrue(mode.origin.source.hasSuffix("child.toml"))
        guard case let .map(set)? = profile.settings["env.set"] else { return XCTFail() }
        XCTAssertEqual(set.mapValues(\.value), ["X": "1", "Y": "2"])
        XCTAssertEqual(profile.chain.map { ($0 as NSString).lastPathComponent }, ["base.toml", "child.toml"])
    }

    func testBangRemovesAnInheritedEntry() throws {
        let fixture = TestStore()
        fixture.write("child.toml", "extends = [\"default\"]\n[filesystem]\nhide = [\"!~/.ssh\", \"~/.aws\"]\n")
        XCTAssertEqual(strings(try merged("child", fixture).settings["filesystem.hide"]), ["!~/.ssh", "~/.aws"])
        let policy = try EffectivePolicy(try merged("child", fixture), variables: variables())
        XCTAssertEqual(policy.hide.map(\.path), ["/home/u/.aws"])
    }

    func testBangIgnoresATrailingSlash() throws {
        let fixture = TestStore()
        fixture.write("base.toml", "[filesystem]\nprotect = [\".vscode/\", \".idea\", \".envrc\"]\n")
        fixture.write("child.toml", "extends = [\"base\"]\n[filesystem]\nprotect = [\"!.vscode\", \"!.idea/\"]\n")
        XCTAssertEqual(strings(try merged("child", fixture).settings["filesystem.protect"]), [".envrc", "!.vscode", "!.idea/"])
    }

    func testParentsApplyLeftToRight() throws {
        let fixture = TestStore()
        fixture.write("a.toml", "[process]\nhostname = \"a\"\n[filesystem]\nread = [\"/a\"]\n")
        fixture.write("b.toml", "[process]\nhostname = \"b\"\n[filesystem]\nread = [\"/b\"]\n")
        fixture.write("c.toml", "extends = [\"a\", \"b\"]\n")
        let profile = try merged("c", fixture)
        XCTAssertEqual(strings(profile.settings["filesystem.read"]), ["/a", "/b"])
        guard case let .scalar(host)? = profile.settings["process.hostname"] else { return XCTFail() }
        XCTAssertEqual(host.value, .string("b"))
    }

    /// strict and python both extend default: default applies once, so python does not set the
    /// home back to read-only or bring back a secret strict's user un-hid.
    func testAProfileReachedTwiceAppliesOnce() throws {
        let fixture = TestStore()
        fixture.write("base.toml", "[filesystem]\nhome = \"read-only\"\nhide = [\"~/.ssh\"]\n")
        fixture.write("narrow.toml", "extends = [\"base\"]\n[filesystem]\nhome = \"hidden\"\nhide = [\"!~/.ssh\"]\n")
        fixture.write("tool.toml", "extends = [\"base\"]\n[filesystem]\nwrite = [\"~/.cache/tool\"]\n")
        fixture.write("both.toml", "extends = [\"narrow\", \"tool\"]\n")
        let profile = try merged("both", fixture)
        guard case let .scalar(home)? = profile.settings["filesystem.home"] else { return XCTFail() }
        XCTAssertEqual(home.value, .string("hidden"))
        XCTAssertEqual(strings(profile.settings["filesystem.hide"]), ["!~/.ssh"])
        XCTAssertEqual(profile.chain.map { ($0 as NSString).lastPathComponent },
                       ["base.toml", "narrow.toml", "tool.toml", "both.toml"])
    }

    func testCycleIsAnErrorNamingTheChain() {
        let fixture = TestStore()
        fixture.write("a.toml", "extends = [\"b\"]\n")
        fixture.write("b.toml", "extends = [\"a\"]\n")
        XCTAssertThrowsError(try merged("a", fixture)) { error in
            let description = "\(error)"
            XCTAssertTrue(description.contains("cycle"), description)
            XCTAssertTrue(description.contains("a.toml -> ") && description.contains("b.toml -> "), description)
        }
    }

    func testMissingParentNamesTheExtendsLine() {
        let fixture = TestStore()
        let path = fixture.write("a.toml", "description = \"x\"\nextends = [\"nope\"]\n")
        XCTAssertThrowsError(try merged("a", fixture)) { error in
            guard let error = error as? ProfileError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.origin, Origin(source: path, line: 2, column: 12), "the element's own position")
            XCTAssertEqual(error.keyPath, "extends")
            XCTAssertTrue(error.message.contains("'nope': no such profile"), error.message)
        }
    }

    func testUserProfileExtendingItsOwnNameGetsTheOneBelow() throws {
        let fixture = TestStore()
        fixture.write("default.toml", "extends = [\"default\"]\n[filesystem]\nhide = [\"~/.aws\"]\n")
        let profile = try merged("default", fixture)
        XCTAssertEqual(strings(profile.settings["filesystem.hide"]), ["~/.ssh", "~/.aws"])
        XCTAssertEqual(profile.chain.first, "built-in:default")
    }

    func testLookupOrderUserThenSystemThenBuiltin() throws {
        let fixture = TestStore(builtins: ["p": "description = \"built-in\"\n"])
        XCTAssertEqual(try fixture.store.load("p").0.description, "built-in")
        fixture.write("p.toml", "description = \"system\"\n", in: "system")
        XCTAssertEqual(try fixture.store.load("p").0.description, "system")
        fixture.write("p.toml", "description = \"user\"\n")
        XCTAssertEqual(try fixture.store.load("p").0.description, "user")
        XCTAssertEqual(fixture.store.list().map(\.name), ["p"])
    }

    func testPathsAndBadNames() throws {
        let fixture = TestStore()
        let path = fixture.write("x.toml", "extends = [\"./y.toml\"]\n")
        fixture.write("y.toml", "[process]\nhostname = \"y\"\n")
        let (document, _) = try fixture.store.load(path)
        XCTAssertNotNil(try ProfileMerger.merge(document, layer: nil, store: fixture.store).settings["process.hostname"])
        XCTAssertThrowsError(try fixture.store.load("bad name"))
    }
}
