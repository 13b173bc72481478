#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import EgressProxy
import Profiles
import SandboxCore

struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "List, show and check profiles.",
        subcommands: [List.self, Show.self, Check.self, Keys.self]
    )

    static func store() -> ProfileStore {
        let environment = HostUser.environment()
        return HostUser.profileStore(environment: environment, home: HostUser.home(environment: environment))
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Built-in, system and user profiles, one line each.")

        func run() throws {
            let store = ProfileCommand.store()
            let entries = store.list()
            let width = entries.map(\.name.count).max() ?? 0
            for entry in entries {
                let summary = (try? store.load(entry.name).0.description) ?? nil
                let layer = ["user", "system", "built-in"][entry.layer.rawValue]
                print(entry.name.padding(width) + "  " + layer.padding(8) + "  " + (summary ?? "(cannot be read: run 'sbx profile check \(entry.name)')"))
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "A profile as written, with where it came from.")

        @Argument(help: "A profile name or path.") var profile: String

        func run() throws {
            let (document, _) = try ProfileCommand.store().load(profile)
            print("# \(document.source)")
            print(document.text, terminator: document.text.hasSuffix("\n") ? "" : "\n")
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "check", abstract: "Validate a profile and what it extends; exit 0 or print the first error.")

        @Argument(help: "A profile name or path.") var profile: String

        func run() throws {
            let store = ProfileCommand.store()
            let (document, layer) = try store.load(profile)
            let merged = try ProfileMerger.merge(document, layer: layer, store: store)
            try ProfileCommand.checkSeccompEntries(merged)
            try ProfileCommand.checkNetworkEntries(merged)
            print("\(document.source): ok (\(merged.chain.joined(separator: " -> ")))")
        }
    }

    /// Syscall names and conditions are checked here too (they need libseccomp, which the
    /// Profiles module does not link), so that check finds what run would refuse.
    static func checkSeccompEntries(_ merged: MergedProfile) throws {
        for key in ["seccomp.allow", "seccomp.deny"] {
            guard case let .list(items)? = merged.settings[key] else { continue }
            for item in items {
                guard case let .string(text) = item.value, !text.hasPrefix("!") else { continue }
                do {
                    _ = try SeccompProfileRules.parse(text, deny: key == "seccomp.deny", reason: key)
                } catch {
                    throw ProfileError(item.origin, keyPath: key, "'\(text)': \(error.message)")
                }
            }
        }
    }

    /// Egress entries, with the proxy's own parser.
    static func checkNetworkEntries(_ merged: MergedProfile) throws {
        if case let .list(ports)? = merged.settings["network.ports"] {
            for item in ports {
                if case let .integer(value) = item.value, !(1...65535).contains(value) {
                    throw ProfileError(item.origin, keyPath: "network.ports", "\(value) is not a port (1-65535)")
                }
            }
        }
        if case let .map(hosts)? = merged.settings["network.hosts"] {
            for (name, value) in hosts {
                do {
                    _ = try EgressSetup.hostEntry(name: name, addresses: value.value)
                } catch let error as SandboxError {
                    throw ProfileError(value.origin, keyPath: "network.hosts.\(name)", error.description)
                }
            }
        }
        for key in ["network.allow", "network.deny"] {
            guard case let .list(items)? = merged.settings[key] else { continue }
            for item in items {
                // Entries with variables are checked once expanded, when a run starts.
                guard case let .string(text) = item.value, !text.hasPrefix("!"), text.firstRange(of: "${") == nil else { continue }
                do {
                    _ = try EgressRules(allow: [text], deny: [])
                } catch {
                    throw ProfileError(item.origin, keyPath: key, "'\(text)': \(error.message)")
                }
            }
        }
    }

    struct Keys: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "keys", abstract: "Every key a profile may contain.")

        func run() throws {
            let width = ProfileSchema.keys.map(\.path.count).max() ?? 0
            for key in ProfileSchema.keys { print(key.path.padding(width) + "  " + key.summary) }
        }
    }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
