import Glibc

/// Hosts of the package indexes a toolchain is configured to use, read from the tool's own
/// configuration, so that no registry host is written into a profile.
///
/// For each setting the order is the tools' own: the environment beats the configuration
/// files, and the tool is asked only when neither names the setting (starting an interpreter
/// costs tens of milliseconds). The files are read together rather than emulating every tool's
/// override order: a host too many is a host the user configured, a host too few breaks installs.
public enum ToolIndexHosts {
    public static let tools = ["pip-index", "npm-registry", "cargo-registry", "go-proxy"]

    /// Returns the hosts (lowercased, no scheme/path, with the port when the URL names one, as
    /// network.allow takes them; deduplicated, in discovery order) for `tool`;
    /// an empty array when nothing is configured and the tool cannot be asked.
    public static func resolve(_ tool: String, environment: [String: String], home: String,
                               project: String, runner: CommandRunner = .system) -> [String] {
        resolve(tool, environment: environment, home: home, project: project, runner: runner, systemRoot: "")
    }

    /// `systemRoot` is prepended to system-wide paths (/etc/pip.conf), so that tests need not
    /// read the machine's own.
    static func resolve(_ tool: String, environment: [String: String], home: String, project: String,
                        runner: CommandRunner, systemRoot: String) -> [String] {
        let lookup = Lookup(environment: environment, home: home, project: project,
                            runner: runner.inheriting(environment), systemRoot: systemRoot)
        let hosts: [String]
        switch tool {
        case "pip-index": hosts = pipIndexHosts(lookup)
        case "npm-registry": hosts = npmRegistryHosts(lookup)
        case "cargo-registry": hosts = cargoRegistryHosts(lookup)
        case "go-proxy": hosts = goProxyHosts(lookup)
        default: hosts = []
        }
        var seen = Set<String>()
        return hosts.filter { seen.insert($0).inserted }
    }

    /// What one resolution may consult.
    private struct Lookup {
        let environment: [String: String]
        let home: String
        let project: String
        let runner: CommandRunner
        let systemRoot: String

        /// A variable's value; nil when unset or empty, which the tools treat alike.
        func variable(_ name: String) -> String? {
            environment[name].flatMap { $0.isEmpty ? nil : $0 }
        }

        /// The directory a variable names when it is absolute, else `fallback`: a relative one is
        /// ignored, as XDG asks and as Variables does.
        func directory(_ name: String, fallback: String) -> String {
            variable(name).flatMap { $0.hasPrefix("/") ? $0 : nil } ?? fallback
        }

        /// The non-empty lines a helper printed; none when it could not run.
        func ask(_ command: [String]) -> [Substring] {
            guard let output = runner.run(command) else { return [] }
            return Text.lines(output).map(Text.trimmed).filter { !$0.isEmpty }
        }
    }
}

// MARK: - pip

extension ToolIndexHosts {
    /// Asks the installed pip for its built-in index: the host of the index and the host the
    /// index sends downloads to.
    static let pipDefaultIndexQuery = [
        "python3", "-c",
        "from pip._internal.models.index import PyPI; print(PyPI.netloc); print(PyPI.file_storage_domain)",
    ]

    /// PIP_INDEX_URL replaces every file's index-url and PIP_EXTRA_INDEX_URL every file's
    /// extra-index-url, as in pip. pip is asked for its default only when no index-url is set
    /// anywhere: extra indexes add to the default one, they do not replace it.
    private static func pipIndexHosts(_ lookup: Lookup) -> [String] {
        let entries = pipConfigFiles(lookup).compactMap(ConfigFile.read).flatMap(iniEntries)
        func urls(variable: String, key: String) -> [Substring] {
            if let value = lookup.variable(variable) { return Text.words(value[...]) }
            return entries.filter { $0.key == key }.flatMap { Text.words($0.value[...]) }
        }
        // Only URLs: a value can also be a local directory, or carry a stray comment.
        let indexHosts = urls(variable: "PIP_INDEX_URL", key: "index-url").filter(hasScheme).compactMap(allowEntry(of:))
        let extraHosts = urls(variable: "PIP_EXTRA_INDEX_URL", key: "extra-index-url").filter(hasScheme).compactMap(allowEntry(of:))
        let defaultHosts = indexHosts.isEmpty ? lookup.ask(pipDefaultIndexQuery).compactMap(allowEntry(of:)) : []
        return indexHosts + defaultHosts + extraHosts
    }

