/// The plan's wire format on the control channel: length-prefixed fields, little-endian.
/// Both ends are the same binary, so there is no versioning; the decoder still checks every
/// length, since a short read must fail loudly rather than start a half-described sandbox.
enum PlanCodec {
    static func encode(_ plan: SandboxPlan) -> [UInt8] {
        var writer = Writer()
        writer.strings(plan.command)
        writer.strings(plan.environment)
        writer.string(plan.workingDirectory)
        writer.string(plan.hostname)
        writer.count(plan.mounts.count)
        for mount in plan.mounts {
            switch mount {
            case let .bind(source, target, writable):
                writer.byte(1); writer.string(source); writer.string(target); writer.byte(writable ? 1 : 0)
            case let .tmpfs(target, mode, size):
                writer.byte(2); writer.string(target); writer.count(Int(mode)); writer.word(size)
            case let .proc(target):
                writer.byte(3); writer.string(target)
            case let .devpts(target):
                writer.byte(4); writer.string(target)
            case let .symlink(destination, target):
                writer.byte(5); writer.string(destination); writer.string(target)
            case let .readOnly(target):
                writer.byte(6); writer.string(target)
            case let .cover(target):
                writer.byte(7); writer.string(target)
            case let .overlay(target, upper, work, stubs):
                writer.byte(8); writer.string(target); writer.string(upper); writer.string(work); writer.strings(stubs)
            case let .rebind(target, writable):
                writer.byte(9); writer.string(target); writer.byte(writable ? 1 : 0)
            }
        }
        writer.count(plan.passedFileDescriptors.count)
        for fd in plan.passedFileDescriptors { writer.count(Int(fd)) }
        writer.byte(plan.newSession ? 1 : 0)
        writer.action(plan.seccomp.defaultAction)
        writer.rules(plan.seccomp.syscalls)
        writer.rules(plan.seccomp.arguments)
        writer.byte(plan.landlock ? 1 : 0)
        writer.count(plan.resourceLimits.count)
        for limit in plan.resourceLimits { writer.count(Int(limit.resource)); writer.word(limit.value) }
        writer.count(plan.listenPorts.count)
        for port in plan.listenPorts { writer.count(Int(port)) }
        writer.byte(plan.socketService ? 1 : 0)
        writer.count(plan.transparentPorts.count)
        for port in plan.transparentPorts { writer.count(Int(port)) }
        writer.strings(plan.guarded)
        return writer.bytes
    }

    /// The seccomp programs: a count, then each program's length and bytes.
    static func encode(_ filter: SeccompFilter) -> [UInt8] {
        var writer = Writer()
        writer.count(filter.programs.count)
        for program in filter.programs {
            writer.count(program.count)
            writer.bytes += program
        }
        return writer.bytes
    }

    static func decodeFilter(_ bytes: [UInt8]) throws -> SeccompFilter {
        var reader = Reader(bytes: bytes)
        var programs: [[UInt8]] = []
        for _ in 0..<(try reader.count()) { programs.append(Array(try reader.take(try reader.count()))) }
        guard reader.atEnd else { throw SandboxError("corrupt seccomp programs: trailing bytes") }
        return SeccompFilter(programs: programs)
    }

    static func decode(_ bytes: [UInt8]) throws -> SandboxPlan {
        var reader = Reader(bytes: bytes)
        let command = try reader.strings()
        let environment = try reader.strings()
        let workingDirectory = try reader.string()
        let hostname = try reader.string()
        var mounts: [MountOperation] = []
        for _ in 0..<(try reader.count()) {
            switch try reader.byte() {
            case 1: mounts.append(.bind(source: try reader.string(), target: try reader.string(),
                                        writable: try reader.byte() == 1))
            case 2: mounts.append(.tmpfs(target: try reader.string(), mode: UInt32(try reader.count()), size: try reader.word()))
            case 3: mounts.append(.proc(target: try reader.string()))
            case 4: mounts.append(.devpts(target: try reader.string()))
            case 5: mounts.append(.symlink(destination: try reader.string(), target: try reader.string()))
            case 6: mounts.append(.readOnly(target: try reader.string()))
            case 7: mounts.append(.cover(target: try reader.string()))
            case 8: mounts.append(.overlay(target: try reader.string(), upper: try reader.string(),
                                           work: try reader.string(), stubs: try reader.strings()))
            case 9: mounts.append(.rebind(target: try reader.string(), writable: try reader.byte() == 1))
            case let tag: throw SandboxError("corrupt sandbox plan: unknown mount tag \(tag)")
            }
        }
        var fds: [Int32] = []
        for _ in 0..<(try reader.count()) { fds.append(Int32(try reader.count())) }
        let newSession = try reader.byte() == 1
        let seccomp = SeccompPolicy(defaultAction: try reader.action(), syscalls: try reader.rules(), arguments: try reader.rules())
        let landlock = try reader.byte() == 1
        var resourceLimits: [ResourceLimit] = []
        for _ in 0..<(try reader.count()) {
            resourceLimits.append(ResourceLimit(resource: Int32(try reader.count()), value: try reader.word()))
        }
        var listenPorts: [UInt16] = []
        for _ in 0..<(try reader.count()) { listenPorts.append(UInt16(truncatingIfNeeded: try reader.count())) }
        let socketService = try reader.byte() == 1
        var transparentPorts: [UInt16] = []
        for _ in 0..<(try reader.count()) { transparentPorts.append(UInt16(truncatingIfNeeded: try reader.count())) }
        let guarded = try reader.strings()
        guard reader.atEnd else { throw SandboxError("corrupt sandbox plan: trailing bytes") }
        return SandboxPlan(command: command, environment: environment,
                           workingDirectory: workingDirectory, hostname: hostname,
                           mounts: mounts, passedFileDescriptors: fds, newSession: newSession, seccomp: seccomp, landlock: landlock,
                           resourceLimits: resourceLimits, listenPorts: listenPorts, socketService: socketService,
                           transparentPorts: transparentPorts, guarded: guarded)
    }

