#if canImport(Glibc)
import Glibc
#endif

/// The limits a run asks for.
public struct CgroupLimits: Equatable, Sendable {
    public var memoryBytes: UInt64?
    public var cpus: Double?
    public var pids: Int?

    public init(memoryBytes: UInt64? = nil, cpus: Double? = nil, pids: Int? = nil) {
        self.memoryBytes = memoryBytes
        self.cpus = cpus
        self.pids = pids
    }

    public var isEmpty: Bool { memoryBytes == nil && cpus == nil && pids == nil }

    var controllers: [String] {
        (memoryBytes != nil ? ["memory"] : []) + (cpus != nil ? ["cpu"] : []) + (pids != nil ? ["pids"] : [])
    }
}

/// A cgroup v2 leaf for one run, below the cgroup sbx was started in: the sandbox is cloned
/// straight into it (CLONE_INTO_CGROUP), its limits are set before, what happened is read
/// after, and it is removed at the end; a run killed with SIGKILL leaves an empty leaf that the
/// next run in the same cgroup sweeps.
///
/// The kernel's no-internal-processes rule: a cgroup can hand controllers to its children
/// only while no process sits in it. When the controllers are not enabled yet and sbx is the
/// only process in its cgroup (a `systemd-run --scope -p Delegate=yes` scope, a delegated
/// service), sbx first moves itself into a leaf of its own (as crun and nsjail do), enables
/// them, and undoes both at the end. When other processes share the cgroup, it cannot.
public final class RunCgroup {
    public let path: String
    /// An O_DIRECTORY descriptor of `path`, for clone3.
    public private(set) var fd: Int32 = -1
    private let parent: String
    private let limits: CgroupLimits
    private var enabledByUs: [String] = []
    private var supervisorLeaf: String?

