#pragma once
#include <sys/types.h>
#include <linux/sched.h>

// The namespaces every sandbox gets: user, mount, pid, net, ipc, uts, cgroup.
static const unsigned long long sbx_sandbox_namespaces =
    CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;

// Starts the sandbox's first process with clone3 in the namespaces `clone_flags` names.
// The child is C only (the caller may be multithreaded): it closes `parent_fd` (the caller's
// end of `sync_fd`'s socketpair, so that the caller's death is an EOF on `sync_fd`), asks for
// SIGKILL when the caller dies, writes one byte on `sync_fd`, waits for one byte back (the caller writes the uid/gid
// maps in between), closes every fd except 0-2 and `keep_fds` (sorted ascending), and execs
// `path`. With `cgroup_fd` >= 0 (a cgroup2 directory), the child starts in that cgroup
// (CLONE_INTO_CGROUP). Returns the child's pid, or -errno.
pid_t sbx_spawn_init(unsigned long long clone_flags, int sync_fd, int parent_fd, int cgroup_fd,
                     const int *keep_fds, int keep_count,
                     const char *path, char *const argv[], char *const envp[]);
