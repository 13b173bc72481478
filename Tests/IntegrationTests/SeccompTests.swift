import CSandbox
import XCTest

/// The default seccomp policy in a real sandbox: each denied syscall is called with harmless
/// arguments and must return the policy's errno, where the kernel alone would answer
/// differently (EFAULT, EBADF, EINVAL, success); allowed ones must not be stopped; real
/// programs keep working. Controls show each answer comes from the filter.
final class SeccompTests: XCTestCase {
    /// name, arguments, the errno the default policy gives (0: the call must not be denied).
    static let matrix: [(String, [UInt64], Int32)] = [
        ("io_uring_setup", [0, 0], EPERM),                    // kernel: EINVAL
        ("keyctl", [9999, 0, 0, 0, 0], EPERM),                 // kernel: EOPNOTSUPP
        ("add_key", [0, 0, 0, 0, 0], EPERM),                   // kernel: EFAULT
        ("request_key", [0, 0, 0, 0], EPERM),                  // kernel: EFAULT
        ("perf_event_open", [0, 0, 0, 0, 0], EPERM),           // kernel: EFAULT
        ("process_vm_writev", [0, 0, 0, 0, 0, 0], EPERM),      // kernel: ESRCH
        ("name_to_handle_at", [UInt64(bitPattern: -1), 0, 0, 0, 0], EPERM),  // kernel: EFAULT
        ("setns", [UInt64(bitPattern: -1), 0], EPERM),         // kernel: EBADF
        ("quotactl", [0, 0, 0, 0], EPERM),                     // kernel: EFAULT
        ("userfaultfd", [UInt64(bitPattern: -1)], EPERM),      // kernel: EINVAL
        ("bpf", [9999, 0, 0], EPERM),
        ("mount", [0, 0, 0, 0, 0], EPERM),
        ("umount2", [0, 0], EPERM),
        ("pivot_root", [0, 0], EPERM),
        ("open_tree", [UInt64(bitPattern: -1), 0, 0], EPERM),
        ("fsopen", [0, 0], EPERM),
        ("move_mount", [UInt64(bitPattern: -1), 0, UInt64(bitPattern: -1), 0, 0], EPERM),
        ("kexec_load", [0, 0, 0, 0], EPERM),
        ("init_module", [0, 0, 0], EPERM),
        ("acct", [0], EPERM),
        ("swapon", [0, 0], EPERM),
        ("reboot", [0, 0, 0, 0], EPERM),
        ("syslog", [10, 0, 0], EPERM),
        ("open_by_handle_at", [UInt64(bitPattern: -1), 0, 0], EPERM),
        ("vhangup", [], EPERM),
        ("chroot", [0], EPERM),
        ("unshare", [0x1000_0000], EPERM),                     // CLONE_NEWUSER; kernel: success
        ("unshare", [0x20000], EPERM),                         // CLONE_NEWNS
        ("unshare", [0x4000_0000], EPERM),                     // CLONE_NEWNET
        ("unshare", [0x80], EPERM),                            // CLONE_NEWTIME
        ("clone", [0x1000_0000 | 17, 0, 0, 0, 0], EPERM),      // CLONE_NEWUSER|SIGCHLD
        ("clone3", [0, 0], ENOSYS),                            // kernel: EINVAL; glibc falls back to clone
        ("socket", [17, 3, 0], EAFNOSUPPORT),                  // AF_PACKET
        ("socket", [40, 1, 0], EAFNOSUPPORT),                  // AF_VSOCK
        ("socket", [38, 5, 0], EAFNOSUPPORT),                  // AF_ALG
        ("socket", [0x1_0000_0011, 3, 0], EAFNOSUPPORT),       // AF_PACKET in the high bits' shadow
        ("socket", [16, 3, 9], EPROTONOSUPPORT),               // netlink audit
        ("personality", [0x40_0000], ENOSYS),                  // READ_IMPLIES_EXEC; kernel: success
        ("cachestat", [UInt64(bitPattern: -1), 0, 0, 0], ENOSYS),  // newer than the policy; kernel: EBADF
        // Allowed: the kernel answers.
        ("unshare", [0x200], 0),                               // CLONE_FS
        ("socket", [1, 1, 0], 0),
        ("socket", [2, 1, 0], 0),
        ("socket", [10, 2, 0], 0),
        ("socket", [16, 3, 0], 0),                             // netlink route
        ("personality", [0xffff_ffff], 0),
        ("process_vm_readv", [0, 0, 0, 0, 0, 0], 0),
        ("getpid", [], 0),
        ("read", [UInt64(bitPattern: -1), 0, 0], 0),
    ]

