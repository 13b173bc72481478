#if canImport(Glibc)
import Glibc
#endif

/// Chooses and resolves the policy of one run: the profile (`--profile` or "default"), the
/// project's `.sbx.toml` when it only narrows, then the command-line flags.
public struct PolicyLoader {
    public static let projectFileName = ".sbx.toml"

    public let store: ProfileStore
    public let variables: Variables

    public init(store: ProfileStore, variables: Variables) {
        self.store = store
        self.variables = variables
    }

    public func load(profile: String?, flags: FlagOverrides, useProjectFile: Bool = true) throws -> EffectivePolicy {
        let (document, layer) = try store.load(profile ?? "default", relativeTo: variables.workingDirectory)
        let merged = try ProfileMerger.merge(document, layer: layer, store: store)
        let flagSettings = try flags.settings()
        let withFlags = MergedProfile(name: merged.name, chain: merged.chain,
                                      settings: ProfileMerger.overlay(merged.settings, with: flagSettings))
        let base = try EffectivePolicy(withFlags, variables: variables)

        let projectFile = variables.project + "/" + Self.projectFileName
        guard useProjectFile, access(projectFile, F_OK) == 0,
              !isSameFile(document.source, projectFile) else {
            return base
        }
        // Any command sandboxed in the project may have written it: a symlink is not followed.
        let (projectDocument, _) = try store.load(projectFile, followLink: false)
        let project = try ProfileMerger.merge(projectDocument, layer: nil, store: store)
        let combinedSettings = ProfileMerger.overlay(ProfileMerger.overlay(merged.settings, with: project.settings), with: flagSettings)
        let combined = try EffectivePolicy(MergedProfile(name: merged.name, chain: merged.chain + project.chain, settings: combinedSettings),
                                           variables: variables)
        let widenings = ProjectProfileCheck.widenings(from: base, to: combined)
        guard widenings.isEmpty else {
            throw ProfileError(Origin(source: projectFile), keyPath: nil,
                               "this project's profile would widen the sandbox (\(widenings.joined(separator: "; "))). " +
                               "Review it, then run with --profile \(projectFile) to use it as written, or --no-project-profile to ignore it")
        }
        return combined
    }

    private func isSameFile(_ a: String, _ b: String) -> Bool {
        var first = stat(), second = stat()
        guard stat(a, &first) == 0, stat(b, &second) == 0 else { return false }
        return first.st_dev == second.st_dev && first.st_ino == second.st_ino
    }
}
