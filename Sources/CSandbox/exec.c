#define _GNU_SOURCE
#include "sbx_exec.h"
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

extern char **environ;

int sbx_execvpe(const char *file, char *const argv[], char *const envp[]) {
    // glibc's execvpe searches the caller's PATH, not envp's: the init's own environment is
    // not the command's. With environ replaced (after fork, in the child), execvp searches
    // the command's PATH and keeps glibc's rules (ENOEXEC scripts run with /bin/sh).
    environ = (char **)envp;
    execvp(file, argv);
    return -errno;
}

void sbx_close_fds_except(int from, const int *keep, int count) {
    unsigned int next = (unsigned int)from;
    for (int i = 0; i < count; i++) {
        if (keep[i] < (int)next) continue;
        if ((unsigned int)keep[i] > next) syscall(SYS_close_range, next, (unsigned int)keep[i] - 1, 0);
        next = (unsigned int)keep[i] + 1;
    }
    syscall(SYS_close_range, next, ~0U, 0);
}

int sbx_set_hostname(const char *name) {
    return sethostname(name, strlen(name)) == 0 ? 0 : -errno;
}
