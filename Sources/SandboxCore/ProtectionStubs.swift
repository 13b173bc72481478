#if canImport(Glibc)
import Glibc
#endif

/// Placeholders that let a protected path which does not exist yet be protected: a mount
/// needs something to mount on, so sbx creates an empty file or directory on the host for the
/// run, mounts it read-only in the sandbox (nothing can be created there, and a mount point
/// cannot be removed or renamed), and removes it afterwards. Nothing is left behind: each
/// placeholder is written down in a journal (one file per run, in a directory the sandbox sees
/// read-only at most) before the run starts, removed when the run ends, and swept by the next
/// run of the same user when sbx was killed.
///
/// A placeholder is removed only while it is what sbx made (same inode, same content): if the
/// user wrote into it on the host meanwhile, it stays. Two runs in one project share a
/// placeholder: the second one adopts it into its own journal, and the last one to end removes it.
public final class ProtectionStubs {
    public struct Missing: Equatable, Sendable {
        public let path: String
        public let isDirectory: Bool

        public init(path: String, isDirectory: Bool) {
            self.path = path
            self.isDirectory = isDirectory
        }
    }

    private struct Entry: Hashable {
        let device: UInt64
        let inode: UInt64
        let path: String
    }

    private let directory: String
    private let journal: String
    private var entries: [Entry] = []
    private var journalFD: Int32 = -1

    /// Sweeps what runs that are gone left behind, then starts this run's journal in `directory`.
    public init(directory: String) throws {
        self.directory = directory
        self.journal = directory + "/\(getpid()).stubs"
        guard access(directory, F_OK) == 0 else { return }  // no run has made one yet
        try withLock {
            for (pid, entries) in Self.journals(in: directory) where !Self.isAlive(pid) {
                let stillHeld = Self.journals(in: directory).filter { $0.pid != pid && Self.isAlive($0.pid) }.flatMap(\.entries)
                for entry in entries where !stillHeld.contains(entry) { Self.removeIfUnchanged(entry) }
                unlink(directory + "/\(pid).stubs")
            }
        }
    }

    /// Creates a placeholder for each missing path (its parent must exist), and adopts each of
    /// `existing` that is another live run's placeholder. Returns the paths now held.
    public func hold(missing: [Missing], existing: [String]) throws -> [String] {
        if missing.isEmpty && access(directory, F_OK) != 0 { return [] }  // nothing to create or adopt
        do {
            try makeDirectories(directory, mode: 0o700)
        } catch let error as SandboxError {
            throw SandboxError(error.message + " (sbx keeps the journal of placeholders for missing protected paths there; set XDG_STATE_HOME to a writable directory)")
        }
        defer { if journalFD >= 0 { close(journalFD); journalFD = -1 } }
        return try withLock {
            let others = Set(Self.journals(in: directory).filter { Self.isAlive($0.pid) }.flatMap(\.entries))
            for path in existing {
                if let entry = Self.identity(of: path), others.contains(entry) { try record(entry) }
            }
            var held: [String] = []
            for stub in missing where !stub.path.contains(where: { $0 == "\n" }) {  // journals are lines
                let created = stub.isDirectory ? mkdir(stub.path, 0o755) : open(stub.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o644)
                if created < 0 {
                    // EEXIST: appeared meanwhile, protected on the next run. EACCES, EPERM,
                    // EROFS: the caller cannot create it, so neither can the sandbox.
                    if [EEXIST, EACCES, EPERM, EROFS].contains(errno) { continue }
                    throw SandboxError.system("create a placeholder for the protected path \(stub.path)", errno: errno)
                }
                if !stub.isDirectory {
                    let content = Self.placeholderContent(stub.path)
                    let written = content.withUnsafeBytes { write(created, $0.baseAddress, $0.count) }
                    close(created)
                    if written != content.count {
                        unlink(stub.path)
                        throw SandboxError.system("write the placeholder \(stub.path)", errno: errno)
                    }
                }
                guard let entry = Self.identity(of: stub.path) else {
                    throw SandboxError.system("read the placeholder \(stub.path)", errno: errno)
                }
                try record(entry)
                held.append(stub.path)
            }
            return held
        }
    }

    /// Removes this run's placeholders (those no other live run holds) and its journal.
    public func release() {
        guard !entries.isEmpty else { return }
        try? withLock {
            let others = Set(Self.journals(in: directory).filter { $0.pid != getpid() && Self.isAlive($0.pid) }.flatMap(\.entries))
            for entry in entries.reversed() where !others.contains(entry) { Self.removeIfUnchanged(entry) }
            unlink(journal)
        }
        entries = []
    }

    /// Appends the entry to the journal (opened once per `hold`), right after the placeholder
    /// was made: a kill in between leaves at most one placeholder unjournaled.
    private func record(_ entry: Entry) throws {
        guard !entries.contains(entry) else { return }
        entries.append(entry)
        if journalFD < 0 {
            journalFD = open(journal, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0o600)
            guard journalFD >= 0 else { throw SandboxError.system("write \(journal)", errno: errno) }
        }
        try writeFully(journalFD, Array("\(entry.device) \(entry.inode) \(entry.path)\n".utf8), what: journal)
    }