    /// The files pip reads, in the order it finds them (a virtualenv's last).
    private static func pipConfigFiles(_ lookup: Lookup) -> [String] {
        var files: [String] = []
        if let file = lookup.variable("PIP_CONFIG_FILE") { files.append(file) }
        files.append(lookup.systemRoot + "/etc/pip.conf")
        files.append(lookup.directory("XDG_CONFIG_HOME", fallback: lookup.home + "/.config") + "/pip/pip.conf")
        files.append(lookup.home + "/.pip/pip.conf")
        if let virtualenv = lookup.variable("VIRTUAL_ENV") { files.append(virtualenv + "/pip.conf") }
        return files
    }

    /// The `key = value` (or `key: value`) entries of an INI file, in any section, with keys
    /// lowercased and `_` read as `-` (pip accepts both spellings). An indented line continues
    /// the value above it, as in Python's configparser.
    private static func iniEntries(_ text: String) -> [(key: String, value: String)] {
        var entries: [(key: String, value: String)] = []
        var continuing = false
        for line in Text.lines(text) {
            let content = Text.trimmed(line)
            if content.isEmpty || content.hasPrefix("#") || content.hasPrefix(";") { continue }
            if continuing, let first = line.first, first == " " || first == "\t" {
                entries[entries.count - 1].value += "\n" + content
                continue
            }
            continuing = false
            guard !content.hasPrefix("["),
                  let separator = content.firstIndex(where: { $0 == "=" || $0 == ":" }) else { continue }
            let key = Text.trimmed(content[..<separator]).lowercased().map { $0 == "_" ? "-" : $0 }
            let value = Text.trimmed(content[content.index(after: separator)...])
            entries.append((String(key), String(value)))
            continuing = true
        }
        return entries
    }
}

// MARK: - npm

extension ToolIndexHosts {
    static let npmRegistryQuery = ["npm", "config", "get", "registry"]

    /// The default registry comes from the environment, else the .npmrc files, else npm itself;
    /// `@scope:registry` lines add the registries of scoped packages whatever the default is.
    private static func npmRegistryHosts(_ lookup: Lookup) -> [String] {
        let settings = [lookup.project + "/.npmrc", lookup.home + "/.npmrc"].compactMap(ConfigFile.read)
            .flatMap { npmrcRegistries($0, environment: lookup.environment) }
        let environmentDefaults = ["npm_config_registry", "NPM_CONFIG_REGISTRY"].compactMap(lookup.variable)
        let defaults = environmentDefaults.isEmpty ? settings.filter { !$0.scoped }.map(\.url) : environmentDefaults
        var hosts = defaults.filter(hasScheme).compactMap(allowEntry(of:))
        if hosts.isEmpty { hosts = lookup.ask(npmRegistryQuery).compactMap(allowEntry(of:)) }
        return hosts + settings.filter(\.scoped).map(\.url).filter(hasScheme).compactMap(allowEntry(of:))
    }

    /// The `registry=` and `@scope:registry=` settings of an .npmrc, values unquoted or cut at an
    /// inline comment, and `${NAME}` expanded from the environment as npm does.
    private static func npmrcRegistries(_ text: String, environment: [String: String]) -> [(scoped: Bool, url: String)] {
        var registries: [(scoped: Bool, url: String)] = []
        for line in Text.lines(text) {
            let content = Text.trimmed(line)
            guard !content.hasPrefix("#"), !content.hasPrefix(";"),
                  let equals = content.firstIndex(of: "=") else { continue }
            let key = Text.trimmed(content[..<equals])
            let scoped = key.hasPrefix("@") && key.hasSuffix(":registry")
            guard key == "registry" || scoped else { continue }
            let value = npmrcValue(Text.trimmed(content[content.index(after: equals)...]))
            registries.append((scoped, expandingNpmVariables(value, environment: environment)))
        }
        return registries
    }

