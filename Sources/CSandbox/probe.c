#define _GNU_SOURCE
#include "sbx_probe.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static int write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    ssize_t length = (ssize_t)strlen(text);
    int rc = write(fd, text, (size_t)length) == length ? 0 : -errno;
    close(fd);
    return rc;
}

// The child's work: 0, or -errno with the step in *step.
static int try_steps(unsigned long flags, const char *overlay_target, const char *overlay_options, int seccomp, int *step,
                     uid_t uid, gid_t gid) {
    *step = SBX_PROBE_UNSHARE;
    if (flags != 0 && unshare((int)flags) != 0) return -errno;
    if (flags & CLONE_NEWUSER) {
        char map[64];
        int rc;
        *step = SBX_PROBE_SETGROUPS;
        if ((rc = write_file("/proc/self/setgroups", "deny")) != 0) return rc;
        *step = SBX_PROBE_UID_MAP;
        snprintf(map, sizeof map, "%u %u 1\n", (unsigned)uid, (unsigned)uid);
        if ((rc = write_file("/proc/self/uid_map", map)) != 0) return rc;
        *step = SBX_PROBE_GID_MAP;
        snprintf(map, sizeof map, "%u %u 1\n", (unsigned)gid, (unsigned)gid);
        if ((rc = write_file("/proc/self/gid_map", map)) != 0) return rc;
    }
    if (flags & CLONE_NEWNS) {
        *step = SBX_PROBE_MOUNT;
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) return -errno;
    }
    if (overlay_target != NULL) {
        *step = SBX_PROBE_OVERLAY;
        if (mount("overlay", overlay_target, "overlay", MS_NOSUID | MS_NODEV, overlay_options) != 0) return -errno;
    }
    if (seccomp) {
        *step = SBX_PROBE_NO_NEW_PRIVS;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -errno;
        *step = SBX_PROBE_SECCOMP;
        struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
        struct sock_fprog program = { 1, &allow };
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program, 0, 0) != 0) return -errno;
    }
    return 0;
}

int sbx_probe(unsigned long flags, const char *overlay_target, const char *overlay_options, int seccomp, int *step) {
    // The uid and gid are read before the fork: in the new user namespace they are unmapped.
    uid_t uid = geteuid();
    gid_t gid = getegid();
    int report[2];
    *step = SBX_PROBE_FORK;
    if (pipe2(report, O_CLOEXEC) != 0) return -errno;
    pid_t pid = fork();
    if (pid < 0) {
        int code = errno;
        close(report[0]);
        close(report[1]);
        return -code;
    }
    if (pid == 0) {
        // Only system calls here: the child of a fork must not rely on the Swift runtime.
        int result[2] = { 0, 0 };
        result[0] = try_steps(flags, overlay_target, overlay_options, seccomp, &result[1], uid, gid);
        ssize_t ignored = write(report[1], result, sizeof result);
        (void)ignored;
        _exit(0);
    }
    close(report[1]);
    int result[2] = { 0, 0 };
    ssize_t n;
    do { n = read(report[0], result, sizeof result); } while (n < 0 && errno == EINTR);
    close(report[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (n != (ssize_t)sizeof result) return -ECHILD;  // the child died before it could say
    *step = result[1];
    return result[0];
}

int sbx_seccomp_mode(void) {
    int mode = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
    return mode < 0 ? -errno : mode;
}
