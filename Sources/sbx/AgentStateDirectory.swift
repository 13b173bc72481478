#if canImport(Glibc)
import Glibc
#endif
import Profiles
import SandboxCore

/// The agent's sandbox-only configuration directory of a profile's `[agent]` section
/// (AgentStateSettings): STATE/agents/NAME, created private, seeded from the host's files,
/// writable inside and named by the agent's variable. The host's own files are never written:
/// what a run puts there (an MCP server, a hook, a notify command) reaches later sandboxed
/// runs only. The state directory itself stays hidden; this one is a writable root inside it.
enum AgentStateDirectory {
    /// `policy` with the directory writable and the variable set to it. `seeding`: create the
    /// directory and copy the host's files in (a run); `sbx explain` only shows where it is.
    static func apply(_ policy: EffectivePolicy, state: String, seeding: Bool) throws -> EffectivePolicy {
        guard let agent = policy.agentState else { return policy }
        let directory = state + "/agents/" + agent.name.value
        if seeding {
            try makeDirectories(directory, mode: 0o700)
            for entry in agent.seed { try copy(entry.path, into: directory, onlyWhenMissing: true) }
            for entry in agent.refresh { try copy(entry.path, into: directory, onlyWhenMissing: false) }
            for entry in agent.link { try link(entry.path, into: directory) }
        }
        var policy = policy
        policy.write.append(EffectivePolicy.PathEntry(path: directory, createIfMissing: true, origin: agent.name.origin))
        policy.envSet[agent.variable.value] = Sourced(directory, agent.variable.origin)
        return policy
    }

    /// A symbolic link DIRECTORY/its-name -> `source`, made when nothing has that name yet and
    /// the source exists. What is linked is read where the sandbox sees it (read-only in a
    /// read-only home); a run may replace the link in its own directory, never the source.
    static func link(_ source: String, into directory: String) throws {
        var info = stat()
        guard stat(source, &info) == 0 else { return }
        let target = directory + "/" + source[source.index(after: source.lastIndex(of: "/")!)...]
        if lstat(target, &info) == 0 { return }
        guard symlink(source, target) == 0 || errno == EEXIST else {
            throw SandboxError.system("link \(target) to \(source)", errno: errno)
        }
    }

    /// Copies the host's regular file `source` to DIRECTORY/its-name, when the copy is missing
    /// or (unless `onlyWhenMissing`) older than the source. A missing source is skipped: the
    /// agent starts without it, as on a new machine. Written through a temporary file renamed
    /// over the copy, mode 0600 (these files hold logins), with the source's modification time.
    static func copy(_ source: String, into directory: String, onlyWhenMissing: Bool) throws {
        var from = stat()
        guard stat(source, &from) == 0, (from.st_mode & S_IFMT) == S_IFREG else { return }
        let name = source[source.index(after: source.lastIndex(of: "/")!)...]
        let target = directory + "/" + name
        var to = stat()
        if lstat(target, &to) == 0 {
            if onlyWhenMissing { return }
            let newer = (from.st_mtim.tv_sec, from.st_mtim.tv_nsec) > (to.st_mtim.tv_sec, to.st_mtim.tv_nsec)
            if !newer { return }
        }
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw SandboxError.system("read \(source) to seed \(directory)", errno: errno) }
        defer { close(input) }
        let temporary = target + ".sbx-seed"
        unlink(temporary)
        let output = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard output >= 0 else { throw SandboxError.system("create \(temporary)", errno: errno) }
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(input, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            if count < 0 {
                let error = errno
                close(output); unlink(temporary)
                throw SandboxError.system("read \(source)", errno: error)
            }
            if count == 0 { break }
            do { try writeFully(output, Array(buffer[..<count]), what: temporary) } catch { close(output); unlink(temporary); throw error }
        }
        var times = [timespec(tv_sec: time(nil), tv_nsec: 0), from.st_mtim]
        futimens(output, &times)
        close(output)
        guard rename(temporary, target) == 0 else {
            let error = errno
            unlink(temporary)
            throw SandboxError.system("rename \(temporary) to \(target)", errno: error)
        }
    }
}