    /// A value as npm's ini reader returns it: the inside of quotes, else up to a `;` or `#`.
    private static func npmrcValue(_ raw: Substring) -> String {
        if let quote = raw.first, quote == "\"" || quote == "'", raw.count >= 2, raw.last == quote {
            return String(raw.dropFirst().dropLast())
        }
        return String(Text.trimmed(raw.prefix { $0 != ";" && $0 != "#" }))
    }

    /// `${NAME}` becomes the variable's value (left as is when unset), `${NAME?}` its value or nothing.
    private static func expandingNpmVariables(_ value: String, environment: [String: String]) -> String {
        var result = ""
        var rest = value[...]
        while let start = rest.firstRange(of: "${"), let end = rest[start.upperBound...].firstIndex(of: "}") {
            result += rest[..<start.lowerBound]
            var name = rest[start.upperBound..<end]
            let optional = name.hasSuffix("?")
            if optional { name = name.dropLast() }
            result += environment[String(name)] ?? (optional ? "" : String(rest[start.lowerBound...end]))
            rest = rest[rest.index(after: end)...]
        }
        return result + rest
    }
}

// MARK: - cargo

extension ToolIndexHosts {
    /// Registries named in the environment and in cargo's config files (the environment wins
    /// for the same registry name), then those cargo has already fetched from.
    private static func cargoRegistryHosts(_ lookup: Lookup) -> [String] {
        let cargoHome = lookup.directory("CARGO_HOME", fallback: lookup.home + "/.cargo")
        let fromEnvironment = cargoEnvironmentIndexes(lookup.environment)
        let overridden = Set(fromEnvironment.map(\.variableName))
        let files = [lookup.project + "/.cargo/config.toml", lookup.project + "/.cargo/config",
                     cargoHome + "/config.toml", cargoHome + "/config"]
        let fromFiles = files.compactMap(ConfigFile.read).flatMap(cargoConfigIndexes).filter { entry in
            entry.registry.map { !overridden.contains(cargoVariableName($0)) } ?? true
        }
        let configured = (fromEnvironment.map(\.url) + fromFiles.map(\.url)).compactMap(allowEntry(of:))
        return configured + cargoUsedRegistryHosts(cargoHome: cargoHome)
    }

    /// CARGO_REGISTRIES_<NAME>_INDEX values, in name order so that results are stable.
    private static func cargoEnvironmentIndexes(_ environment: [String: String]) -> [(variableName: String, url: String)] {
        let prefix = "CARGO_REGISTRIES_", suffix = "_INDEX"
        return environment.keys.sorted().compactMap { key in
            guard key.hasPrefix(prefix), key.hasSuffix(suffix), key.count > prefix.count + suffix.count,
                  let url = environment[key], !url.isEmpty else { return nil }
            return (String(key.dropFirst(prefix.count).dropLast(suffix.count)), url)
        }
    }

    /// The <NAME> cargo reads a registry's environment variables under: `my-registry` is MY_REGISTRY.
    private static func cargoVariableName(_ registry: String) -> String {
        String(registry.uppercased().map { $0 == "-" ? "_" : $0 })
    }

    /// `index` of `[registries.NAME]` and `registry` of `[source.NAME]`, found by a line scan that
    /// knows table headers, dotted keys and one-line inline tables (`NAME = { index = "..." }`,
    /// as cargo's documentation writes registries): enough for cargo's flat config files.
    private static func cargoConfigIndexes(_ text: String) -> [(registry: String?, url: String)] {
        var found: [(registry: String?, url: String)] = []
        var table: [String] = []
        for line in Text.lines(text) {
            let content = Text.trimmed(line)
            if content.hasPrefix("#") { continue }
            if content.hasPrefix("[[") {
                table = ["[["]  // an array of tables: nothing cargo keeps registries in
                continue
            }
            if content.hasPrefix("[") {
                table = TOMLLine.keyPath(TOMLLine.split(content.dropFirst(), on: "]", maxSplits: 1)[0])
                continue
            }
            for entry in TOMLLine.stringEntries(content) {
                let path = table + entry.path
                guard path.count == 3 else { continue }
                if path[0] == "registries" && path[2] == "index" { found.append((path[1], entry.value)) }
                if path[0] == "source" && path[2] == "registry" { found.append((nil, entry.value)) }
            }
        }
        return found
    }