    /// Journals and placeholders change under an exclusive lock on the directory.
    private func withLock<T>(_ body: () throws -> T) throws -> T {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SandboxError.system("open \(directory)", errno: errno) }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw SandboxError.system("lock \(directory)", errno: errno) }
        }
        return try body()
    }

    private static func journals(in directory: String) -> [(pid: pid_t, entries: [Entry])] {
        (directoryNames(directory) ?? []).compactMap { name in
            guard name.hasSuffix(".stubs"), let pid = pid_t(name.dropLast(6)), pid > 0 else { return nil }
            return (pid, readJournal(directory + "/" + name))
        }
    }

    /// "DEVICE INODE PATH" lines; malformed ones are skipped.
    private static func readJournal(_ path: String) -> [Entry] {
        guard let file = fopen(path, "r") else { return [] }
        defer { fclose(file) }
        var entries: [Entry] = []
        var line: UnsafeMutablePointer<CChar>? = nil
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0, let line {
            let fields = String(cString: line).dropLast().split(separator: " ", maxSplits: 2)
            guard fields.count == 3, let device = UInt64(fields[0]), let inode = UInt64(fields[1]), fields[2].hasPrefix("/") else { continue }
            entries.append(Entry(device: device, inode: inode, path: String(fields[2])))
        }
        return entries
    }

    private static func identity(of path: String) -> Entry? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return Entry(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), path: path)
    }

    private static func removeIfUnchanged(_ entry: Entry) {
        var info = stat()
        guard lstat(entry.path, &info) == 0, UInt64(info.st_dev) == entry.device, UInt64(info.st_ino) == entry.inode else { return }
        switch info.st_mode & S_IFMT {
        case S_IFDIR: rmdir(entry.path)  // fails, as it should, if something is inside
        case S_IFREG where info.st_size == placeholderContent(entry.path).count:
            if contents(entry.path) == placeholderContent(entry.path) { unlink(entry.path) }
        default: break
        }
    }

    /// Empty, except JSON configuration files: "{}", which their readers (Claude Code's
    /// .mcp.json, opencode.json) take for "nothing configured" where an empty file is an error.
    static func placeholderContent(_ path: String) -> [UInt8] {
        path.hasSuffix(".json") || path.hasSuffix(".jsonc") ? Array("{}\n".utf8) : []
    }

    private static func contents(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 16)
        let n = read(fd, &buffer, buffer.count)
        return n >= 0 ? Array(buffer[0..<n]) : nil
    }

    private static func isAlive(_ pid: pid_t) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }

}

extension ProtectionStubs {
    /// Where a dangling symlink at `path` points (one level, made absolute and normalised);
    /// nil when `path` is not a symlink.
    public static func danglingTarget(of path: String) -> String? {
        guard let target = readLink(path) else { return nil }
        let parent = path[..<(path.lastIndex(of: "/") ?? path.startIndex)]
        let joined = target.hasPrefix("/") ? target : parent + "/" + target
        var parts: [Substring] = []
        for part in joined.split(separator: "/") where part != "." {
            if part == ".." { _ = parts.popLast() } else { parts.append(part) }
        }
        return "/" + parts.joined(separator: "/")
    }
}

extension FilesystemPolicy {
    /// The missing protected paths no placeholder can hold because their parent is missing
    /// too (`.git/hooks` before there is a `.git`), inside the writable roots: nothing stops
    /// the command from creating them, so a run says so when it did.
    public func unheld(_ paths: [ProtectionStubs.Missing], project: String) -> [String] {
        let roots = [project] + write
        return paths.map(\.path).filter { path in
            guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return false }
            var info = stat()
            return lstat(String(path[..<slash]), &info) != 0
                && roots.contains { isInside(path, $0) && path != $0 } && !hide.contains { isInside(path, $0) }
        }
    }

    /// Which of the missing protected `paths` (absolute, normalised) get a placeholder: those
    /// whose parent directory exists, inside the project or a writable path, and not inside a
    /// hidden one. The parent is resolved (symlinks followed) as the mounts will be. Missing
    /// parents are not created: sbx would then leave directories behind, or break `git init`.
    public func placeholders(for paths: [ProtectionStubs.Missing], project: String) -> [ProtectionStubs.Missing] {
        let roots = [project] + write
        return paths.compactMap { entry in
            guard let slash = entry.path.lastIndex(of: "/") else { return nil }
            let name = entry.path[entry.path.index(after: slash)...]
            let lexicalParent = slash == entry.path.startIndex ? "/" : String(entry.path[..<slash])
            // A parent the caller cannot write to needs no placeholder: the sandbox runs as the caller.
            guard !name.isEmpty, let parent = try? RunRequest.canonicalDirectory(lexicalParent, label: lexicalParent),
                  access(parent, W_OK) == 0 else { return nil }
            let path = (parent == "/" ? "" : parent) + "/" + name
            guard roots.contains(where: { isInside(path, $0) && path != $0 }), !hide.contains(where: { isInside(path, $0) }) else { return nil }
            return ProtectionStubs.Missing(path: path, isDirectory: entry.isDirectory)
        }
    }
}
