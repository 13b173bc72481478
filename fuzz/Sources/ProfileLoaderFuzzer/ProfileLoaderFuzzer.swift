import Profiles

/// One input: parse it as a profile, merge it (extending the built-ins) and resolve it.
/// Errors are expected; crashes, hangs and sanitizer reports are bugs.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzProfileLoader(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let store = ProfileStore(userDirectory: "/nonexistent", systemDirectory: "/nonexistent")
    let variables = Variables(home: "/home/u", project: "/home/u/app", workingDirectory: "/home/u/app", uid: 1000,
                              environment: ["TMPDIR": "/tmp"]) { _ in ["index.example.test"] }
    guard let document = try? ProfileParser.parse(text, source: "fuzz.toml", name: "fuzz"),
          let merged = try? ProfileMerger.merge(document, layer: nil, store: store),
          let policy = try? EffectivePolicy(merged, variables: variables) else { return 0 }
    _ = PolicyReport(policy: policy, enforcement: []).json()
    return 0
}
