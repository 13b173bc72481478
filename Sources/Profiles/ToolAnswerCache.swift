import Glibc

/// The answers of the tools `ToolIndexHosts` asks (npm's and pip's default index), kept for a
/// day in a directory of sbx's state: asking costs a few hundred milliseconds (npm starts a
/// Node.js, pip imports itself), at every run of the toolchain and agent profiles.
///
/// An answer is reused only for the same question: the same command, the same program file
/// (path, size, inode, modification time) and the same environment variables that tools read
/// for it. A configuration file the tool reads by itself, without ToolIndexHosts reading it
/// first, is the one thing a change of which can go unseen, for a day at most. The directory
/// is hidden inside every sandbox, so a sandboxed program cannot plant an answer.
extension CommandRunner {
    /// Runs helpers as `.system(environment:)` does, through the cache in `directory`.
    public static func cachedSystem(directory: String, environment: [String: String], maxAgeSeconds: Int = 86_400) -> CommandRunner {
        cached(.system(environment: environment), directory: directory, environment: environment, maxAgeSeconds: maxAgeSeconds)
    }

    static func cached(_ runner: CommandRunner, directory: String, environment: [String: String], maxAgeSeconds: Int) -> CommandRunner {
        CommandRunner { command in
            guard let key = ToolAnswerCache.key(command, environment: environment) else { return runner.run(command) }
            let path = directory + "/" + ToolAnswerCache.fileName(key)
            if let answer = ToolAnswerCache.read(path, key: key, maxAgeSeconds: maxAgeSeconds) { return answer }
            let answer = runner.run(command)
            if let answer { ToolAnswerCache.write(path, key: key, answer: answer, directory: directory) }
            return answer
        }
    }
}

enum ToolAnswerCache {
    /// Separates the key from the answer in a file.
    static let separator = "\n\u{1E}\n"

    /// The question, whole; nil when the program cannot be found (then nothing is cached).
    static func key(_ command: [String], environment: [String: String]) -> String? {
        guard let program = command.first,
              let executable = HelperProcess.executablePath(program, environment: environment) else { return nil }
        var info = stat()
        guard stat(executable, &info) == 0 else { return nil }
        let read = environment.filter { name, _ in
            ["PATH", "HOME", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PREFIX"].contains(name)
                || name.hasPrefix("npm_config_") || name.hasPrefix("NPM_CONFIG_") || name.hasPrefix("PIP_")
        }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        return (command + ["\(executable) \(info.st_size) \(info.st_ino) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"] + read)
            .joined(separator: "\u{1F}")
    }

    /// FNV-1a over the key: a name for the file, not a check (the key is stored and compared).
    static func fileName(_ key: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let digits = String(hash, radix: 16)
        return "tool-" + String(repeating: "0", count: 16 - digits.count) + digits
    }

    static func read(_ path: String, key: String, maxAgeSeconds: Int) -> String? {
        var info = stat()
        guard stat(path, &info) == 0, Int(time(nil)) - info.st_mtim.tv_sec <= maxAgeSeconds,
              let text = ToolIndexHosts.ConfigFile.read(path), let split = text.firstRange(of: separator),
              text[..<split.lowerBound] == key else { return nil }
        return String(text[split.upperBound...])
    }

    /// Written aside and renamed, so that a concurrent run reads a whole file or none.
    static func write(_ path: String, key: String, answer: String, directory: String) {
        if mkdir(directory, 0o700) != 0 && errno != EEXIST { return }
        let fresh = path + ".\(getpid())"
        let fd = open(fresh, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        let bytes = Array((key + separator + answer).utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            written += n
        }
        close(fd)
        if written == bytes.count { rename(fresh, path) } else { unlink(fresh) }
    }
}
