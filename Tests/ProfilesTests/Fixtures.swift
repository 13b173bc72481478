import Foundation
@testable import Profiles

/// A store whose user and system directories are fresh temporary directories.
struct TestStore {
    let root: String
    let store: ProfileStore

    init(builtins: [String: String] = ["default": "description = \"d\"\n[filesystem]\nhide = [\"~/.ssh\"]\n"]) {
        root = NSTemporaryDirectory() + "sbx-profiles-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: root + "/user", withIntermediateDirectories: true)
        try! FileManager.default.createDirectory(atPath: root + "/system", withIntermediateDirectories: true)
        store = ProfileStore(userDirectory: root + "/user", systemDirectory: root + "/system", builtins: builtins)
    }

    @discardableResult
    func write(_ name: String, _ text: String, in layer: String = "user") -> String {
        let path = "\(root)/\(layer)/\(name)"
        try! text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

func variables(project: String = "/home/u/app", environment: [String: String] = [:],
               tools: [String: [String]] = [:]) -> Variables {
    Variables(home: "/home/u", project: project, workingDirectory: project, uid: 1000, environment: environment) { tools[$0] ?? [] }
}

func parse(_ text: String, source: String = "test.toml") throws -> ProfileDocument {
    try ProfileParser.parse(text, source: source, name: "test")
}

func strings(_ setting: Setting?) -> [String] {
    guard case let .list(items)? = setting else { return [] }
    return items.map(\.value.description)
}
