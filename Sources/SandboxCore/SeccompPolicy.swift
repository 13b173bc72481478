/// The seccomp policy of a run, as data: resolved on the host side, carried in the plan, built
/// into filters by the init (`SeccompFilter`), listed by `sbx explain`, exported as OCI JSON.
///
/// Two filters, because one libseccomp filter cannot say "allow this syscall except with these
/// arguments" (an unconditional rule swallows the conditional ones on the same syscall):
/// - `syscalls`: which syscalls exist for the sandbox. Rules allow or deny by name; a syscall
///   no rule names gets `defaultAction` (ENOSYS, so libc falls back from newer calls).
/// - `arguments`: allows everything except the argument patterns its rules deny (TIOCSTI,
///   namespace flags of clone and unshare).
/// The kernel runs both and applies the stricter result; when both deny with an errno, the
/// filter loaded last (`arguments`) chooses it.
public struct SeccompPolicy: Equatable, Sendable {
    public var defaultAction: SeccompAction
    public var syscalls: [SeccompRule]
    public var arguments: [SeccompRule]

    public init(defaultAction: SeccompAction, syscalls: [SeccompRule], arguments: [SeccompRule]) {
        self.defaultAction = defaultAction
        self.syscalls = syscalls
        self.arguments = arguments
    }
}

public enum SeccompAction: Equatable, Sendable {
    case allow
    case errno(Int32)
    /// Kill the whole process (SECCOMP_RET_KILL_PROCESS).
    case kill
    /// Allow, and log to the kernel's audit log.
    case log
}

/// A comparison on one argument of a syscall (`a0` to `a5`), on its full 64 bits.
public struct SeccompCondition: Equatable, Sendable {
    public enum Operator: Equatable, Sendable {
        case equal, notEqual, less, lessOrEqual, greater, greaterOrEqual
        /// (argument & mask) == value
        case maskedEqual(mask: UInt64)
    }

    public var argument: Int
    public var op: Operator
    public var value: UInt64

    public init(argument: Int, _ op: Operator, _ value: UInt64) {
        self.argument = argument
        self.op = op
        self.value = value
    }
}

public struct SeccompRule: Equatable, Sendable {
    public var syscall: String
    public var action: SeccompAction
    /// ANDed; empty: every call of the syscall.
    public var conditions: [SeccompCondition]
    /// Why the rule exists, for `sbx explain` ("default policy", "seccomp.deny (file:line)").
    public var reason: String

    public init(_ syscall: String, _ action: SeccompAction, _ conditions: [SeccompCondition] = [], reason: String) {
        self.syscall = syscall
        self.action = action
        self.conditions = conditions
        self.reason = reason
    }
}
