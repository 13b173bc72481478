/// A profile with its `extends` chain applied: what the file says, on top of its parents.
public struct MergedProfile: Sendable {
    public let name: String
    /// Every file that contributed, in the order applied (parents first).
    public let chain: [String]
    public let settings: [String: Setting]
}

/// Applies `extends`. Parents are merged left to right, then the file itself. Lists append
/// (duplicates dropped, first position kept) and an entry "!value" removes an inherited value
/// (the "!" entries stay in the merged lists as markers; `EffectivePolicy` skips them);
/// tables merge key by key; scalars: the later value wins. A profile reached along two paths is
/// applied once, the first time. A cycle is an error.
public enum ProfileMerger {
    public static func merge(_ document: ProfileDocument, layer: ProfileStore.Layer?, store: ProfileStore) throws -> MergedProfile {
        var chain: [String] = []
        let settings = try resolve(document, layer: layer, store: store, stack: [], chain: &chain)
        return MergedProfile(name: document.name, chain: chain, settings: settings)
    }

    private static func resolve(_ document: ProfileDocument, layer: ProfileStore.Layer?, store: ProfileStore,
                                stack: [String], chain: inout [String]) throws -> [String: Setting] {
        if stack.contains(document.source) {
            let cycle = (stack.drop { $0 != document.source } + [document.source]).joined(separator: " -> ")
            throw ProfileError(document.extends.first?.origin ?? Origin(source: document.source), keyPath: "extends",
                               "extends forms a cycle: \(cycle)")
        }
        var merged: [String: Setting] = [:]
        let directory = document.source.hasPrefix("built-in:") ? nil : parentDirectory(of: document.source)
        for parent in document.extends {
            // A profile extending its own name means the next layer down (user "default" → built-in).
            let below: ProfileStore.Layer = parent.value == document.name && !ProfileStore.isPath(parent.value)
                ? ProfileStore.Layer(rawValue: (layer?.rawValue ?? -1) + 1) ?? .builtin : .user
            let loaded: (ProfileDocument, ProfileStore.Layer?)
            do {
                loaded = try store.load(parent.value, relativeTo: directory, from: below)
            } catch let error as ProfileError where error.keyPath == nil && error.origin.line == 0 {
                throw ProfileError(parent.origin, keyPath: "extends", "'\(parent.value)': \(error.message)")
            }
            // A profile reached twice (strict and python both extend default) applies once, where
            // first reached: applied again, it would undo what came in between (strict's hidden home).
            if chain.contains(loaded.0.source) { continue }
            let settings = try resolve(loaded.0, layer: loaded.1, store: store,
                                       stack: stack + [document.source], chain: &chain)
            merged = overlay(merged, with: settings)
        }
        chain.append(document.source)
        return overlay(merged, with: document.settings)
    }

    /// `top` applied on `base` with the merge rules above.
    public static func overlay(_ base: [String: Setting], with top: [String: Setting]) -> [String: Setting] {
        var result = base
        for (key, setting) in top {
            switch (result[key], setting) {
            case let (.list(old)?, .list(new)):
                result[key] = .list(appendList(old, new))
            case (nil, .list(let new)):
                result[key] = .list(appendList([], new))
            case let (.map(old)?, .map(new)):
                result[key] = .map(old.merging(new) { $1 })
            default:
                result[key] = setting
            }
        }
        return result
    }

    private static func appendList(_ base: [Sourced<Scalar>], _ additions: [Sourced<Scalar>]) -> [Sourced<Scalar>] {
        var result = base
        for item in additions {
            if case let .string(text) = item.value, text.hasPrefix("!") {
                // The marker stays, so the removal also applies when this profile is later laid
                // over another (a project's .sbx.toml over the chosen profile).
                // A trailing '/' (a directory entry) does not matter: "!.vscode" removes ".vscode/".
                let removed = withoutTrailingSlash(text.dropFirst())
                result.removeAll { if case let .string(value) = $0.value { return withoutTrailingSlash(Substring(value)) == removed } else { return false } }
                if !result.contains(where: { $0.value == item.value }) { result.append(item) }
            } else if !result.contains(where: { $0.value == item.value }) {
                result.append(item)
            }
        }
        return result
    }

    private static func withoutTrailingSlash(_ text: Substring) -> Substring {
        text.count > 1 && text.hasSuffix("/") ? text.dropLast() : text
    }

    private static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
