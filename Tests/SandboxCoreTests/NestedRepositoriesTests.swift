import Foundation
import XCTest
@testable import SandboxCore

/// The walk that finds repositories below the project, and what it reads again at the end.
final class NestedRepositoriesTests: XCTestCase {
    var root = ""

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "nested-\(UUID().uuidString)"
        for directory in ["a/.git", "b/c/.git", "d/e", "f", "link-target/.git"] {
            try FileManager.default.createDirectory(atPath: root + "/" + directory, withIntermediateDirectories: true)
        }
        FileManager.default.createFile(atPath: root + "/d/e/.git", contents: Data("gitdir: ../../a/.git\n".utf8))
        try FileManager.default.createDirectory(atPath: root + "/.git", withIntermediateDirectories: true)
        symlink(root + "/link-target", root + "/f/link")  // not followed
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: root)
    }

    func testFindsRepositoriesNotTheRootNorThroughSymlinks() {
        let walk = NestedRepositories.Walk(root: root)
        XCTAssertEqual(walk.repositories.sorted(), [root + "/a", root + "/b/c", root + "/d/e", root + "/link-target"])
        XCTAssertFalse(walk.cutShort)
    }

    func testNamesOnlyTheRepositoriesMadeSince() throws {
        let walk = NestedRepositories.Walk(root: root)
        try FileManager.default.createDirectory(atPath: root + "/f/new/.git", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/g/h/.git", withIntermediateDirectories: true)
        XCTAssertEqual(walk.made().sorted(), [root + "/f/new", root + "/g/h"])
    }

    func testAWalkStopsAtItsLimitAndSaysSo() {
        XCTAssertTrue(NestedRepositories.Walk(root: root, limit: 3).cutShort)
        XCTAssertFalse(NestedRepositories.Walk(root: root, limit: 100).cutShort)
    }

    func testSubmodulesGitDirectoriesAreProtectedToo() throws {
        for directory in [".git/modules/lib/modules/inner", ".git/modules/libs/x"] {
            try FileManager.default.createDirectory(atPath: root + "/" + directory, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: root + "/" + directory + "/HEAD", contents: Data())
        }
        FileManager.default.createFile(atPath: root + "/.git/modules/lib/HEAD", contents: Data())
        let paths = NestedRepositories.protectedPaths(relative: [".git/hooks", ".envrc"], roots: [root])
        XCTAssertEqual(paths, [root + "/.git/hooks", root + "/.envrc", root + "/.git/modules/lib/hooks", root + "/.git/modules/lib/modules/inner/hooks",
                               root + "/.git/modules/libs/x/hooks"])
    }
}