    /// Registries cargo has fetched from: each directory $CARGO_HOME/registry/index/HOST-HASH,
    /// and the download and API hosts that the index's config.json names.
    private static func cargoUsedRegistryHosts(cargoHome: String) -> [String] {
        let indexes = cargoHome + "/registry/index"
        var hosts: [String] = []
        for name in ConfigFile.directoryEntries(indexes) {
            guard let host = cargoIndexDirectoryHost(name) else { continue }
            hosts.append(host)
            if let config = ConfigFile.read("\(indexes)/\(name)/config.json") {
                hosts += ["dl", "api"].compactMap { jsonString($0, in: config) }.compactMap(allowEntry(of:))
            }
        }
        return hosts
    }

    /// HOST from a directory name HOST-HASH, HASH being 16 hex digits; nil for any other name.
    private static func cargoIndexDirectoryHost(_ name: String) -> String? {
        let hash = name.suffix(16)
        guard name.count > 17, hash.allSatisfy(\.isHexDigit), name.dropLast(16).last == "-" else { return nil }
        return host(of: name.dropLast(17))
    }

    /// The first string value of `"key"` in a JSON text: a scan, not a parser, enough for the
    /// flat object of an index's config.json.
    private static func jsonString(_ key: String, in json: String) -> String? {
        var rest = json[...]
        while let match = rest.firstRange(of: "\"\(key)\"") {
            rest = rest[match.upperBound...].drop(while: \.isWhitespace)
            guard rest.first == ":" else { continue }
            rest = rest.dropFirst().drop(while: \.isWhitespace)
            guard rest.first == "\"" else { continue }
            return TOMLLine.basicString(rest)
        }
        return nil
    }
}

// MARK: - Go

extension ToolIndexHosts {
    static let goProxyQuery = ["go", "env", "GOPROXY"]

    /// GOPROXY from the environment, else as `go env` reports it (which covers the go env file
    /// and the default); plus the checksum database's host when GOSUMDB names one.
    private static func goProxyHosts(_ lookup: Lookup) -> [String] {
        let proxies = lookup.variable("GOPROXY").map { [$0[...]] } ?? lookup.ask(goProxyQuery)
        let entries = proxies.flatMap { $0.split(whereSeparator: { $0 == "," || $0 == "|" }) }.map(Text.trimmed)
        var hosts = entries.filter { $0 != "direct" && $0 != "off" }.compactMap(allowEntry(of:))
        if let sumDB = lookup.variable("GOSUMDB"), let host = goSumDBHost(sumDB) { hosts.append(host) }
        return hosts
    }

    /// GOSUMDB is `off`, `name`, `name+key` or `name+key url`: the URL's host when there is one,
    /// else the name when it looks like a host name (has a dot).
    static func goSumDBHost(_ value: String) -> String? {
        let fields = Text.words(value[...])
        guard let first = fields.first, first != "off" else { return nil }
        if fields.count > 1 { return host(of: fields[1]) }
        let name = first.prefix { $0 != "+" }
        return name.contains(where: { $0 == "." }) ? host(of: name) : nil
    }
}

// MARK: - URLs

extension ToolIndexHosts {
    /// The host of a URL or of a bare `host[:port][/path]`: no scheme (cargo's `sparse+`,
    /// `registry+` and `git+` prefixes are part of it), user info, port, path, query or fragment;
    /// lowercased and without a trailing dot; the address inside an IPv6 literal's brackets.
    /// Nil when there is no plausible host, e.g. a file: URL or a stray word with a '#'.
    static func host<S: StringProtocol>(of url: S) -> String? {
        guard let hostAndPort = hostAndPort(of: url) else { return nil }
        return hostAndPort.hasPrefix("[") ? ipv6Address(hostAndPort) : hostName(hostAndPort)
    }

