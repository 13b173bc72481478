/// The policy in words, for `sbx explain`: each filter's default, then its rules grouped by
/// action and reason, rules differing only in one compared value folded into one line.
extension SeccompPolicy {
    public func explanation() -> [String] {
        ["syscall filter (a syscall no rule names: \(Self.describe(defaultAction)))"] + Self.lines(syscalls)
            + ["argument filter (everything else allowed)"] + Self.lines(arguments)
    }

    public static func lines(_ rules: [SeccompRule]) -> [String] {
        var lines: [String] = []
        for (key, items) in groups(rules) {
            var line = key
            for item in items {
                if line.count + item.count > 100 && line != key {
                    lines.append(line)
                    line = "      "
                }
                line += (line == key || line == "      " ? "" : " ") + item
            }
            lines.append(line)
        }
        return lines
    }

    private static func groups(_ rules: [SeccompRule]) -> [(key: String, items: [String])] {
        var groups: [(key: String, items: [String])] = []
        var index = 0
        while index < rules.count {
            let rule = rules[index]
            var item = rule.syscall
            if !rule.conditions.isEmpty {
                // Fold the following rules that differ from this one only in the last value.
                var values = [describe(rule.conditions.last!.value)]
                while index + 1 < rules.count, foldable(rule, rules[index + 1]) {
                    index += 1
                    values.append(describe(rules[index].conditions.last!.value))
                }
                let last = rule.conditions.last!
                let fixed = rule.conditions.dropLast().map { describe($0) }
                let flags = rules[(index + 1 - values.count)...index].map { "0x" + String($0.conditions.last!.value, radix: 16) }
                let folded = isFlagTest(last) ? "a\(last.argument) has a flag of \(flags.joined(separator: " | "))"
                                              : describe(last, value: values.joined(separator: " | "))
                item += "(" + (fixed + [folded]).joined(separator: ", ") + ")"
            }
            let key = "  \(describe(rule.action)) [\(rule.reason)]: "
            if let at = groups.firstIndex(where: { $0.key == key }) { groups[at].items.append(item) } else { groups.append((key, [item])) }
            index += 1
        }
        return groups
    }

    private static func foldable(_ a: SeccompRule, _ b: SeccompRule) -> Bool {
        a.syscall == b.syscall && a.action == b.action && a.reason == b.reason && a.conditions.count == b.conditions.count
            && a.conditions.dropLast() == b.conditions.dropLast()
            && a.conditions.last!.argument == b.conditions.last!.argument
            && (a.conditions.last!.op == b.conditions.last!.op || (isFlagTest(a.conditions.last!) && isFlagTest(b.conditions.last!)))
    }

    /// "(aN & F) == F": the flag F is set.
    private static func isFlagTest(_ condition: SeccompCondition) -> Bool {
        if case .maskedEqual(let mask) = condition.op { return mask == condition.value }
        return false
    }

    static func describe(_ action: SeccompAction) -> String {
        switch action {
        case .allow: return "allow"
        case .errno(let value): return "errno " + errnoName(value)
        case .kill: return "kill"
        case .log: return "log"
        }
    }

    static func errnoName(_ value: Int32) -> String {
        SeccompProfileRules.errnoNames.filter { $0.value == value }.map(\.key).sorted().first ?? String(value)
    }

    static func describe(_ value: UInt64) -> String {
        value < 4096 ? String(value) : "0x" + String(value, radix: 16)
    }

    static func describe(_ condition: SeccompCondition, value: String? = nil) -> String {
        let argument = "a\(condition.argument)"
        let shown = value ?? describe(condition.value)
        switch condition.op {
        case .equal: return "\(argument) == \(shown)"
        case .notEqual: return "\(argument) != \(shown)"
        case .less: return "\(argument) < \(shown)"
        case .lessOrEqual: return "\(argument) <= \(shown)"
        case .greater: return "\(argument) > \(shown)"
        case .greaterOrEqual: return "\(argument) >= \(shown)"
        case .maskedEqual(let mask): return "\(argument) & \(describe(mask)) == \(shown)"
        }
    }
}
