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
    /// `followLink`: false for a path a sandboxed command could have made a symlink (the project's file).
    public func load(_ reference: String, relativeTo directory: String? = nil,
                     from layer: Layer = .user, followLink: Bool = true) throws -> (ProfileDocument, Layer?) {
        if Self.isPath(reference) {
            let base = directory ?? currentDirectory()
            let path = reference.hasPrefix("/") ? reference : normalize(base + "/" + reference)
            return (try ProfileParser.parse(try readTextFile(path, followLink: followLink), source: path, name: reference), nil)
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

/// Reads a whole text file, with an error that names it. Only a regular file is read: a FIFO
/// (a sandboxed command can `mkfifo .sbx.toml`) would block every later run forever, a device
/// never end. O_NONBLOCK keeps open() itself from waiting for a FIFO's writer.
/// `followLink`: false for a file anyone in the sandbox could replace by a symlink.
func readTextFile(_ path: String, followLink: Bool = true) throws -> String {
    let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | (followLink ? 0 : O_NOFOLLOW))
    guard fd >= 0 else {
        let reason = errno == ELOOP && !followLink ? "a symbolic link, not read (make it a regular file)"
                                                   : String(cString: strerror(errno))
        throw ProfileError(Origin(source: path), keyPath: nil, "cannot read: \(reason)")
    }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
        throw ProfileError(Origin(source: path), keyPath: nil, "not a regular file (\(fileTypeName(info.st_mode))): not read as a profile")
    }
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

/// What a file that is not a regular file is, for an error message.
private func fileTypeName(_ mode: mode_t) -> String {
    switch mode & S_IFMT {
    case S_IFIFO: return "a FIFO"
    case S_IFDIR: return "a directory"
    case S_IFCHR: return "a character device"
    case S_IFBLK: return "a block device"
    case S_IFSOCK: return "a socket"
    default: return "not a regular file"
    }
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