    /// What a `network.allow` entry needs from a URL: its host, and its port when the URL names
    /// one (a private registry on :4873 is reached there, not on 80 or 443).
    static func allowEntry<S: StringProtocol>(of url: S) -> String? {
        guard let host = host(of: url), let hostAndPort = hostAndPort(of: url) else { return nil }
        let afterHost = hostAndPort.hasPrefix("[") ? hostAndPort.drop { $0 != "]" }.dropFirst() : hostAndPort.drop { $0 != ":" }
        guard afterHost.hasPrefix(":"), let port = Int(afterHost.dropFirst()), (1...65535).contains(port) else { return host }
        return (host.contains(where: { $0 == ":" }) ? "[\(host)]" : host) + ":\(port)"
    }

    /// `host[:port]` of a URL: without scheme, user info, path, query or fragment.
    private static func hostAndPort<S: StringProtocol>(of url: S) -> Substring? {
        guard let rest = droppingScheme(Text.trimmed(Substring(url))) else { return nil }
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        return authority.lastIndex(of: "@").map { authority[authority.index(after: $0)...] } ?? authority
    }

    /// What follows `scheme://`, or all of `url` when it has no scheme; nil for a file: URL,
    /// which names no network host, and for a scheme that is not one.
    private static func droppingScheme(_ url: Substring) -> Substring? {
        guard let separator = url.firstRange(of: "://") else { return url }
        let scheme = url[..<separator.lowerBound].lowercased()
        let isScheme = !scheme.isEmpty && scheme.allSatisfy { character in
            character.isASCII && (character.isLetter || character.isNumber || "+-.".contains(character))
        }
        guard isScheme, scheme != "file", !scheme.hasSuffix("+file") else { return nil }
        return url[separator.upperBound...]
    }

    /// The address in `[address]` or `[address]:port`.
    private static func ipv6Address(_ bracketed: Substring) -> String? {
        let address = bracketed.dropFirst().prefix { $0 != "]" }
        guard bracketed.dropFirst(address.count + 1).first == "]", address.contains(where: { $0 == ":" }),
              address.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return nil }
        return address.lowercased()
    }

    /// The name in `name` or `name:port`, without a trailing dot.
    private static func hostName(_ hostAndPort: Substring) -> String? {
        var name = hostAndPort.prefix { $0 != ":" }
        if name.hasSuffix(".") { name = name.dropLast() }
        return isHostName(name) ? name.lowercased() : nil
    }

    /// Letters, digits, '-', '_' and '.' in non-empty labels: what can go into a profile's host list.
    private static func isHostName(_ name: Substring) -> Bool {
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        return !name.isEmpty && name.utf8.count <= 253 && labels.allSatisfy { label in
            !label.isEmpty && label.first != "-"
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
        }
    }

    private static func hasScheme<S: StringProtocol>(_ value: S) -> Bool {
        Substring(value).firstRange(of: "://") != nil
    }
}

// MARK: - Reading text

extension ToolIndexHosts {
    /// Line and word splitting without Foundation, whose String methods this target must not call.
    private enum Text {
        static func lines(_ text: String) -> [Substring] {
            text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        }

        static func words(_ text: Substring) -> [Substring] {
            text.split(whereSeparator: \.isWhitespace)
        }

        static func trimmed(_ text: Substring) -> Substring {
            guard let first = text.firstIndex(where: { !$0.isWhitespace }),
                  let last = text.lastIndex(where: { !$0.isWhitespace }) else { return text[text.endIndex...] }
            return text[first...last]
        }
    }

    /// Just enough TOML for one line of a cargo config: quoted strings, dotted keys, inline tables.
    private enum TOMLLine {
        /// Splits at `separator` except inside "..." or '...' strings.
        static func split(_ text: Substring, on separator: Character, maxSplits: Int = .max) -> [Substring] {
            var parts: [Substring] = []
            var start = text.startIndex, index = text.startIndex
            var quote: Character?
            while index < text.endIndex {
                let character = text[index]
                if let open = quote {
                    if character == open {
                        quote = nil
                    } else if character == "\\" && open == "\"" && text.index(after: index) < text.endIndex {
                        index = text.index(after: index)
                    }
                } else if character == "\"" || character == "'" {
                    quote = character
                } else if character == separator && parts.count < maxSplits {
                    parts.append(text[start..<index])
                    start = text.index(after: index)
                }
                index = text.index(after: index)
            }
            return parts + [text[start...]]
        }

