#if canImport(Glibc)
import Glibc
#endif

/// Where profiles come from, in order of precedence: the user's directory
/// ($XDG_CONFIG_HOME/sbx/profiles), the system's (/etc/sbx/profiles), then the built-ins
/// compiled into sbx (their sources are profiles/*.toml). A reference containing '/' or ending
/// in .toml is a file path instead.
public struct ProfileStore: Sendable {
    public enum Layer: Int, Comparable, Sendable {
        case user, system, builtin
        public static func < (a: Layer, b: Layer) -> Bool { a.rawValue < b.rawValue }
    }

    public let userDirectory: String
    public let systemDirectory: String
    public let builtins: [String: String]

    public init(userDirectory: String, systemDirectory: String = "/etc/sbx/profiles",
                builtins: [String: String] = BuiltinProfiles.all) {
        self.userDirectory = userDirectory
        self.systemDirectory = systemDirectory
        self.builtins = builtins
    }

    public static func isPath(_ reference: String) -> Bool {
        reference.contains(where: { $0 == "/" }) || reference.hasSuffix(".toml")
    }

    /// Loads `reference`. A name is looked up from `layer` downwards: a user profile that
    /// extends its own name (say, "default") gets the system or built-in one, not itself.
    public func load(_ reference: String, relativeTo directory: String? = nil,
                     from layer: Layer = .user) throws -> (ProfileDocument, Layer?) {
        if Self.isPath(reference) {
            let base = directory ?? currentDirectory()
            let path = reference.hasPrefix("/") ? reference : normalize(base + "/" + reference)
            return (try ProfileParser.parse(try readTextFile(path), source: path, name: reference), nil)
        }
        guard isValidName(reference) else {
            throw ProfileError(Origin(source: reference), keyPath: nil,
                               "not a profile name (letters, digits, '-', '_') nor a path (containing '/' or ending in .toml)")
        }
        for (candidate, directoryPath) in [(Layer.user, userDirectory), (.system, systemDirectory)] where candidate >= layer {
            let path = "\(directoryPath)/\(reference).toml"
            if access(path, F_OK) == 0 {
                return (try ProfileParser.parse(try readTextFile(path), source: path, name: reference), candidate)
            }
        }
        if let text = builtins[reference] {
            return (try ProfileParser.parse(text, source: "built-in:\(reference)", name: reference), .builtin)
        }
        let known = listNames().joined(separator: ", ")
        throw ProfileError(Origin(source: reference), keyPath: nil, "no such profile (known: \(known))")
    }

    /// Every profile name visible, each once, with the layer that wins.
    public func list() -> [(name: String, layer: Layer, source: String)] {
        var seen: [String: (Layer, String)] = [:]
        for name in builtins.keys { seen[name] = (.builtin, "built-in:\(name)") }
        for (layer, directory) in [(Layer.system, systemDirectory), (.user, userDirectory)] {
            for file in listDirectory(directory) where file.hasSuffix(".toml") {
                let name = String(file.dropLast(5))
                if isValidName(name) { seen[name] = (layer, "\(directory)/\(file)") }
            }
        }
        return seen.keys.sorted().map { ($0, seen[$0]!.0, seen[$0]!.1) }
    }

    func listNames() -> [String] { list().map(\.name) }

    private func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
    }
}

/// Reads a whole text file, with an error that names it.
func readTextFile(_ path: String) throws -> String {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else {
        throw ProfileError(Origin(source: path), keyPath: nil, "cannot read: \(String(cString: strerror(errno)))")
    }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        guard n >= 0 else { throw ProfileError(Origin(source: path), keyPath: nil, "cannot read: \(String(cString: strerror(errno)))") }
        if n == 0 { break }
        bytes += buffer[0..<n]
        guard bytes.count <= 1 << 20 else { throw ProfileError(Origin(source: path), keyPath: nil, "larger than 1 MiB: not a profile") }
    }
    return String(decoding: bytes, as: UTF8.self)
}

func currentDirectory() -> String {
    guard let pointer = getcwd(nil, 0) else { return "/" }
    defer { free(pointer) }
    return String(cString: pointer)
}

func listDirectory(_ path: String) -> [String] {
    guard let dir = opendir(path) else { return [] }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
}