    /// A Python program that makes each call and prints "name errno" (0 when it succeeded).
    static func probe(_ calls: [(String, [UInt64], Int32)]) -> String {
        var lines = [
            "import ctypes, os",
            "libc = ctypes.CDLL(None, use_errno=True)",
            "libc.syscall.restype = ctypes.c_long",
            "def call(name, number, *args):",
            "    ctypes.set_errno(0)",
            "    r = libc.syscall(ctypes.c_long(number), *[ctypes.c_ulong(a) for a in args])",
            "    if r == 0 and name in ('clone', 'unshare') and os.getpid() != pid: os._exit(0)",
            "    print(name, ctypes.get_errno() if r == -1 else 0, flush=True)",
            "pid = os.getpid()",
        ]
        for (name, arguments, _) in calls {
            let number = sbx_seccomp_resolve(name)
            precondition(number >= 0, "\(name) is not a syscall here")
            lines.append("call('\(name)', \(number), \(arguments.map(String.init).joined(separator: ", ")))")
        }
        return lines.joined(separator: "\n")
    }

    func answers(_ result: RunResult) -> [Int32] {
        result.stdout.split(separator: "\n").compactMap { $0.split(separator: " ").last.flatMap { Int32($0) } }
    }

    /// Runs the probe outside any sandbox, as `caller`: the kernel's own answers.
    func kernelAlone(_ calls: [(String, [UInt64], Int32)], as caller: Caller) -> [Int32] {
        let result = Harness.launch(Array(python(Self.probe(calls)).drop { $0 == "--" }), as: caller, in: "/tmp").finish()
        XCTAssertEqual(answers(result).count, calls.count, result.stdout + result.stderr)
        return answers(result)
    }

    func testDefaultPolicyDeniesEachDangerousSyscallAndAllowsTheRest() {
        for caller in Harness.callers {
            let project = Harness.makeProject(for: caller)
            let result = Harness.sbx(["run"] + python(Self.probe(Self.matrix)), as: caller, in: project)
            XCTAssertEqual(result.status, 0, "\(caller): \(result.stderr)")
            let got = answers(result)
            XCTAssertEqual(got.count, Self.matrix.count, result.stdout + result.stderr)
            // An allowed call reaches the kernel: the answer is the kernel's own (read(-1): EBADF).
            var kernel = kernelAlone(Self.matrix.filter { $0.2 == 0 }, as: caller)[...]
            for (index, (name, arguments, expected)) in Self.matrix.enumerated() where index < got.count {
                if expected == 0 {
                    XCTAssertEqual(got[index], kernel.popFirst(), "\(caller): \(name)\(arguments) was not answered by the kernel")
                } else {
                    XCTAssertEqual(got[index], expected, "\(caller): \(name)\(arguments)")
                }
            }
        }
    }

    /// Controls: outside any sandbox the kernel gives other answers to the calls the filter
    /// must answer, so the matrix above cannot pass without the filter.
    func testTheKernelAloneAnswersDifferently() throws {
        let distinct: Set = ["io_uring_setup", "keyctl", "add_key", "perf_event_open", "process_vm_writev", "setns",
                             "clone3", "personality", "cachestat"]
        let calls = Self.matrix.filter { distinct.contains($0.0) && $0.2 != 0 }
        let kernel = kernelAlone(calls, as: Harness.callers.last!)
        for (index, (name, _, expected)) in calls.enumerated() where index < kernel.count {
            XCTAssertNotEqual(kernel[index], expected, "\(name): the kernel alone gives the policy's answer")
        }
    }

