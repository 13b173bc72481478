#define _GNU_SOURCE
#include "sbx_spawn.h"
#include "sbx_exec.h"
#include <errno.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

// A non-root uid loses every capability at execve, even in its own user namespace. The init
// needs them to mount, so they ride through the exec in the ambient set; it drops them all.
static int keep_capabilities_across_exec(void) {
    struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2];
    if (syscall(SYS_capget, &header, data) != 0) return -1;
    data[0].inheritable = data[0].permitted;
    data[1].inheritable = data[1].permitted;
    if (syscall(SYS_capset, &header, data) != 0) return -1;
    for (int cap = 0; cap < 64; cap++) {
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0 && errno == EINVAL) break;
    }
    return 0;
}

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

pid_t sbx_spawn_init(unsigned long long clone_flags, int sync_fd, int parent_fd, int cgroup_fd,
                     const int *keep_fds, int keep_count,
                     const char *path, char *const argv[], char *const envp[]) {
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = clone_flags;
    args.exit_signal = SIGCHLD;
    if (cgroup_fd >= 0) {
        // Born inside the run's cgroup: no moment where the sandbox is outside its limits.
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = (unsigned long long)cgroup_fd;
    }
    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid < 0) return -errno;
    if (pid > 0) return (pid_t)pid;

    // Child: only async-signal-safe calls from here to execve.
    // The parent may die before the death signal is set (it would never come). Closing our
    // copy of the parent's end first leaves the parent the only holder, so then its death is
    // an EOF (or EPIPE) in the handshake below; after PR_SET_PDEATHSIG it is the signal.
    // Without the close, a killed sbx left this child blocked in read() forever, holding the
    // caller's stdout and stderr.
    if (parent_fd >= 0) close(parent_fd);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) _exit(125);
    char byte = 'r';
    if (write(sync_fd, &byte, 1) != 1) _exit(125);
    if (read(sync_fd, &byte, 1) != 1 || byte != 'g') _exit(125);
    if (keep_capabilities_across_exec() != 0) _exit(125);
    sbx_close_fds_except(3, keep_fds, keep_count);
    execve(path, argv, envp);
    _exit(125);
}
