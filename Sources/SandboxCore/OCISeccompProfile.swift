/// The policy as OCI runtime-spec seccomp JSON (`linux.seccomp` of config.json; what Docker's
/// --security-opt seccomp=FILE, containerd, CRI-O and Kubernetes' Localhost profiles read).
///
/// The format holds one filter; sbx loads two (see `SeccompPolicy`). The argument rules are
/// folded in where one filter can say the same thing: namespace flags of clone and unshare
/// become "allowed when (flags & mask) == 0" plus the EPERM rules, as in Docker's profile; a
/// conditional deny of a syscall the first filter does not name is kept as is. The rest (ioctl
/// TIOCSTI/TIOCLINUX: "allow ioctl except these requests" has no one-filter form) is returned
/// as `leftOut`, so that the caller can say so.
extension SeccompPolicy {
    public func ociJSON() -> (json: String, leftOut: [SeccompRule]) {
        var rules = syscalls
        var leftOut: [SeccompRule] = []
        var argumentSyscalls: [String] = []
        for rule in arguments where !argumentSyscalls.contains(rule.syscall) { argumentSyscalls.append(rule.syscall) }
        for name in argumentSyscalls {
            let extra = arguments.filter { $0.syscall == name }
            let existing = rules.filter { $0.syscall == name }
            if existing.isEmpty {
                rules += extra
            } else if existing.count == 1, existing[0].conditions.isEmpty, existing[0].action == .allow,
                      let argument = Self.flagArgument(extra) {
                let mask = extra.reduce(UInt64(0)) { mask, rule in
                    if case .maskedEqual(let m) = rule.conditions[0].op { return mask | m }
                    return mask
                }
                let index = rules.firstIndex(of: existing[0])!
                rules[index].conditions = [SeccompCondition(argument: argument, .maskedEqual(mask: mask), 0)]
                rules += extra
            } else if existing.allSatisfy({ $0.conditions.isEmpty && $0.action != .allow }) {
                continue  // denied whatever the arguments
            } else {
                // A deny no allowed call can meet only picks the errno of calls one filter
                // refuses anyway (socket families); any other is named as left out.
                let allows = existing.filter { $0.action == .allow }
                leftOut += extra.filter { rule in !allows.allSatisfy { Self.disjoint($0, rule) } }
            }
        }

        var entries: [String] = []
        var unconditional: [(action: SeccompAction, names: [String])] = []
        for rule in rules where rule.action != defaultAction || !rule.conditions.isEmpty {
            if rule.conditions.isEmpty {
                if let at = unconditional.firstIndex(where: { $0.action == rule.action }) {
                    if !unconditional[at].names.contains(rule.syscall) { unconditional[at].names.append(rule.syscall) }
                } else {
                    unconditional.append((rule.action, [rule.syscall]))
                }
            } else {
                let args = rule.conditions.map(Self.json).joined(separator: ",")
                entries.append("{\"names\":[\(Self.quote(rule.syscall))],\(Self.json(rule.action)),\"args\":[\(args)]}")
            }
        }
        entries = unconditional.map { group in
            "{\"names\":[\(group.names.map(Self.quote).joined(separator: ","))],\(Self.json(group.action))}"
        } + entries
        let defaultPart = Self.json(defaultAction).replacingFirst("\"action\"", with: "\"defaultAction\"")
            .replacingFirst("\"errnoRet\"", with: "\"defaultErrnoRet\"")
        let json = "{\(defaultPart),\"architectures\":[\"\(Self.nativeArchitecture)\"],\"syscalls\":[\n"
            + entries.joined(separator: ",\n") + "\n]}\n"
        return (json, leftOut)
    }

    #if arch(x86_64)
    static let nativeArchitecture = "SCMP_ARCH_X86_64"
    #elseif arch(arm64)
    static let nativeArchitecture = "SCMP_ARCH_AARCH64"
    #else
    static let nativeArchitecture = "SCMP_ARCH_NATIVE"
    #endif

    /// The argument that every rule tests a flag of, when all of them are "(aN & F) == F".
    private static func flagArgument(_ rules: [SeccompRule]) -> Int? {
        var arguments: Set<Int> = []
        for rule in rules {
            guard rule.conditions.count == 1, rule.action != .allow,
                  case .maskedEqual(let mask) = rule.conditions[0].op, mask == rule.conditions[0].value,
                  mask != 0, mask & (mask - 1) == 0 else { return nil }  // one bit: "the flag is set"
            arguments.insert(rule.conditions[0].argument)
        }
        return arguments.count == 1 ? arguments.first : nil
    }

    /// Whether no call can match both rules: some argument is compared by both in ways that
    /// cannot hold together (only the cases the policies use are recognised).
    static func disjoint(_ a: SeccompRule, _ b: SeccompRule) -> Bool {
        for x in a.conditions {
            for y in b.conditions where x.argument == y.argument {
                switch (x.op, y.op) {
                case (.equal, .equal): if x.value != y.value { return true }
                case (.equal, .notEqual), (.notEqual, .equal): if x.value == y.value { return true }
                case (.equal, .greater): if x.value <= y.value { return true }
                case (.greater, .equal): if y.value <= x.value { return true }
                case (.equal, .less): if x.value >= y.value { return true }
                case (.less, .equal): if y.value >= x.value { return true }
                default: continue
                }
            }
        }
        return false
    }

    private static func json(_ action: SeccompAction) -> String {
        switch action {
        case .allow: return "\"action\":\"SCMP_ACT_ALLOW\""
        case .errno(let value): return "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":\(value)"
        case .kill: return "\"action\":\"SCMP_ACT_KILL_PROCESS\""
        case .log: return "\"action\":\"SCMP_ACT_LOG\""
        }
    }

    private static func json(_ condition: SeccompCondition) -> String {
        let op: String
        var value = condition.value
        var valueTwo: UInt64? = nil
        switch condition.op {
        case .equal: op = "SCMP_CMP_EQ"
        case .notEqual: op = "SCMP_CMP_NE"
        case .less: op = "SCMP_CMP_LT"
        case .lessOrEqual: op = "SCMP_CMP_LE"
        case .greater: op = "SCMP_CMP_GT"
        case .greaterOrEqual: op = "SCMP_CMP_GE"
        case .maskedEqual(let mask):
            // The runtime-spec's (and runc's) order: value is the mask, valueTwo the result.
            op = "SCMP_CMP_MASKED_EQ"; value = mask; valueTwo = condition.value
        }
        return "{\"index\":\(condition.argument),\"value\":\(value)" + (valueTwo.map { ",\"valueTwo\":\($0)" } ?? "") + ",\"op\":\"\(op)\"}"
    }

    private static func quote(_ name: String) -> String { "\"" + name + "\"" }  // syscall names are [a-z0-9_]
}

private extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = firstRange(of: target) else { return self }
        return self[..<range.lowerBound] + replacement + self[range.upperBound...]
    }
}
