/// sbx's default seccomp policy. It follows Docker's default profile (moby/moby,
/// profiles/seccomp/default.json at commit 00f3d189e420d485e42d15fe494f96d272284e0e) for an
/// unprivileged container, with these differences:
/// - a syscall no rule names fails with ENOSYS, not EPERM: it is newer than this policy, and
///   libc falls back to an older call on ENOSYS (Docker does this for clone3 only);
/// - the known-dangerous syscalls below fail with EPERM, by name, so that `sbx explain` lists them;
/// - io_uring (it bypasses seccomp's argument checks), name_to_handle_at and
///   process_vm_writev are denied; ptrace, process_vm_readv, kcmp and pidfd_getfd are allowed:
///   the sandbox's pid namespace leaves nothing outside it to debug or read;
/// - socket families are limited to unix, IPv4, IPv6 and netlink's routing protocol;
/// - ioctl TIOCSTI and TIOCLINUX (typing into the terminal) fail with EPERM;
/// - allowed although Docker ties them to a capability: unshare without namespace flags
///   (unshare(CLONE_FS) and friends), get_mempolicy, mbind and set_mempolicy (a process's own
///   NUMA policy); fchmodat2 is newer than that commit.
/// Names this architecture lacks are skipped when the filter is built.
extension SeccompPolicy {
    public static func standard(nestedUserNamespaces: Bool = false) -> SeccompPolicy {
        let policy = "default policy"
        var syscalls = allowed.map { SeccompRule($0, .allow, reason: policy) }
        syscalls += denied.map { SeccompRule($0, .errno(EPERM_), reason: policy) }
        // clone3's flags sit in a struct seccomp cannot read, so without nested namespaces it is
        // ENOSYS and glibc falls back to clone, whose flags the argument filter checks.
        let nested = "seccomp.nested_userns"
        syscalls += namespaceSyscalls.map {
            nestedUserNamespaces ? SeccompRule($0, .allow, reason: nested) : SeccompRule($0, .errno(EPERM_), reason: policy)
        }
        syscalls.append(nestedUserNamespaces ? SeccompRule("clone3", .allow, reason: nested)
                                             : SeccompRule("clone3", .errno(ENOSYS_), reason: policy + " (glibc falls back to clone)"))
        syscalls += [0, 8, 0x20000, 0x20008, 0xffff_ffff].map {
            SeccompRule("personality", .allow, [SeccompCondition(argument: 0, .equal, $0)], reason: policy + " (PER_LINUX, PER_LINUX32, UNAME26, query)")
        }
        syscalls += socketAllowRules(reason: policy)

        let terminal = "default policy (typing into the terminal)"
        var arguments = socketRules(reason: policy) + [0x5412 /* TIOCSTI */, 0x541C /* TIOCLINUX */].map {
            // Only the low 32 bits: the kernel truncates the request (CVE-2019-10063).
            SeccompRule("ioctl", .errno(EPERM_), [SeccompCondition(argument: 1, .maskedEqual(mask: 0xffff_ffff), UInt64($0))], reason: terminal)
        }
        if !nestedUserNamespaces {
            for syscall in ["clone", "unshare"] {
                // unshare also takes CLONE_NEWTIME; for clone that bit is part of the exit signal.
                for flag in namespaceFlags where syscall == "unshare" || flag != 0x80 {
                    arguments.append(SeccompRule(syscall, .errno(EPERM_), [SeccompCondition(argument: 0, .maskedEqual(mask: flag), flag)],
                                                 reason: policy + " (new namespaces; seccomp.nested_userns allows them)"))
                }
            }
        }
        return SeccompPolicy(defaultAction: .errno(ENOSYS_), syscalls: syscalls, arguments: arguments)
    }

    // Glibc's constants, spelled here so the tables read without importing Glibc.
    static let EPERM_: Int32 = 1
    static let ENOSYS_: Int32 = 38
    static let EAFNOSUPPORT_: Int32 = 97
    static let EPROTONOSUPPORT_: Int32 = 93

    /// CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET, NEWTIME.
    static let namespaceFlags: [UInt64] = [0x20000, 0x0200_0000, 0x0400_0000, 0x0800_0000, 0x1000_0000, 0x2000_0000, 0x4000_0000, 0x80]