        /// `a."b.c".d` as ["a", "b.c", "d"].
        static func keyPath(_ key: Substring) -> [String] {
            split(key, on: ".").map { part in
                let part = Text.trimmed(part)
                if let quote = part.first, quote == "\"" || quote == "'", part.count >= 2, part.last == quote {
                    return String(part.dropFirst().dropLast())
                }
                return String(part)
            }
        }

        /// The string values a line assigns, with their key paths; inline tables are entered.
        static func stringEntries(_ line: Substring) -> [(path: [String], value: String)] {
            let halves = split(line, on: "=", maxSplits: 1)
            guard halves.count == 2 else { return [] }
            let path = keyPath(halves[0])
            let value = Text.trimmed(halves[1])
            if value.hasPrefix("{") {
                let body = value.dropFirst()
                return split(body[..<(body.lastIndex(of: "}") ?? body.endIndex)], on: ",").flatMap { pair in
                    stringEntries(pair).map { (path + $0.path, $0.value) }
                }
            }
            if value.hasPrefix("'") { return [(path, String(value.dropFirst().prefix { $0 != "'" }))] }
            return value.hasPrefix("\"") ? basicString(value).map { [(path, $0)] } ?? [] : []
        }

        /// The contents of a "..." string (TOML's or JSON's) starting `text`, with backslash
        /// escapes reduced to the escaped character (`\/` is '/'); nil when it does not end.
        static func basicString(_ text: Substring) -> String? {
            var result = ""
            var escaped = false
            for character in text.dropFirst() {
                if escaped {
                    result.append(character)
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == "\"" {
                    return result
                } else {
                    result.append(character)
                }
            }
            return nil
        }
    }

    /// Small configuration files and directories, read with plain system calls.
    enum ConfigFile {
        /// The text of a regular file up to 1 MiB; nil otherwise. O_NONBLOCK so that a FIFO named
        /// by a variable cannot hang the lookup; fstat then refuses it.
        static func read(_ path: String) -> String? {
            let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
            guard fd >= 0 else { return nil }
            defer { close(fd) }
            var status = stat()
            guard fstat(fd, &status) == 0, status.st_mode & mode_t(S_IFMT) == mode_t(S_IFREG) else { return nil }
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 16384)
            while true {
                let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count >= 0, bytes.count + count <= 1 << 20 else { return nil }
                if count == 0 { return String(decoding: bytes, as: UTF8.self) }
                bytes += buffer[0..<count]
            }
        }

        /// The names in a directory, sorted; none when it cannot be read.
        static func directoryEntries(_ path: String) -> [String] {
            guard let directory = opendir(path) else { return [] }
            defer { closedir(directory) }
            var names: [String] = []
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) {
                    String(cString: $0.bindMemory(to: CChar.self).baseAddress!)
                }
                if name != "." && name != ".." { names.append(name) }
            }
            return names.sorted()
        }
    }
}

// MARK: - Running helpers

/// Runs a helper command and returns its stdout (nil if it cannot run or exits non-zero within 5 s).
public struct CommandRunner: Sendable {
    public let run: @Sendable ([String]) -> String?
    /// True only for `system`, which `ToolIndexHosts.resolve` rebinds to the environment it is
    /// given, so that the helper is found on, and runs with, that environment's PATH.
    let inheritsEnvironment: Bool

    public init(run: @escaping @Sendable ([String]) -> String?) {
        self.init(run: run, inheritsEnvironment: false)
    }

    private init(run: @escaping @Sendable ([String]) -> String?, inheritsEnvironment: Bool) {
        self.run = run
        self.inheritsEnvironment = inheritsEnvironment
    }

    /// Helpers run with this process's environment (or, through `resolve`, the one it is given).
    public static let system = CommandRunner(run: { HelperProcess.output(of: $0, environment: nil, timeoutMilliseconds: 5000) },
                                             inheritsEnvironment: true)

    /// Helpers found on `environment`'s PATH and run with exactly `environment`.
    static func system(environment: [String: String], timeoutMilliseconds: Int32 = 5000) -> CommandRunner {
        CommandRunner(run: { HelperProcess.output(of: $0, environment: environment, timeoutMilliseconds: timeoutMilliseconds) },
                      inheritsEnvironment: false)
    }