    func testProfileRulesAllowDenyConditionsAndAction() {
        let project = Harness.makeProject(for: .current)
        FileManager.default.createFile(atPath: project + "/p.toml", contents: Data("""
            [seccomp]
            nested_userns = true
            allow = ["io_uring_setup"]
            deny = ["getppid:EACCES", "socket(a0 == 2):ENETUNREACH", "personality(a0 == 0xffffffff)"]
            """.utf8))
        let calls: [(String, [UInt64], Int32)] = [
            ("io_uring_setup", [0, 0], 0), ("getppid", [], 0), ("socket", [2, 1, 0], 0), ("socket", [10, 1, 0], 0),
            ("personality", [0xffff_ffff], 0), ("unshare", [0x1000_0000], 0), ("clone3", [0, 0], 0), ("mount", [0, 0, 0, 0, 0], 0),
        ]
        let result = Harness.sbx(["run", "--profile", "./p.toml"] + python(Self.probe(calls)), as: .current, in: project)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(answers(result), [EFAULT, EACCES, ENETUNREACH, 0, EPERM, 0, EINVAL, EFAULT], result.stdout)

        // Allowing socket outright allows every family: AF_PACKET then gets the kernel's answer
        // (EPERM: no CAP_NET_RAW), not the policy's EAFNOSUPPORT.
        FileManager.default.createFile(atPath: project + "/s.toml", contents: Data("[seccomp]\nallow = [\"socket\"]\n".utf8))
        let sockets = Harness.sbx(["run", "--profile", "./s.toml"] + python(Self.probe([("socket", [17, 3, 0], 0)])), as: .current, in: project)
        XCTAssertEqual(answers(sockets), [EPERM], sockets.stdout + sockets.stderr)

        // action = kill: a syscall the policy does not know kills the process (SIGSYS).
        FileManager.default.createFile(atPath: project + "/k.toml", contents: Data("[seccomp]\naction = \"kill\"\n".utf8))
        let killed = Harness.sbx(["run", "--profile", "./k.toml"] + python(Self.probe([("cachestat", [UInt64(bitPattern: -1), 0, 0, 0], 0)])),
                                 as: .current, in: project)
        XCTAssertEqual(killed.status, 128 + SIGSYS, killed.stdout + killed.stderr)
    }