    /// Allowed only with nested user namespaces (a sandbox inside: bubblewrap, Chromium).
    /// Mounting then works only inside namespaces the sandbox made itself; the sandbox's own
    /// mounts stay locked by the kernel.
    static let namespaceSyscalls = [
        "setns", "mount", "umount", "umount2", "pivot_root", "move_mount", "open_tree",
        "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    ]

    /// unix (1), IPv4 (2), IPv6 (10), and netlink (16) for the routing protocol only (what
    /// getaddrinfo and `ip` use): allowed by value in the syscall filter.
    static func socketAllowRules(reason: String) -> [SeccompRule] {
        [1, 2, 10].map { SeccompRule("socket", .allow, [SeccompCondition(argument: 0, .equal, $0)], reason: reason) }
            + [SeccompRule("socket", .allow, [SeccompCondition(argument: 0, .equal, 16), SeccompCondition(argument: 2, .equal, 0)],
                           reason: reason + " (netlink: routing only)")]
    }

    /// The other families fail with EAFNOSUPPORT, as if the kernel lacked them (AF_VSOCK is a
    /// way out of some VMs, AF_PACKET and AF_KEY are attack surface), and other netlink
    /// protocols with EPROTONOSUPPORT: argument rules, whose errno wins over the syscall
    /// filter's ENOSYS. The families in between by value, everything above netlink (on all 64
    /// bits) with one comparison: a few rules instead of one per family.
    static func socketRules(reason: String) -> [SeccompRule] {
        let family = reason + " (socket family)"
        var rules = ([0] + Array(3...9) + Array(11...15)).map {
            SeccompRule("socket", .errno(EAFNOSUPPORT_), [SeccompCondition(argument: 0, .equal, UInt64($0))], reason: family)
        }
        rules.append(SeccompRule("socket", .errno(EAFNOSUPPORT_), [SeccompCondition(argument: 0, .greater, 16)], reason: family))
        rules.append(SeccompRule("socket", .errno(EPROTONOSUPPORT_), [SeccompCondition(argument: 0, .equal, 16), SeccompCondition(argument: 2, .notEqual, 0)],
                                 reason: reason + " (netlink: routing only)"))
        return rules
    }

    static let denied = [
        "bpf", "perf_event_open", "userfaultfd", "kexec_load", "kexec_file_load",
        "init_module", "finit_module", "delete_module", "keyctl", "add_key", "request_key",
        "io_uring_setup", "io_uring_enter", "io_uring_register",
        "process_vm_writev", "process_madvise", "migrate_pages", "move_pages",
        "acct", "swapon", "swapoff", "reboot", "syslog", "open_by_handle_at", "name_to_handle_at",
        "lookup_dcookie", "quotactl", "quotactl_fd", "vhangup", "chroot", "sethostname",
        "setdomainname", "settimeofday", "clock_settime", "stime", "iopl", "ioperm",
        "fanotify_init", "nfsservctl", "uselib",
    ]

    static let allowed = [
        "accept", "accept4", "access", "adjtimex", "alarm", "arch_prctl", "bind", "brk", "capget", "capset",
        "chdir", "chmod", "chown", "clock_adjtime", "clock_getres", "clock_gettime", "clock_nanosleep",
        "clone", "close", "close_range", "connect", "copy_file_range", "creat", "dup", "dup2", "dup3",
        "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2",
        "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat", "exit", "exit_group",
        "faccessat", "faccessat2", "fadvise64", "fallocate", "fanotify_mark", "fchdir", "fchmod",
        "fchmodat", "fchmodat2", "fchown", "fchownat", "fcntl", "fdatasync", "fgetxattr", "flistxattr",
        "flock", "fork", "fremovexattr", "fsetxattr", "fstat", "fstatfs", "fsync", "ftruncate", "futex",
        "futex_waitv", "futimesat", "get_mempolicy", "get_robust_list", "get_thread_area", "getcpu",
        "getcwd", "getdents", "getdents64", "getegid", "geteuid", "getgid", "getgroups", "getitimer",
        "getpeername", "getpgid", "getpgrp", "getpid", "getppid", "getpriority", "getrandom", "getresgid",
        "getresuid", "getrlimit", "getrusage", "getsid", "getsockname", "getsockopt", "gettid",
        "gettimeofday", "getuid", "getxattr", "inotify_add_watch", "inotify_init", "inotify_init1",
        "inotify_rm_watch", "io_cancel", "io_destroy", "io_getevents", "io_pgetevents", "io_setup",
        "io_submit", "ioctl", "ioprio_get", "ioprio_set", "kcmp", "kill", "landlock_add_rule",
        "landlock_create_ruleset", "landlock_restrict_self", "lchown", "lgetxattr", "link", "linkat",
        "listen", "listxattr", "llistxattr", "lremovexattr", "lseek", "lsetxattr", "lstat", "madvise",
        "mbind", "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir", "mkdirat", "mknod",
        "mknodat", "mlock", "mlock2", "mlockall", "mmap", "modify_ldt", "mprotect", "mq_getsetattr",
        "mq_notify", "mq_open", "mq_timedreceive", "mq_timedsend", "mq_unlink", "mremap", "msgctl",
        "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap", "nanosleep",
        "newfstatat", "open", "openat", "openat2", "pause", "pidfd_getfd", "pidfd_open",
        "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect", "poll", "ppoll",
        "prctl", "pread64", "preadv", "preadv2", "prlimit64", "process_mrelease", "process_vm_readv",
        "pselect6", "ptrace", "pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink",
        "readlinkat", "readv", "recvfrom", "recvmmsg", "recvmsg", "remap_file_pages", "removexattr",
        "rename", "renameat", "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction",
        "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend",
        "rt_sigtimedwait", "rt_tgsigqueueinfo", "sched_get_priority_max", "sched_get_priority_min",
        "sched_getaffinity", "sched_getattr", "sched_getparam", "sched_getscheduler",
        "sched_rr_get_interval", "sched_setaffinity", "sched_setattr", "sched_setparam",
        "sched_setscheduler", "sched_yield", "seccomp", "select", "semctl", "semget", "semop",
        "semtimedop", "sendfile", "sendmmsg", "sendmsg", "sendto", "set_mempolicy", "set_robust_list",
        "set_thread_area", "set_tid_address", "setfsgid", "setfsuid", "setgid", "setgroups", "setitimer",
        "setpgid", "setpriority", "setregid", "setresgid", "setresuid", "setreuid", "setrlimit", "setsid",
        "setsockopt", "setuid", "setxattr", "shmat", "shmctl", "shmdt", "shmget", "shutdown",
        "sigaltstack", "signalfd", "signalfd4", "socketpair", "splice", "stat", "statfs", "statx",
        "symlink", "symlinkat", "sync", "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time",
        "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime", "timer_settime",
        "timerfd_create", "timerfd_gettime", "timerfd_settime", "times", "tkill", "truncate", "umask",
        "uname", "unlink", "unlinkat", "unshare", "utime", "utimensat", "utimes", "vfork", "vmsplice",
        "wait4", "waitid", "write", "writev",
        // aarch64 only; skipped elsewhere.
        "sync_file_range2",
    ]
}
