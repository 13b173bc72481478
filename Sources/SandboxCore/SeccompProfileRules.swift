import CSandbox

/// A profile's `seccomp.allow` and `seccomp.deny` entries, parsed and laid over a policy.
///
/// An entry is a syscall name, optionally with conditions on its arguments and, for deny, the
/// errno to return (EPERM when not given):
///
///     "ptrace"                       "personality(a0 == 0x40000)"
///     "mkdir:EACCES"                 "socket(a0 == 40):EAFNOSUPPORT"
///     "ioctl(a1 & 0xffffffff == 0x5401)"
///
/// Operators: ==, !=, <, <=, >, >=, and `& MASK ==`; values in decimal or 0x hex; conditions
/// are ANDed.
public enum SeccompProfileRules {
    public struct Invalid: Error, Equatable {
        public let message: String
    }

    /// Parses one entry; `deny` says which list it came from.
    public static func parse(_ text: String, deny: Bool, reason: String) throws(Invalid) -> SeccompRule {
        var rest = Substring(text.filter { $0 != " " && $0 != "\t" })
        var errnoValue: Int32 = 1  // EPERM
        if let colon = rest.lastIndex(of: ":") {
            guard deny else { throw Invalid(message: "an allowed syscall takes no errno (':\(rest[rest.index(after: colon)...])')") }
            let name = String(rest[rest.index(after: colon)...])
            guard let value = errnoNumber(name) else {
                throw Invalid(message: "unknown errno '\(name)' (a name such as EPERM, EACCES, ENOSYS, or a number from 1 to 4095)")
            }
            errnoValue = value
            rest = rest[..<colon]
        }
        var conditions: [SeccompCondition] = []
        if let open = rest.firstIndex(of: "(") {
            guard rest.last == ")" else { throw Invalid(message: "conditions must end with ')'") }
            let inner = rest[rest.index(after: open)..<rest.index(before: rest.endIndex)]
            conditions = try inner.split(separator: ",").map { piece throws(Invalid) in try condition(piece) }
            guard !conditions.isEmpty else { throw Invalid(message: "empty conditions '()'") }
            // libseccomp takes one comparison per argument in a rule.
            guard Set(conditions.map(\.argument)).count == conditions.count else {
                throw Invalid(message: "each argument may be compared once per entry; write a range as two entries")
            }
            rest = rest[..<open]
        }
        let name = String(rest)
        guard !name.isEmpty, sbx_seccomp_resolve(name) >= 0 else {
            throw Invalid(message: "unknown syscall '\(name)' on this architecture")
        }
        return SeccompRule(name, deny ? .errno(errnoValue) : .allow, conditions, reason: reason)
    }

    /// "a1&0xff==3", "a0!=2" (blanks already removed).
    private static func condition(_ text: Substring) throws(Invalid) -> SeccompCondition {
        let operators: [(String, SeccompCondition.Operator)] = [
            ("==", .equal), ("!=", .notEqual), ("<=", .lessOrEqual), (">=", .greaterOrEqual), ("<", .less), (">", .greater),
        ]
        guard let (symbol, op) = operators.first(where: { text.firstRange(of: $0.0) != nil }),
              let range = text.firstRange(of: symbol) else {
            throw Invalid(message: "condition '\(text)' has no operator (==, !=, <, <=, >, >=)")
        }
        var left = text[..<range.lowerBound]
        guard let value = number(text[range.upperBound...]) else {
            throw Invalid(message: "condition '\(text)': '\(text[range.upperBound...])' is not a number")
        }
        var finalOp = op
        if let ampersand = left.firstIndex(of: "&") {
            guard op == .equal, let mask = number(left[left.index(after: ampersand)...]) else {
                throw Invalid(message: "condition '\(text)': a mask is written 'aN & MASK == VALUE'")
            }
            finalOp = .maskedEqual(mask: mask)
            left = left[..<ampersand]
        }
        guard left.count == 2, left.first == "a", let index = left.last?.wholeNumberValue, index <= 5 else {
            throw Invalid(message: "condition '\(text)': the argument is a0 to a5")
        }
        return SeccompCondition(argument: index, finalOp, value)
    }

    private static func number(_ text: Substring) -> UInt64? {
        if text.hasPrefix("0x") { return UInt64(text.dropFirst(2), radix: 16) }
        return UInt64(text)
    }

    static func errnoNumber(_ name: String) -> Int32? {
        if let value = Int32(name) { return (1...4095).contains(value) ? value : nil }
        return errnoNames[name]
    }

    static let errnoNames: [String: Int32] = [
        "EPERM": 1, "ENOENT": 2, "ESRCH": 3, "EINTR": 4, "EIO": 5, "ENXIO": 6, "E2BIG": 7, "ENOEXEC": 8,
        "EBADF": 9, "ECHILD": 10, "EAGAIN": 11, "ENOMEM": 12, "EACCES": 13, "EFAULT": 14, "EBUSY": 16,
        "EEXIST": 17, "EXDEV": 18, "ENODEV": 19, "ENOTDIR": 20, "EISDIR": 21, "EINVAL": 22, "ENFILE": 23,
        "EMFILE": 24, "ENOTTY": 25, "ETXTBSY": 26, "EFBIG": 27, "ENOSPC": 28, "ESPIPE": 29, "EROFS": 30,
        "EMLINK": 31, "EPIPE": 32, "ERANGE": 34, "ENOSYS": 38, "ENOTSUP": 95, "EOPNOTSUPP": 95,
        "EPROTONOSUPPORT": 93, "EAFNOSUPPORT": 97, "EADDRNOTAVAIL": 99, "ENETUNREACH": 101,
        "ECONNREFUSED": 111, "EHOSTUNREACH": 113,
    ]
}

extension SeccompPolicy {
    /// Syscalls whose argument rules a profile's allow does not remove.
    static let fixedArgumentRules: Set<String> = ["ioctl", "clone", "unshare"]

    /// The policy with a profile's rules laid over it. An unconditional entry replaces every
    /// rule the policy has for that syscall by name; an unconditional allow also lifts its
    /// argument rules (allowing socket allows every family), except for ioctl, clone and
    /// unshare: allowing ioctl does not allow TIOCSTI, allowing unshare does not allow
    /// namespaces (nested_userns does). A conditional allow drops the unconditional rule it would be swallowed by; a
    /// conditional deny joins the argument filter. Denies apply after allows: deny wins.
    public func applying(allow: [SeccompRule], deny: [SeccompRule], defaultAction: SeccompAction?) -> SeccompPolicy {
        var result = self
        if let defaultAction { result.defaultAction = defaultAction }
        for rule in allow + deny {
            if rule.conditions.isEmpty || rule.action == .allow {
                result.syscalls.removeAll { $0.syscall == rule.syscall && (rule.conditions.isEmpty || $0.conditions.isEmpty) }
                result.syscalls.append(rule)
                // Allowing socket outright allows every family; the terminal and namespace
                // rules stay whatever is allowed (nested_userns lifts the latter).
                if rule.action == .allow && rule.conditions.isEmpty && !Self.fixedArgumentRules.contains(rule.syscall) {
                    result.arguments.removeAll { $0.syscall == rule.syscall }
                }
            } else {
                // The same pattern twice (a profile denying TIOCSTI with its own errno): one
                // rule, the later one's answer; libseccomp refuses a duplicate (EEXIST).
                result.arguments.removeAll { $0.syscall == rule.syscall && $0.conditions == rule.conditions }
                result.arguments.append(rule)
            }
        }
        return result
    }
}
