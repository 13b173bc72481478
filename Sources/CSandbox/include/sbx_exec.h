#pragma once
#include <sys/types.h>

// execvpe(3): searches PATH from `envp`'s caller's environment rules; returns -errno on failure.
int sbx_execvpe(const char *file, char *const argv[], char *const envp[]);

// close_range(from, ~0): closes every fd from `from` up except those in the sorted `keep` list.
void sbx_close_fds_except(int from, const int *keep, int count);

// sethostname(2); returns 0 or -errno.
int sbx_set_hostname(const char *name);