    func testBadRuleNamesTheFileLineAndKey() {
        let project = Harness.makeProject(for: .current)
        for (entry, message) in [("opne", "unknown syscall 'opne'"), ("mkdir:EWHAT", "unknown errno 'EWHAT'"),
                                 ("socket(b0 == 1)", "the argument is a0 to a5")] {
            FileManager.default.createFile(atPath: project + "/p.toml", contents: Data("[seccomp]\n\ndeny = [\"\(entry)\"]\n".utf8))
            let result = Harness.sbx(["run", "--profile", "./p.toml", "--", "/bin/touch", "ran"], as: .current, in: project)
            XCTAssertEqual(result.status, 125)
            XCTAssertTrue(result.stderr.contains("p.toml:3:") && result.stderr.contains("seccomp.deny") && result.stderr.contains(message),
                          result.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: project + "/ran"))
            let check = Harness.sbx(["profile", "check", "./p.toml"], as: .current, in: project)
            XCTAssertEqual(check.status, 125)
            XCTAssertTrue(check.stderr.contains("p.toml:3:") && check.stderr.contains(message), check.stderr)
        }
    }

    /// `sbx export seccomp` is valid OCI runtime-spec seccomp JSON (the checks follow the
    /// spec's schema: config-linux.md and schema/defs-linux.json), and read back it says what
    /// the policy says.
    func testExportIsValidOCISeccompAndMatchesThePolicy() throws {
        let project = Harness.makeProject(for: .current)
        let result = Harness.sbx(["export", "seccomp"], as: .current, in: project)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("left out") && result.stderr.contains("ioctl(a1 & 0xffffffff == 0x5412 | 0x541c)"), result.stderr)
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])

        let actions: Set = ["SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO",
                            "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY"]
        let operators: Set = ["SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"]
        let architectures: Set = ["SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64",
                                  "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64",
                                  "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390",
                                  "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64"]
        func isUInt(_ value: Any?, max: UInt64 = .max) -> Bool {
            if let number = value as? Int { return number >= 0 && UInt64(number) <= max }
            if let number = value as? UInt64 { return number <= max }
            return false  // a fraction, a negative number, a string
        }
        XCTAssertTrue(Set(root.keys).isSubset(of: ["defaultAction", "defaultErrnoRet", "architectures", "flags", "listenerPath", "listenerMetadata", "syscalls"]), "\(root.keys)")
        let defaultAction = try XCTUnwrap(root["defaultAction"] as? String)
        XCTAssertTrue(actions.contains(defaultAction))
        if root["defaultErrnoRet"] != nil {
            XCTAssertTrue(["SCMP_ACT_ERRNO", "SCMP_ACT_TRACE"].contains(defaultAction) && isUInt(root["defaultErrnoRet"], max: UInt64(UInt32.max)))
        }
        let arches = try XCTUnwrap(root["architectures"] as? [String])
        XCTAssertTrue(!arches.isEmpty && Set(arches).isSubset(of: architectures), "\(arches)")

        // Read back: name -> unconditional action, and name -> conditional (action, args) entries.
        var unconditional: [String: String] = [:]
        var conditional: [String: [(String, [[String: Any]])]] = [:]
        for entry in try XCTUnwrap(root["syscalls"] as? [[String: Any]]) {
            XCTAssertTrue(Set(entry.keys).isSubset(of: ["names", "action", "errnoRet", "args"]), "\(entry.keys)")
            let names = try XCTUnwrap(entry["names"] as? [String])
            XCTAssertFalse(names.isEmpty || names.contains(""))
            let action = try XCTUnwrap(entry["action"] as? String)
            XCTAssertTrue(actions.contains(action))
            if entry["errnoRet"] != nil { XCTAssertTrue(["SCMP_ACT_ERRNO", "SCMP_ACT_TRACE"].contains(action) && isUInt(entry["errnoRet"], max: UInt64(UInt32.max))) }
            let label = action + (entry["errnoRet"].map { " \($0)" } ?? "")
            let args = entry["args"] as? [[String: Any]] ?? []
            for arg in args {
                XCTAssertTrue(Set(arg.keys).isSubset(of: ["index", "value", "valueTwo", "op"]) && isUInt(arg["index"], max: 5)
                              && isUInt(arg["value"]) && (arg["valueTwo"] == nil || isUInt(arg["valueTwo"]))
                              && operators.contains(arg["op"] as? String ?? ""), "\(arg)")
            }
            for name in names {
                if args.isEmpty {
                    // One unconditional action per name, and none next to conditional rules:
                    // libseccomp would let it swallow them.
                    XCTAssertNil(unconditional[name], "\(name) twice"); XCTAssertNil(conditional[name], name)
                    unconditional[name] = label
                } else {
                    XCTAssertNil(unconditional[name], name)
                    conditional[name, default: []].append((label, args))
                }
            }
        }
        // Read back as a filter, the export must give each call what a real process gets in
        // the sandbox: the policy's errno, or for an allowed call the kernel's own answer (a run
        // outside any sandbox). Conditions are ANDed within a rule; rules that match must agree.
        func matches(_ rule: [[String: Any]], _ arguments: [UInt64]) -> Bool {
            rule.allSatisfy { arg in
                let index = (arg["index"] as? NSNumber)?.intValue ?? 6
                let x = index < arguments.count ? arguments[index] : 0
                let value = (arg["value"] as? NSNumber)?.uint64Value ?? 0, two = (arg["valueTwo"] as? NSNumber)?.uint64Value ?? 0
                switch arg["op"] as? String {
                case "SCMP_CMP_EQ": return x == value
                case "SCMP_CMP_NE": return x != value
                case "SCMP_CMP_LT": return x < value
                case "SCMP_CMP_LE": return x <= value
                case "SCMP_CMP_GE": return x >= value
                case "SCMP_CMP_GT": return x > value
                case "SCMP_CMP_MASKED_EQ": return x & value == two
                default: return false
                }
            }
        }
        func verdict(_ name: String, _ arguments: [UInt64]) -> String {
            if let label = unconditional[name] { return label }
            let labels = Set((conditional[name] ?? []).filter { matches($0.1, arguments) }.map(\.0))
            XCTAssertLessThanOrEqual(labels.count, 1, "\(name)\(arguments): the export's rules disagree: \(labels)")
            return labels.first ?? defaultAction + (root["defaultErrnoRet"].map { " \($0)" } ?? "")
        }
        let calls = Self.matrix + [("execve", [0, 0, 0], 0), ("ptrace", [16, 0x3fff_ffff, 0, 0], 0),  // kernel: EFAULT, ESRCH
                                   ("ioctl", [UInt64(bitPattern: -1), 0x541B, 0], 0),                   // FIONREAD; kernel: EBADF
                                   ("clone", [0x20000 | 17, 0, 0, 0, 0], EPERM), ("clone", [0x4000_0000 | 17, 0, 0, 0, 0], EPERM),
                                   ("clone", [17, 0, 0, 0, 0], 0)]                                     // a plain fork
        let said = calls.map { verdict($0.0, $0.1) }
        let inside = Harness.sbx(["run"] + python(Self.probe(calls)), as: .current, in: project)
        let got = answers(inside)
        XCTAssertEqual(got.count, calls.count, inside.stdout + inside.stderr)
        // Outside, only the calls meant to be allowed are made (never a mount or a reboot).
        var kernel = kernelAlone(zip(calls, said).filter { $0.0.2 == 0 && $0.1 == "SCMP_ACT_ALLOW" }.map(\.0), as: .current)[...]
        XCTAssertTrue(said.contains("SCMP_ACT_ALLOW") && said.contains("SCMP_ACT_ERRNO 1"), "\(said)")
        for ((name, arguments, denied), (label, answer)) in zip(calls, zip(said, got)) {
            if label == "SCMP_ACT_ALLOW" {
                XCTAssertEqual(denied, 0, "\(name)\(arguments): the export allows it, the sandbox answers \(answer)")
                if denied == 0 { XCTAssertEqual(answer, kernel.popFirst(), "\(name)\(arguments): the export allows it, the sandbox answers \(answer)") }
            } else if name == "socket" {
                // A known difference: the export leaves other families and netlink protocols to
                // the default errno (ENOSYS), the filter answers EAFNOSUPPORT or
                // EPROTONOSUPPORT. Both deny.
                XCTAssertTrue(label.hasPrefix("SCMP_ACT_ERRNO ") && [EAFNOSUPPORT, EPROTONOSUPPORT].contains(answer),
                              "\(name)\(arguments): the export says \(label), the sandbox answers \(answer)")
            } else {
                XCTAssertEqual(label, "SCMP_ACT_ERRNO \(answer)", "\(name)\(arguments): the export against the sandbox")
            }
        }

        // A profile's conditional deny of ioctl cannot be folded like a namespace flag: left out, named.
        FileManager.default.createFile(atPath: project + "/p.toml", contents: Data("[seccomp]\ndeny = [\"ioctl(a1 & 0x80 == 0x80)\"]\n".utf8))
        let denied = Harness.sbx(["export", "seccomp", "--profile", "./p.toml"], as: .current, in: project)
        XCTAssertFalse(denied.stdout.contains("{\"names\":[\"ioctl\"]"), "ioctl made conditional")
        XCTAssertTrue(denied.stderr.contains("ioctl(a1 has a flag of 0x80)"), denied.stderr)

        // With nested user namespaces, clone is allowed outright.
        let nested = Harness.sbx(["export", "seccomp", "--profile", "codex"], as: .current, in: project)
        XCTAssertTrue(nested.stdout.contains("\"clone\""), nested.stderr)
        XCTAssertFalse(nested.stdout.contains("{\"names\":[\"clone\"]"), "clone still conditional with nested_userns")
    }

    /// Threads (glibc's clone3 falls back to clone), fork, exec, Python, Node, git, gcc and make.
    func testRealProgramsWorkUnderTheDefaultPolicy() throws {
        for caller in Harness.callers {
            let project = Harness.makeProject(for: caller)
            let script = """
                set -e
                python3 -c 'import threading, subprocess; t = threading.Thread(target=lambda: None); t.start(); t.join(); subprocess.run(["true"], check=True)'
                node -e 'require("fs").writeFileSync("node.txt", String(1 + 1))'; test "$(cat node.txt)" = 2
                printf 'int main(void){return 0;}\\n' > hello.c
                printf 'hello: hello.c\\n\\tgcc -pthread -o hello hello.c\\n' > Makefile
                make -s
                ./hello
                git init -q repo && cd repo && git -c user.email=a@b -c user.name=t commit -q --allow-empty -m one && git log --oneline | wc -l
                """
            let result = Harness.sbx(["run", "--env", "PATH=/usr/local/bin:/usr/bin:/bin", "--", "/bin/sh", "-c", script], as: caller, in: project)
            XCTAssertEqual(result.status, 0, "\(caller): \(result.stdout) \(result.stderr)")
            XCTAssertEqual(result.stdout, "1\n", "\(caller): \(result.stderr)")
        }
    }
}