    public init(limits: CgroupLimits) throws(CgroupUnavailable) {
        self.limits = limits
        let location: CgroupLocation
        switch CgroupDiscovery.locate() {
        case .success(let found): location = found
        case .failure(let why): throw why
        }
        parent = location.directory
        path = parent + "/sbx-\(getpid())"
        let needed = limits.controllers
        let available = CgroupDiscovery.controllers(parent + "/cgroup.controllers")
        let missing = needed.filter { !available.contains($0) }
        guard missing.isEmpty else {
            throw CgroupUnavailable("the cgroup v2 controller\(missing.count > 1 ? "s" : "") \(missing.joined(separator: ", ")) "
                + "\(missing.count > 1 ? "are" : "is") not available in \(parent) (it offers: "
                + "\(available.isEmpty ? "none" : available.sorted().joined(separator: " "))). "
                + (!location.isHybrid ? Self.delegationHint
                   : "This host mounts cgroup v2 at \(location.mountPoint) next to cgroup v1 (a hybrid layout): boot with "
                   + "systemd.unified_cgroup_hierarchy=1 for a pure cgroup v2 hierarchy"))
        }
        Self.sweep(parent)

        let enabled = CgroupDiscovery.controllers(parent + "/cgroup.subtree_control")
        let toEnable = needed.filter { !enabled.contains($0) }
        if !toEnable.isEmpty {
            if !location.isRoot {
                let others = Self.processes(in: parent).filter { $0 != getpid() }
                guard others.isEmpty else {
                    throw CgroupUnavailable("\(parent) holds other processes too (\(others.prefix(3).map(String.init).joined(separator: ", "))"
                        + "\(others.count > 3 ? ", ..." : "")), so sbx cannot give its run a cgroup with limits there "
                        + "(cgroup v2 lets only an empty cgroup share its controllers). " + Self.delegationHint)
                }
                let leaf = parent + "/sbx-\(getpid())-supervisor"
                try Self.makeDirectory(leaf)
                supervisorLeaf = leaf
                do {
                    try Self.write(String(getpid()), to: leaf + "/cgroup.procs")
                } catch {
                    rmdir(leaf)
                    supervisorLeaf = nil
                    throw error
                }
            }
            do {
                try Self.write(toEnable.map { "+" + $0 }.joined(separator: " "), to: parent + "/cgroup.subtree_control")
                enabledByUs = toEnable
            } catch {
                restoreParent()
                throw error
            }
        }
        do {
            try Self.makeDirectory(path)
            if let bytes = limits.memoryBytes {
                try Self.write(String(bytes), to: path + "/memory.max")
                // The limit is on memory, not on memory plus swap.
                if access(path + "/memory.swap.max", F_OK) == 0 { try Self.write("0", to: path + "/memory.swap.max") }
            }
            if let cpus = limits.cpus {
                let period = 100_000
                try Self.write("\(max(1000, Int((cpus * Double(period)).rounded()))) \(period)", to: path + "/cpu.max")
            }
            if let pids = limits.pids { try Self.write(String(pids), to: path + "/pids.max") }
        } catch {
            rmdir(path)
            restoreParent()
            throw error
        }
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            rmdir(path)
            restoreParent()
            throw CgroupUnavailable("cannot open \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Whether a run with `limits` would get its cgroup, without creating anything: the
    /// controllers are there and the cgroup is writable (for `sbx explain`).
    public static func preflight(_ limits: CgroupLimits) -> CgroupUnavailable? {
        let location: CgroupLocation
        switch CgroupDiscovery.locate() {
        case .success(let found): location = found
        case .failure(let why): return why
        }
        let available = CgroupDiscovery.controllers(location.directory + "/cgroup.controllers")
        let missing = limits.controllers.filter { !available.contains($0) }
        if !missing.isEmpty {
            return CgroupUnavailable("controller \(missing.joined(separator: ", ")) not available in \(location.directory)"
                                     + (location.isHybrid ? " (a hybrid cgroup v1/v2 host)" : ""))
        }
        if access(location.directory, W_OK) != 0 {
            return CgroupUnavailable("\(location.directory) is not delegated to this user")
        }
        return nil
    }

    static let delegationHint = "Run sbx in a delegated cgroup of its own: "
        + "systemd-run --user --scope -p Delegate=yes sbx run ... (as root: systemd-run --scope -p Delegate=yes ...)"

    /// What the limits did, in words: the OOM killer, the pids limit.
    public func findings() -> [String] {
        var found: [String] = []
        let memoryEvents = Self.keyed(path + "/memory.events")
        if let bytes = limits.memoryBytes, (memoryEvents["oom_kill"] ?? 0) > 0 {
            let peak = CgroupDiscovery.readText(path + "/memory.peak").flatMap { UInt64($0.filter { !$0.isWhitespace }) }
            found.append("killed: memory limit \(Self.size(bytes)) reached" + (peak.map { " (peak \(Self.size($0)))" } ?? ""))
        }
        if let pids = limits.pids, let refused = Self.keyed(path + "/pids.events")["max"], refused > 0 {
            found.append("process limit \(pids) reached: \(refused) fork\(refused == 1 ? "" : "s") refused")
        }
        return found
    }

    /// The same as numbers, for the audit file: (name, value) pairs, absent ones left out.
    public func usageNumbers() -> [(String, UInt64)] {
        var numbers: [(String, UInt64)] = []
        if let peak = CgroupDiscovery.readText(path + "/memory.peak").flatMap({ UInt64($0.filter { !$0.isWhitespace }) }) {
            numbers.append(("memory_peak_bytes", peak))
        }
        if let cpu = Self.keyed(path + "/cpu.stat")["usage_usec"] { numbers.append(("cpu_usec", cpu)) }
        if let pids = CgroupDiscovery.readText(path + "/pids.peak").flatMap({ UInt64($0.filter { !$0.isWhitespace }) }) {
            numbers.append(("pids_peak", pids))
        }
        return numbers
    }

    /// Peak memory, CPU time and processes of the run, for --verbose.
    public func usage() -> String {
        let cpu = Self.keyed(path + "/cpu.stat")["usage_usec"].map { Self.decimal(Double($0) / 1e6) + " s CPU" }
        let peak = CgroupDiscovery.readText(path + "/memory.peak").flatMap { UInt64($0.filter { !$0.isWhitespace }) }.map { "peak memory " + Self.size($0) }
        let pids = CgroupDiscovery.readText(path + "/pids.peak").flatMap { Int($0.filter { !$0.isWhitespace }) }.map { "\($0) processes at most" }
        return [peak, cpu, pids].compactMap { $0 }.joined(separator: ", ")
    }

    /// Ends whatever is left in the leaf, removes it, and gives the parent back as it was.
    public func remove() {
        close(fd)
        if access(path + "/cgroup.kill", F_OK) == 0 { try? Self.write("1", to: path + "/cgroup.kill") }
        for _ in 0..<200 {
            if rmdir(path) == 0 || errno == ENOENT { break }
            usleep(5000)  // the killed processes are still exiting
        }
        restoreParent()
    }

    private func restoreParent() {
        if !enabledByUs.isEmpty {
            try? Self.write(enabledByUs.map { "-" + $0 }.joined(separator: " "), to: parent + "/cgroup.subtree_control")
            enabledByUs = []
        }
        if let leaf = supervisorLeaf {
            try? Self.write(String(getpid()), to: parent + "/cgroup.procs")
            rmdir(leaf)
            supervisorLeaf = nil
        }
    }

    /// Leaves of runs whose sbx is gone (killed): their processes died with it (PDEATHSIG).
    static func sweep(_ parent: String) {
        let stale = (directoryNames(parent) ?? []).filter { name in
            guard name.hasPrefix("sbx-"), let pid = pid_t(name.dropFirst(4).prefix { $0.isNumber }), pid > 0 else { return false }
            return kill(pid, 0) != 0 && errno == ESRCH
        }.map { parent + "/" + $0 }
        for leaf in stale {
            if access(leaf + "/cgroup.kill", F_OK) == 0 { try? write("1", to: leaf + "/cgroup.kill") }
            rmdir(leaf)
        }
    }

    static func processes(in cgroup: String) -> [pid_t] {
        (CgroupDiscovery.readText(cgroup + "/cgroup.procs") ?? "").split(separator: "\n").compactMap { pid_t($0) }
    }

    static func keyed(_ file: String) -> [String: UInt64] {
        var values: [String: UInt64] = [:]
        for line in (CgroupDiscovery.readText(file) ?? "").split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = UInt64(parts[1]) { values[String(parts[0])] = value }
        }
        return values
    }

    static func size(_ bytes: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(bytes) B" : decimal(value) + " " + units[unit]
    }

    /// One decimal, none when it is 0: "2 GiB", "1.5 GiB".
    public static func decimal(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return tenths % 10 == 0 ? String(tenths / 10) : "\(tenths / 10).\(tenths % 10)"
    }

    private static func makeDirectory(_ path: String) throws(CgroupUnavailable) {
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw CgroupUnavailable(explain("create \(path)", errno: errno))
        }
    }

    static func write(_ text: String, to file: String) throws(CgroupUnavailable) {
        let fd = open(file, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CgroupUnavailable(explain("open \(file)", errno: errno)) }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        guard Glibc.write(fd, bytes, bytes.count) == bytes.count else {
            throw CgroupUnavailable(explain("write '\(text)' to \(file)", errno: errno))
        }
    }

    private static func explain(_ what: String, errno code: Int32) -> String {
        let base = "cannot \(what): \(String(cString: strerror(code)))"
        return code == EACCES || code == EPERM || code == EROFS ? base + ": this cgroup is not delegated to you. " + delegationHint : base
    }
}
