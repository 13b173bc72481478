import Foundation
import XCTest
@testable import Profiles

/// The built-ins compiled into sbx are the files in profiles/, and every one of them loads.
final class BuiltinProfilesTests: XCTestCase {
    let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("profiles").path

    func testBuiltinsAreIdenticalToProfilesDirectory() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".toml") }
        XCTAssertEqual(Set(files.map { String($0.dropLast(5)) }), Set(BuiltinProfiles.all.keys),
                       "run scripts/generate-builtin-profiles")
        for file in files {
            let text = try String(contentsOfFile: directory + "/" + file, encoding: .utf8)
            XCTAssertEqual(BuiltinProfiles.all[String(file.dropLast(5))].map { $0 + "\n" }, text,
                           "\(file) differs from the built-in: run scripts/generate-builtin-profiles")
        }
    }

    func testEveryBuiltinLoadsMergesAndResolves() throws {
        let store = ProfileStore(userDirectory: "/nonexistent", systemDirectory: "/nonexistent")
        for name in BuiltinProfiles.all.keys.sorted() {
            let (document, layer) = try store.load(name)
            XCTAssertNotNil(document.description, "\(name) has no description")
            let merged = try ProfileMerger.merge(document, layer: layer, store: store)
            XCTAssertNoThrow(try EffectivePolicy(merged, variables: variables()), name)
        }
    }
}
