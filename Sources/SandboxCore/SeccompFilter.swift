import CSandbox

/// The policy's two filters, built with libseccomp in the init (before fork: building
/// allocates) and loaded by the command's process as its last step before exec.
struct SeccompFilter {
    private let syscalls: OpaquePointer
    private let arguments: OpaquePointer

    init(_ policy: SeccompPolicy) throws {
        syscalls = try Self.build(policy.syscalls, defaultAction: policy.defaultAction, name: "syscall")
        arguments = try Self.build(policy.arguments, defaultAction: .allow, name: "argument")
    }

    /// Loads both; `arguments` last, so that its errno is the one returned when both deny.
    func load() -> Int32 {
        let rc = sbx_seccomp_load(syscalls)
        return rc != 0 ? rc : sbx_seccomp_load(arguments)
    }

    private static func build(_ rules: [SeccompRule], defaultAction: SeccompAction, name: String) throws -> OpaquePointer {
        var error: Int32 = 0
        let (action, errnoValue) = encode(defaultAction)
        guard let filter = sbx_seccomp_new(action, errnoValue, &error) else {
            throw SandboxError.system("build the seccomp \(name) filter", errno: -error)
        }
        for rule in rules {
            let number = sbx_seccomp_resolve(rule.syscall)
            if number < 0 { continue }  // not a syscall of this architecture
            // What no rule names gets the default anyway; libseccomp refuses such a rule.
            if rule.action == defaultAction { continue }
            let conditions = rule.conditions.map(encode)
            let (action, errnoValue) = encode(rule.action)
            let rc = conditions.withUnsafeBufferPointer {
                sbx_seccomp_add(filter, number, action, errnoValue, $0.baseAddress, UInt32($0.count))
            }
            if rc != 0 {
                throw SandboxError.system("add the seccomp rule for \(rule.syscall) (\(rule.reason))", errno: -rc)
            }
        }
        return filter
    }

    private static func encode(_ action: SeccompAction) -> (Int32, Int32) {
        switch action {
        case .allow: return (Int32(SBX_SECCOMP_ALLOW.rawValue), 0)
        case .errno(let value): return (Int32(SBX_SECCOMP_ERRNO.rawValue), value)
        case .kill: return (Int32(SBX_SECCOMP_KILL.rawValue), 0)
        case .log: return (Int32(SBX_SECCOMP_LOG.rawValue), 0)
        }
    }

    private static func encode(_ condition: SeccompCondition) -> sbx_seccomp_condition {
        let op: sbx_seccomp_op
        var mask: UInt64 = 0
        switch condition.op {
        case .equal: op = SBX_SECCOMP_EQ
        case .notEqual: op = SBX_SECCOMP_NE
        case .less: op = SBX_SECCOMP_LT
        case .lessOrEqual: op = SBX_SECCOMP_LE
        case .greater: op = SBX_SECCOMP_GT
        case .greaterOrEqual: op = SBX_SECCOMP_GE
        case .maskedEqual(let m): op = SBX_SECCOMP_MASKED_EQ; mask = m
        }
        return sbx_seccomp_condition(argument: UInt32(condition.argument), op: Int32(op.rawValue), mask: mask, value: condition.value)
    }
}
