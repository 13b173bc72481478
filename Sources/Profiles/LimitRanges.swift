/// The ranges of the numeric limits, checked in one place for profiles (ProfileParser, so
/// `run`, `explain` and `profile check` alike) and flags (FlagOverrides). Out of range, a value
/// used to reach an integer conversion that trapped (SIGILL, no message) or a cgroup file.
public enum LimitRanges {
    /// The kernel's PID_MAX_LIMIT: no more processes can exist.
    public static let maximumPids = 4_194_304
    /// More CPUs than any machine sbx runs on; cpu.max's quota stays far from overflowing.
    public static let maximumCPUs = 65_536.0
    /// 2^62 bytes: "no limit" in practice, and still a valid UInt64 and cgroup value.
    public static let maximumBytes = Double(UInt64(1) << 62)
    /// A year: longer is no timeout.
    public static let maximumSeconds = 365.0 * 86_400

    /// What is wrong with `value` for the limit `key` (e.g. "limits.pids"), or nil when it is fine.
    public static func problem(key: String, value: Scalar) -> String? {
        switch (key, value) {
        case ("limits.pids", .integer(let pids)):
            return (1...maximumPids).contains(pids) ? nil : "expected an integer from 1 to \(maximumPids), found \(pids)"
        case ("limits.cpu", .number(let cpus)):
            return cpus.isFinite && cpus > 0 && cpus <= maximumCPUs
                ? nil : "expected a number of CPUs greater than 0 and at most \(Int(maximumCPUs)), found \(cpus)"
        case ("limits.memory", .string(let text)):
            guard let bytes = Quantity.bytesValue(text) else {
                return "expected a positive size such as \"512M\" or \"2G\", found \"\(text)\""
            }
            return bytes >= 1 && bytes <= maximumBytes ? nil : "expected a size from 1 byte to 4 EiB, found \"\(text)\""
        case ("limits.timeout", .string(let text)):
            guard let seconds = Quantity.secondsValue(text) else {
                return "expected a positive duration such as \"90s\", \"30m\" or \"2h\", found \"\(text)\""
            }
            return seconds > 0 && seconds <= maximumSeconds ? nil : "expected a duration greater than 0 and at most 365 days (8760h), found \"\(text)\""
        default:
            return nil
        }
    }
}