    private struct Writer {
        var bytes: [UInt8] = []
        mutating func byte(_ value: UInt8) { bytes.append(value) }
        mutating func count(_ value: Int) {
            let v = UInt32(truncatingIfNeeded: value)
            bytes += [UInt8(v & 0xff), UInt8((v >> 8) & 0xff), UInt8((v >> 16) & 0xff), UInt8(v >> 24)]
        }
        mutating func string(_ value: String) {
            let utf8 = Array(value.utf8)
            count(utf8.count)
            bytes += utf8
        }
        mutating func strings(_ values: [String]) {
            count(values.count)
            values.forEach { string($0) }
        }
        mutating func word(_ value: UInt64) {
            count(Int(truncatingIfNeeded: value & 0xffff_ffff)); count(Int(truncatingIfNeeded: value >> 32))
        }
        mutating func action(_ action: SeccompAction) {
            switch action {
            case .allow: byte(0)
            case .errno(let value): byte(1); count(Int(value))
            case .kill: byte(2)
            case .log: byte(3)
            }
        }
        mutating func rules(_ rules: [SeccompRule]) {
            count(rules.count)
            for rule in rules {
                string(rule.syscall); action(rule.action); string(rule.reason)
                count(rule.conditions.count)
                for condition in rule.conditions {
                    byte(UInt8(condition.argument))
                    switch condition.op {
                    case .equal: byte(0)
                    case .notEqual: byte(1)
                    case .less: byte(2)
                    case .lessOrEqual: byte(3)
                    case .greater: byte(4)
                    case .greaterOrEqual: byte(5)
                    case .maskedEqual(let mask): byte(6); word(mask)
                    }
                    word(condition.value)
                }
            }
        }
    }

    private struct Reader {
        let bytes: [UInt8]
        var offset = 0
        var atEnd: Bool { offset == bytes.count }

        mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
            guard n >= 0, bytes.count - offset >= n else {
                throw SandboxError("corrupt sandbox plan: truncated at byte \(offset)")
            }
            defer { offset += n }
            return bytes[offset..<offset + n]
        }
        mutating func byte() throws -> UInt8 { try take(1).first! }
        mutating func count() throws -> Int {
            let b = try take(4)
            return b.reversed().reduce(0) { ($0 << 8) | Int($1) }
        }
        mutating func string() throws -> String {
            let n = try count()
            return String(decoding: try take(n), as: UTF8.self)
        }
        mutating func strings() throws -> [String] {
            var result: [String] = []
            for _ in 0..<(try count()) { result.append(try string()) }
            return result
        }
        mutating func word() throws -> UInt64 {
            let low = UInt64(try count()), high = UInt64(try count())
            return low | high << 32
        }
        mutating func action() throws -> SeccompAction {
            switch try byte() {
            case 0: return .allow
            case 1: return .errno(Int32(try count()))
            case 2: return .kill
            case 3: return .log
            case let tag: throw SandboxError("corrupt sandbox plan: unknown seccomp action \(tag)")
            }
        }
        mutating func rules() throws -> [SeccompRule] {
            var result: [SeccompRule] = []
            for _ in 0..<(try count()) {
                let syscall = try string(), action = try action(), reason = try string()
                var conditions: [SeccompCondition] = []
                for _ in 0..<(try count()) {
                    let argument = Int(try byte())
                    let op: SeccompCondition.Operator
                    switch try byte() {
                    case 0: op = .equal
                    case 1: op = .notEqual
                    case 2: op = .less
                    case 3: op = .lessOrEqual
                    case 4: op = .greater
                    case 5: op = .greaterOrEqual
                    case 6: op = .maskedEqual(mask: try word())
                    case let tag: throw SandboxError("corrupt sandbox plan: unknown seccomp operator \(tag)")
                    }
                    conditions.append(SeccompCondition(argument: argument, op, try word()))
                }
                result.append(SeccompRule(syscall, action, conditions, reason: reason))
            }
            return result
        }
    }
}