    func inheriting(_ environment: [String: String]) -> CommandRunner {
        inheritsEnvironment ? .system(environment: environment) : self
    }
}

/// posix_spawn, a pipe and poll: no Foundation and no Dispatch, whose threads and locks would not
/// survive the fork that sbx makes later.
enum HelperProcess {
    /// The helper's stdout when it exits with status 0 in time; stdin and stderr are /dev/null.
    /// `environment` nil means this process's own.
    static func output(of arguments: [String], environment: [String: String]?, timeoutMilliseconds: Int32) -> String? {
        guard let program = arguments.first, !program.isEmpty,
              let executable = executablePath(program, environment: environment) else { return nil }
        var pipeEnds: [Int32] = [-1, -1]
        guard pipe(&pipeEnds) == 0 else { return nil }
        // Neither end may leak into other children; the helper gets the write end as fd 1.
        pipeEnds.forEach { _ = fcntl($0, F_SETFD, FD_CLOEXEC) }
        let pid = spawn(executable, arguments: arguments, environment: environment, stdout: pipeEnds[1])
        close(pipeEnds[1])
        defer { close(pipeEnds[0]) }
        guard let pid else { return nil }
        let deadline = monotonicMilliseconds() + Int64(timeoutMilliseconds)
        let output = readAll(pipeEnds[0], until: deadline)
        if output == nil { killGroup(pid) }  // also whatever it left holding the pipe
        let succeeded = waitForSuccess(pid, until: deadline)
        return succeeded ? output.map { String(decoding: $0, as: UTF8.self) } : nil
    }

    /// Where posix_spawnp would find `program`, but searching the PATH of the helper's own
    /// environment rather than this process's. A name with a '/' is taken as it is.
    static func executablePath(_ program: String, environment: [String: String]?) -> String? {
        guard let environment else { return program }
        if program.contains(where: { $0 == "/" }) { return program }
        let searchPath = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in searchPath.split(separator: ":") where directory.hasPrefix("/") {
            let candidate = "\(directory)/\(program)"
            var status = stat()
            if stat(candidate, &status) == 0, status.st_mode & mode_t(S_IFMT) == mode_t(S_IFREG), access(candidate, X_OK) == 0 {
                return candidate
            }
        }
        return nil
    }

    /// Starts the helper in its own process group (so that a timeout kills its children too),
    /// with default signal handling and an empty signal mask whatever this process has.
    private static func spawn(_ executable: String, arguments: [String], environment: [String: String]?,
                              stdout: Int32) -> pid_t? {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var mask = sigset_t(), defaults = sigset_t()
        sigemptyset(&mask)
        sigfillset(&defaults)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer {
            argv.forEach { free($0) }
            envp?.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = envp.map { posix_spawnp(&pid, executable, &actions, &attributes, argv, $0) }
            ?? posix_spawnp(&pid, executable, &actions, &attributes, argv, environ)
        return result == 0 ? pid : nil
    }

    /// Everything written to `fd` until end of file; nil past the deadline or beyond 1 MiB.
    private static func readAll(_ fd: Int32, until deadline: Int64) -> [UInt8]? {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let remaining = deadline - monotonicMilliseconds()
            guard remaining > 0 else { return nil }
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(remaining))
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { return nil }
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            guard count >= 0, bytes.count + count <= 1 << 20 else { return nil }
            if count == 0 { return bytes }
            bytes += buffer[0..<count]
        }
    }

    /// Reaps the helper, killing its process group if it is still running at the deadline;
    /// true when it exited with status 0.
    private static func waitForSuccess(_ pid: pid_t, until deadline: Int64) -> Bool {
        var status: Int32 = 0
        while true {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid { return status & 0x7f == 0 && (status >> 8) & 0xff == 0 }
            if reaped < 0 && errno != EINTR { return false }
            if monotonicMilliseconds() >= deadline { break }
            _ = poll(nil, 0, 5)
        }
        killGroup(pid)
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return false
    }

    /// Kills the helper and its process group; called before reaping, so the ids are still its own.
    private static func killGroup(_ pid: pid_t) {
        kill(-pid, SIGKILL)
        kill(pid, SIGKILL)
    }

    private static func monotonicMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
